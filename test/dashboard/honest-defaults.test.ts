/**
 * Issue 17's honest defaults on the real database: at quickstart size with a pull-request branch, confirm
 * re-runs, a client-saturated run and a run over 1 % errors, the leaderboard's best figures come from the
 * default branch's ordinary, clean runs; other branches and confirm runs appear only when asked; flagged
 * rows are marked, kept out of picks and fronts; history has one line per branch; the run page has errors
 * by kind and HTTP status and the goodput SLO.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { loadHistory } from '../../dashboard/data/history.ts'
import { loadLeaderboard } from '../../dashboard/data/leaderboard.ts'
import { loadRun } from '../../dashboard/data/run.ts'
import { historyQuery, leaderboardQuery, parseQuery } from '../../dashboard/params.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import {
  CLEAN_TARGETS,
  cleanName,
  type HonestSeed,
  PR_BRANCH,
  SCENARIO,
  seedHonestDefaults,
} from './fixtures/honest-seed.ts'

describe.each(dbBackends())('honest defaults on %s', (backend) => {
  let t: TestDatabase
  let s: HonestSeed
  const savedBranch = process.env.BENCH_DEFAULT_BRANCH

  beforeAll(async () => {
    t = await createTestDatabase(backend)
    s = await seedHonestDefaults(t.db)
  })
  afterAll(async () => {
    await t?.dispose()
  })
  afterEach(() => {
    if (savedBranch === undefined) delete process.env.BENCH_DEFAULT_BRANCH
    else process.env.BENCH_DEFAULT_BRANCH = savedBranch
  })

  const pageText = async (path: string) => {
    const res = await createApp({ db: t.db, auth: {} }).request(path)
    expect(res.status, path).toBe(200)
    return res.text()
  }
  const board = (q: Record<string, string> = {}) =>
    loadLeaderboard(t.db, parseQuery(leaderboardQuery, { scenario: SCENARIO, ...q }))
  const history = async (runId: number, q: Record<string, string> = {}) => {
    const run = await loadRun(t.db, runId)
    return loadHistory(t.db, parseQuery(historyQuery, { fingerprint: run.detail.run.fingerprint, ...q }))
  }

  it('shows main without confirm re-runs; best figures skip flagged rows and are marked', async () => {
    delete process.env.BENCH_DEFAULT_BRANCH
    const m = await board()
    expect(m.view, 'view').toMatchObject({ branch: 'main', fellBack: false, role: 'run' })
    expect(m.rows, 'every main target, one row each').toHaveLength(CLEAN_TARGETS + 2)
    const ids = new Set(m.rows.map((r) => r.runId))
    for (const other of [s.prRun, s.prConfirmRun, s.mainConfirmRun])
      expect(ids.has(other), `run ${other} (PR branch or confirm) not shown`).toBe(false)
    expect(
      m.rows.find((r) => r.targetName === cleanName(1))?.runId,
      'q-01: its own run, not the confirm re-run',
    ).toBe(s.main[cleanName(1)])
    expect(
      m.rows.every((r) => r.gitBranch === 'main' && r.role === 'run'),
      'main, runs only',
    ).toBe(true)

    // The flagged rows are the fastest two, first in the table, marked.
    expect(
      m.rows.slice(0, 2).map((r) => [r.targetName, r.flags]),
      'fastest rows: flagged',
    ).toEqual([
      ['sat', ['client-saturated']],
      ['err', ['errors-over-threshold']],
    ])
    expect(
      m.rows.filter((r) => r.flags.length > 0),
      'only those',
    ).toHaveLength(2)
    expect(m.rows.find((r) => r.targetName === 'err')?.metrics.errorRate?.value, 'err: 2 of 42').toBeCloseTo(
      2 / 42,
      9,
    )

    const q00 = m.rows.find((r) => r.targetName === cleanName(0))!
    expect(m.recommendation.bestThroughput, 'best throughput: q-00 on main').toMatchObject({
      runId: s.main[cleanName(0)],
      label: cleanName(0),
      value: q00.metrics.outputTokensPerS!.value,
    })
    expect(m.recommendation.bestThroughput?.flags, 'a clean pick carries no flags').toBeUndefined()
    expect(m.recommendation.lowestLatency?.runId, 'lowest latency: q-00 on main').toBe(s.main[cleanName(0)])
    expect(m.recommendation.flaggedRows, 'flagged rows left out').toBe(2)
    for (const p of m.pareto)
      for (const flagged of [s.saturatedRun, s.errorRun])
        expect(p.frontRunIds, `${p.id}: flagged run ${flagged} off the front`).not.toContain(flagged)

    // The page says which branch it shows and marks the rows.
    const html = String(await pageText(`/?scenario=${SCENARIO}`))
    expect(html, 'branch shown').toContain(
      'Showing branch main (and runs that recorded no branch), confirmation re-runs left out.',
    )
    expect(html, 'saturated row marked').toMatch(
      new RegExp(`data-run-id="${s.saturatedRun}"[^>]*data-flags="client-saturated"`),
    )
    expect(html, 'error row marked with its rate').toContain('errors 4.8 % &gt; 1 %')
  })

  it('shows other branches and confirm re-runs only when asked', async () => {
    const any = await board({ branch: '*' })
    const q00 = any.rows.find((r) => r.targetName === cleanName(0))!
    expect([q00.runId, q00.gitBranch, q00.role], 'branch=*: the PR run, not its confirm').toEqual([
      s.prRun,
      PR_BRANCH,
      'run',
    ])
    expect(any.recommendation.bestThroughput?.runId, 'asked for every branch: the PR run is best').toBe(
      s.prRun,
    )
    const withConfirm = await board({ branch: '*', role: 'any' })
    expect(
      withConfirm.rows.find((r) => r.targetName === cleanName(0))?.runId,
      'role=any: the confirm re-run is the latest',
    ).toBe(s.prConfirmRun)
    const pr = await board({ branch: PR_BRANCH })
    expect(
      pr.rows.map((r) => r.runId),
      'one branch',
    ).toEqual([s.prRun])
    expect(pr.options.branch, 'picker: every branch of the scenario').toEqual(['main', PR_BRANCH])
  })

  it('follows BENCH_DEFAULT_BRANCH, falls back to every branch with a notice, refuses a bad value', async () => {
    process.env.BENCH_DEFAULT_BRANCH = PR_BRANCH
    const pr = await board()
    expect([pr.view.branch, pr.rows.map((r) => r.runId)], 'default = the PR branch').toEqual([
      PR_BRANCH,
      [s.prRun],
    ])
    process.env.BENCH_DEFAULT_BRANCH = 'trunk'
    const none = await board()
    expect(none.view, 'no run on trunk: every branch, said').toMatchObject({
      branch: null,
      defaultBranch: 'trunk',
      fellBack: true,
    })
    expect(none.rows, 'every target').toHaveLength(CLEAN_TARGETS + 2)
    const explicit = await board({ branch: 'trunk' })
    expect([explicit.rows, explicit.view.fellBack], 'an asked-for branch never falls back').toEqual([
      [],
      false,
    ])
    process.env.BENCH_DEFAULT_BRANCH = 'a*b'
    await expect(board(), 'bad variable').rejects.toThrow(
      /^BENCH_DEFAULT_BRANCH: "a\*b" is not a git branch name/,
    )
  })

  it('draws one history line per branch, the default branch alone by default', async () => {
    const main = await history(s.main[cleanName(0)]!)
    expect([main.lines.map((l) => l.key), main.points.map((p) => p.runId)], 'default: main').toEqual([
      ['main'],
      [s.main[cleanName(0)]],
    ])
    const every = await history(s.main[cleanName(0)]!, { branch: '*' })
    expect(
      every.lines.map((l) => [l.key, l.totalPoints]),
      'branch=*: one line per branch',
    ).toEqual([
      ['main', 1],
      [PR_BRANCH, 1],
    ])
    expect(
      every.points.map((p) => [p.runId, p.line]),
      'points on their lines',
    ).toEqual([
      [s.main[cleanName(0)], 'main'],
      [s.prRun, PR_BRANCH],
    ])
    expect(main.branches, 'branch picker: every branch of the series').toEqual(['main', PR_BRANCH])
    const all = await history(s.main[cleanName(0)]!, { branch: '*', role: 'any' })
    expect(
      all.lines.map((l) => l.key),
      'confirm re-runs: their own line',
    ).toEqual(['main', PR_BRANCH, `${PR_BRANCH} · confirm`])
  })

  it('gives the run page errors by kind and HTTP status and the goodput SLO', async () => {
    const run = await loadRun(t.db, s.errorRun)
    expect(run.errors, 'by kind and status').toEqual([
      { kind: 'http', httpStatus: 429, n: 1 },
      { kind: 'http', httpStatus: 500, n: 1 },
    ])
    expect(run.slo, 'SLO as stored with the run').toEqual({ ttftMs: 80, tpotMs: 8 })
    const html = await pageText(`/runs/${s.errorRun}`)
    expect(html, 'SLO line').toContain('Goodput SLO: ttftMs ≤ 80 ms · tpotMs ≤ 8 ms per request')
    expect(html, 'errors table').toMatch(/<tr data-kind="http" data-status="429">/)
    const runs = await pageText(`/runs?scenario=${SCENARIO}&limit=500`)
    expect(runs, 'runs list: saturated row marked').toMatch(
      new RegExp(`data-run-id="${s.saturatedRun}"[^>]*data-flags="client-saturated"`),
    )
    expect(runs, 'runs list: error row marked').toMatch(
      new RegExp(`data-run-id="${s.errorRun}"[^>]*data-flags="errors-over-threshold"`),
    )
    expect(runs, 'runs list: confirm re-runs tagged').toContain('confirm re-run</span>')
  })
})
