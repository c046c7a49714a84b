/**
 * Writes under /api: refused without a configured token (403, saying how to set BENCH_TOKEN), 401 without
 * or with a wrong bearer token, applied with the right one; the label endpoint's validation. (The OpenAPI
 * document against the routes: test/dashboard/openapi.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { tokenMatches } from '../../dashboard/auth.ts'
import type { RunModel } from '../../dashboard/data/run.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

const TOKEN = 's3cret-token'

describe.each(dbBackends())('dashboard writes on %s', (backend) => {
  let t: TestDatabase
  let runId: number
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    ;[runId] = (await seedRuns(t.db, [{ tag: 5, startedAtIso: '2026-11-20T10:00:00Z' }])) as [number]
  })
  afterAll(async () => {
    await t?.dispose()
  })

  const label = (
    app: ReturnType<typeof createApp>,
    body: unknown,
    headers: Record<string, string> = {},
    id = runId,
  ) =>
    app.request(`/api/runs/${id}/label`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const storedLabel = async (app: ReturnType<typeof createApp>) =>
    ((await (await app.request(`/api/runs/${runId}`)).json()) as RunModel).detail.run.label

  it('refuses every write when no token is configured, and says how to configure one', async () => {
    const app = createApp({ db: t.db, auth: {} })
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const res = await label(app, { label: 'x' }, headers)
      expect(res.status, 'forbidden').toBe(403)
      const body = (await res.json()) as { problems: string[] }
      expect(body.problems[0], 'how to enable writes').toContain('BENCH_TOKEN')
    }
    expect(
      (
        await createApp({ db: t.db, auth: { token: '' } }).request(`/api/runs/${runId}/label`, {
          method: 'POST',
        })
      ).status,
      'empty token = none',
    ).toBe(403)
    expect(await storedLabel(app), 'unchanged').toBeNull()
    expect((await app.request('/api/runs')).status, 'reads stay open').toBe(200)
  })

  it('needs the configured bearer token', async () => {
    const app = createApp({ db: t.db, auth: { token: TOKEN } })
    const missing = await label(app, { label: 'x' })
    expect(missing.status, 'no header').toBe(401)
    expect(missing.headers.get('www-authenticate'), 'challenge').toBe('Bearer realm="bench"')
    expect((await label(app, { label: 'x' }, { authorization: 'Bearer wrong' })).status, 'wrong token').toBe(
      401,
    )
    expect(
      (await label(app, { label: 'x' }, { authorization: `Bearer ${TOKEN}x` })).status,
      'longer token',
    ).toBe(401)
    expect(
      (await label(app, { label: 'x' }, { authorization: `Basic ${TOKEN}` })).status,
      'other scheme',
    ).toBe(401)
    expect(await storedLabel(app), 'unchanged').toBeNull()

    const ok = await label(app, { label: 'nightly <baseline>' }, { authorization: `Bearer ${TOKEN}` })
    expect(ok.status, 'with the token').toBe(200)
    expect(await ok.json(), 'answer').toEqual({ runId, label: 'nightly <baseline>' })
    expect(await storedLabel(app), 'stored').toBe('nightly <baseline>')
    expect(
      (await label(app, { label: '' }, { authorization: `bearer ${TOKEN}` })).status,
      'scheme is case-insensitive',
    ).toBe(200)
    expect(await storedLabel(app), 'empty clears').toBeNull()
  })

  it('validates the body and the run', async () => {
    const app = createApp({ db: t.db, auth: { token: TOKEN } })
    const auth = { authorization: `Bearer ${TOKEN}` }
    const problems = async (res: Response) => ((await res.json()) as { problems: string[] }).problems
    const long = await label(app, { label: 'x'.repeat(201) }, auth)
    expect([long.status, await problems(long)], 'too long').toEqual([400, ['label: at most 200 characters']])
    const notJson = await label(app, '{label:', auth)
    expect([notJson.status, await problems(notJson)], 'not JSON').toEqual([
      400,
      ['body: expected a JSON object'],
    ])
    expect((await label(app, { name: 'x' }, auth)).status, 'no label field').toBe(400)
    expect((await label(app, { label: 42 }, auth)).status, 'not a string').toBe(400)
    expect((await label(app, { label: 'a\u0000b' }, auth)).status, 'control character').toBe(400)
    expect((await label(app, { label: 'x' }, auth, 999_999)).status, 'unknown run').toBe(404)
    const huge = await label(app, { label: 'x'.repeat(20_000) }, auth)
    expect([huge.status, (await problems(huge))[0]], 'body limit').toEqual([
      400,
      'body: larger than 16384 bytes',
    ])
    const nulled = await label(app, { label: null }, auth)
    expect(nulled.status, 'null clears').toBe(200)
  })
})

describe.each(dbBackends())('cached reads on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    await seedRuns(t.db, [{ tag: 5, startedAtIso: '2026-11-20T10:00:00Z' }])
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('follow the data: a new run shows up on the next read after the version check', async () => {
    const app = createApp({ db: t.db, auth: {} })
    const scenarios = async () =>
      (
        (await (await app.request('/api/leaderboard')).json()) as { scenarios: { name: string }[] }
      ).scenarios.map((x) => x.name)
    expect(await scenarios(), 'before').toEqual(['db-test'])
    await seedRuns(t.db, [
      {
        tag: 6,
        startedAtIso: '2026-11-21T10:00:00Z',
        meta: { scenario: { name: 'later', hash: 'scenario-hash-later', source: {} } },
      },
    ])
    // The version is read at most every 250 ms.
    await new Promise((r) => setTimeout(r, 300))
    expect(await scenarios(), 'after').toEqual(['later', 'db-test'])
    const series = (await (await app.request('/api/series')).json()) as { series: unknown[] }
    expect(series.series, 'series list too').toHaveLength(2)
  })
})

describe('constant-time token comparison', () => {
  it('matches equal tokens only, whatever their lengths', () => {
    expect(tokenMatches('abc', 'abc'), 'equal').toBe(true)
    expect(tokenMatches('abc', 'abd'), 'same length').toBe(false)
    expect(tokenMatches('abc', 'abcd'), 'prefix').toBe(false)
    expect(tokenMatches('', 'abc'), 'empty').toBe(false)
  })
})
