/**
 * Checklist runs (`bench checklist` stores scenario `checklist`) and micro runs rank nothing: no row of a
 * leaderboard, procurement page or variant table, no entry in their scenario pickers, never their default
 * scenario even when they ran last — and still on the runs list and their own pages.
 */
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { leaderboard } from '../../db/queries/leaderboard.ts'
import { getJson } from '../helpers/app-json.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { CHAT, CHECKLIST, type KindsSeed, MICRO, seedKinds } from './fixtures/kinds-seed.ts'

describe.each(dbBackends())('checklist and micro runs off the leaderboards on %s', (backend) => {
  let t: TestDatabase
  let s: KindsSeed
  let app: Hono

  beforeAll(async () => {
    delete process.env.BENCH_DEFAULT_BRANCH
    t = await createTestDatabase(backend)
    // Written in this order: load step, accuracy, quality (CHAT), micro, then the checklists (newest).
    s = await seedKinds(t.db)
    app = createApp({ db: t.db, auth: {} })
  }, 60_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('the leaderboard query has no row of a passed checklist or a micro run', async () => {
    expect(await leaderboard(t.db, { scenario: CHECKLIST }), 'checklist scenario').toEqual([])
    expect(await leaderboard(t.db, { scenario: MICRO }), 'micro scenario').toEqual([])
    const chat = await leaderboard(t.db, { scenario: CHAT })
    expect(chat.map((r) => r.runId).sort(), 'load step, accuracy and quality runs stay').toEqual(
      [s.load, s.accuracy, s.quality].sort(),
    )
  })

  it('ranking pages neither list nor default to the checklist scenario, and say where its runs are', async () => {
    for (const path of ['/api/leaderboard', '/api/procurement', '/api/variants']) {
      const m = await getJson<{ scenario: string; scenarios: { name: string }[] }>(app, path)
      expect(m.scenario, `${path}: default is the newest ranked scenario`).toBe(CHAT)
      expect(
        m.scenarios.map((x) => x.name),
        `${path}: picker`,
      ).toEqual([CHAT])
    }
    const nf = await getJson<{ problems: string[] }>(app, `/api/leaderboard?scenario=${CHECKLIST}`, 404)
    expect(nf.problems, 'why and where').toEqual([
      'scenario "checklist" has no completed run to rank: its runs are checklist or micro runs, listed at /runs?scenario=checklist',
    ])
    const unknown = await getJson<{ problems: string[] }>(app, '/api/leaderboard?scenario=nope', 404)
    expect(unknown.problems, 'an unknown scenario keeps its message').toEqual([
      'no completed runs of scenario "nope"',
    ])
  })

  it('the runs list and run pages keep them', async () => {
    const list = await getJson<{ runs: { id: number }[]; scenarios: string[] }>(
      app,
      `/api/runs?scenario=${CHECKLIST}`,
    )
    expect(list.runs.map((r) => r.id).sort(), 'both checklist runs listed').toEqual(
      [s.checklist, s.checklistFailed].sort(),
    )
    expect(list.scenarios, 'runs list picker keeps every scenario').toEqual(
      expect.arrayContaining([CHAT, MICRO, CHECKLIST]),
    )
    for (const id of [s.checklist, s.micro])
      expect((await app.request(`/runs/${id}`)).status, `run page ${id}`).toBe(200)
  })
})
