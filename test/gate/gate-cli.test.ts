/**
 * The CI gate end to end: real `bench run` and `bench gate` child processes, a real mock endpoint over
 * HTTP, a real database (PGlite always, PostgreSQL too with DATABASE_URL). The mock listens on the same
 * port throughout, so the stored engine options (the base URL) and therefore the fingerprint are the same
 * while its TTFT changes under it — a regression in "the engine", as CI would see one.
 *
 * The gated figure is ttftMsMin: on this shared 2-core machine a scheduler stall can add 10 ms to a whole
 * short run's p50 (measured: a 20 ms mock read 29.9 ms p50 under load average 5.5), while the fastest
 * request of 16 stays at the mock's delay plus the client's floor — the "best of" that Conbench uses.
 *
 * The runs it gates are made in this process the way `bench run` makes them (./bench-run.ts) over HTTP to
 * the mock; the real CLI runs `bench gate`, which starts the confirmation re-run as a `bench run` child.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { listAlerts } from '../../db/gate/alerts.ts'
import { runLimits, runs } from '../../db/schema.ts'
import { type MockServerHandle, startMockServer } from '../../harness/mock-server/server.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends, testTmpRoot } from '../helpers/db.ts'
import { benchRun } from './bench-run.ts'

const MAIN = 'a'.repeat(40)
const PR_SLOW = 'b'.repeat(40)
const PR_SAME = 'c'.repeat(40)
const PR_OTHER_LOAD = 'd'.repeat(40)

function scenario(baseUrl: string, load: unknown) {
  return {
    name: 'gate-e2e',
    seed: 1,
    prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4, count: 4 },
    targets: [{ name: 'mock', engine: { kind: 'openai', model: 'mock-model', baseUrl } }],
    loads: [load],
    warmupRequests: 1,
  }
}

function startMock(ttftMs: number, port = 0): Promise<MockServerHandle> {
  return startMockServer({ ttft: { kind: 'fixed', ms: ttftMs }, itl: { kind: 'fixed', ms: 1 } }, { port })
}

describe.each(dbBackends())('bench gate end to end (%s)', (backend) => {
  it('fails on a slower TTFT, passes on the same, refuses another load, and never baselines re-runs', async () => {
    // PGlite hosted in a worker thread, as bench run hosts it: its queries (the sink's, the gates') are
    // synchronous WebAssembly, and this thread serves the mock and stamps the seeded runs' chunks.
    const t = await createTestDatabase(backend, { embeddedHost: 'worker' })
    const dir = await mkdtemp(path.join(testTmpRoot(), 'bench-gate-'))
    const dbFlag = t.options.url ?? t.options.dataDir ?? ''
    let mock = await startMock(20)
    const port = mock.port
    try {
      const file = path.join(dir, 'scenario.json')
      await writeFile(file, JSON.stringify(scenario(mock.url, { kind: 'sequential', requests: 16 })))
      const run = (flags: { commit: string; branch: string; mergeBase?: string; repeat?: number }) =>
        benchRun(t.db, file, { cwd: process.cwd(), ...flags })
      const gate = (...args: string[]) =>
        runCli(['gate', '--db', dbFlag, '--metric', 'ttftMsMin', '--min-effect', '0.15', ...args], {
          env: { GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md') },
        })

      expect(await run({ branch: 'main', commit: MAIN, repeat: 6 }), 'baseline runs').toHaveLength(6)

      // The PR's engine got slower: 30 ms TTFT on the same endpoint.
      await mock.close()
      mock = await startMock(30, port)
      await run({ branch: 'pr', commit: PR_SLOW, mergeBase: MAIN })
      const failed = await gate('--commit', PR_SLOW, '--scenario', file, '--confirm', '1')
      expect(failed.code, `regression exit code (stdout: ${failed.stdout} stderr: ${failed.stderr})`).toBe(2)
      expect(failed.stdout, 'table names ttft').toMatch(
        /\| ttftMsMin \| 3\d\.\d+ \(n=2\) \| 2\d\.\d+ \(n=6\) \|.*regression/,
      )
      expect(failed.stderr, 'stderr names ttft').toMatch(/regression in mock · sequential ttftMsMin/)
      expect(failed.stdout, 'start point').toMatch(/main up to the merge-base aaaaaaaaaaaa/)
      const summary = await readFile(path.join(dir, 'summary.md'), 'utf8')
      expect(summary, 'job summary appended').toMatch(/\| ttftMsMin \|.*regression/)

      const confirmRuns = await t.db.select({ id: runs.id }).from(runs).where(eq(runs.role, 'confirm'))
      expect(confirmRuns.length, 'one confirmation re-run, stored as such').toBe(1)
      const alerts = await listAlerts(t.db, { state: 'active' })
      expect(
        alerts.map((a) => a.metric),
        'one active alert',
      ).toEqual(['ttftMsMin'])
      const limits = await t.db.select().from(runLimits).where(eq(runLimits.metric, 'ttftMsMin'))
      expect(limits.length, 'limits stored for the candidate').toBe(1)
      expect(limits[0]?.verdict, 'stored verdict').toBe('regression')
      expect(limits[0]?.baselineN, 'stored baseline n').toBe(6)
      // The decision band: at least 15 % (--min-effect) above the baseline, and below the slow candidate.
      const [limit] = limits
      expect(limit?.upper ?? 0, 'upper limit ≥ baseline + 15 %').toBeGreaterThanOrEqual(
        (limit?.baseline ?? 99) * 1.15,
      )
      expect(limit?.upper ?? 99, 'upper limit below the candidate').toBeLessThan(limit?.candidate ?? 0)

      // Back to 20 ms: passes, and the 30 ms confirmation re-run is not in its baseline (still 6 points).
      await mock.close()
      mock = await startMock(20, port)
      await run({ branch: 'pr', commit: PR_SAME, mergeBase: MAIN })
      // Another load is another fingerprint: refused, naming the dimension.
      await writeFile(
        file,
        JSON.stringify(scenario(mock.url, { kind: 'concurrent', concurrency: 2, requests: 16 })),
      )
      await run({ branch: 'pr', commit: PR_OTHER_LOAD, mergeBase: MAIN })
      // Both gates at once: each judges its own commit's run and measures nothing.
      const [passed, refused] = await Promise.all([
        gate('--commit', PR_SAME),
        gate('--commit', PR_OTHER_LOAD),
      ])
      expect(passed.code, `pass exit code (stdout: ${passed.stdout} stderr: ${passed.stderr})`).toBe(0)
      expect(passed.stdout, 'ok verdict, baseline of 6').toMatch(
        /\| ttftMsMin \| 2\d\.\d+ \| 2\d\.\d+ \(n=6\) \|.*ok/,
      )
      expect(refused.code, `refused exit code (stdout: ${refused.stdout})`).toBe(1)
      expect(refused.stderr, 'names the load, baseline first, on its own line').toMatch(
        /\(main vs candidate\):\n {2}load: sequential vs concurrent 2\n/,
      )
    } finally {
      await mock.close()
      await t.dispose()
    }
  }, 120_000)
})
