/**
 * Multi-client load (issue 19 item 2) on the embedded database, in one process: a step split between 3
 * clients starts together although its jobs are claimed over a second apart, each client drives a third
 * of the concurrency, and the step's merged percentiles are those of the pooled per-request samples.
 * @module
 */
import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../dashboard/app.ts'
import { queueConnection } from '../../../db/queue/connection.ts'
import { enqueueMatrix } from '../../../db/queue/enqueue.ts'
import { registerJobKind } from '../../../db/queue/kinds.ts'
import { runKind } from '../../../db/queue/run-kind.ts'
import { matrixStatus } from '../../../db/queue/status.ts'
import { startWorker, type WorkerHandle } from '../../../db/queue/worker.ts'
import { requests, runs } from '../../../db/schema.ts'
import { loadScenario } from '../../../harness/config/index.ts'
import { detectEnvironment } from '../../../harness/environment.ts'
import { percentile } from '../../../harness/metrics/percentile.ts'
import type { MockServerHandle } from '../../../harness/mock-server/server.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts'
import { startTinyMock, writeTinyMatrix } from './tiny-matrix.ts'

registerJobKind(runKind)

/** Bounds for a 2-core box under other sessions' load (load average 15–25: a drain took 16 s); quiet, 1–8 s. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('a load step split between 3 clients (PGlite)', () => {
  let t: TestDatabase
  let mock: MockServerHandle
  const workers: WorkerHandle[] = []

  beforeAll(async () => {
    // Lognormal TTFT: samples that differ, so pooled and per-client percentiles differ too.
    ;[t, mock] = await Promise.all([
      createTestDatabase('pglite'),
      startTinyMock({ ttftMs: 20, ttftSigma: 0.5 }),
    ])
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    await Promise.all([t?.dispose(), mock?.close()])
  })

  it('starts together, drives a third each, and merges exactly from the pooled samples', async () => {
    const file = writeTinyMatrix({
      baseUrl: mock.url,
      targets: 1,
      steps: 1,
      concurrency: 3,
      requests: 31,
      name: 'queue-clients',
    })
    const { scenario } = await loadScenario(file)
    const connection = queueConnection(t.db, t.options)
    const queued = await enqueueMatrix(t.db, connection, { scenario, file, clients: 3 })
    expect(queued.jobs).toBe(3)
    const environment = await detectEnvironment()
    // One client's job claimed first; the other two a second later, by a second worker.
    workers.push(await startWorker({ db: t.db, connection, concurrency: 1, environment }))
    await until(
      'the first client claimed',
      async () => (await matrixStatus(t.db, queued.matrixId))?.counts.running === 1,
    )
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    workers.push(await startWorker({ db: t.db, connection, concurrency: 2, environment }))
    await until(
      '3 completed clients',
      async () => (await matrixStatus(t.db, queued.matrixId))?.counts.completed === 3,
    )

    const status = (await matrixStatus(t.db, queued.matrixId))!
    const claims = status.jobs.map((j) => j.startedAt!.getTime())
    expect(Math.max(...claims) - Math.min(...claims)).toBeGreaterThan(1_000)
    const [group] = status.groups
    expect(group).toMatchObject({ clients: 3, requests: 31 })
    expect(group?.completedRuns).toHaveLength(3)
    // Synchronized: the runs' starts (database clock) within a fraction of the claims' spread.
    expect(group?.startSpreadMs).toBeLessThan(500)
    for (const job of status.jobs)
      expect(Math.abs((job.spec as { clockOffsetMs: number }).clockOffsetMs)).toBeLessThan(100)

    // Each client drove concurrency 1 (of 3) and its share of the 31 requests: 11, 10, 10.
    const stored = await t.db
      .select({ id: runs.id, load: runs.load })
      .from(runs)
      .where(inArray(runs.id, group!.completedRuns))
    expect(stored.map((r) => (r.load as { concurrency: number }).concurrency)).toEqual([1, 1, 1])
    expect(stored.map((r) => (r.load as { requests: number }).requests).sort()).toEqual([10, 10, 11])

    // The merged figures are the percentiles of the pooled samples, read here run by run.
    const perRun: number[][] = []
    for (const id of group!.completedRuns) {
      const rows = await t.db
        .select({ ttftMs: requests.ttftMs })
        .from(requests)
        .where(and(eq(requests.runId, id), eq(requests.state, 'ok')))
      perRun.push(rows.map((r) => r.ttftMs!))
    }
    const pool = perRun.flat().sort((a, b) => a - b)
    expect(pool).toHaveLength(31)
    expect(group?.ttftMs).toEqual({
      p50: percentile(pool, 50),
      p90: percentile(pool, 90),
      p99: percentile(pool, 99),
    })
    // …which is not what averaging the clients' own percentiles gives.
    const meanOfP99 =
      perRun
        .map((s) =>
          percentile(
            [...s].sort((a, b) => a - b),
            99,
          ),
        )
        .reduce((a, b) => a + b, 0) / perRun.length
    expect(group?.ttftMs?.p99).not.toBeCloseTo(meanOfP99, 6)

    // The dashboard's matrix page shows the merged figures.
    const page = await (
      await createApp({ db: t.db, auth: { token: 'x'.repeat(32) }, cache: false }).request(
        `/matrices/${queued.matrixId}`,
      )
    ).text()
    expect(page).toContain('id="matrix-groups"')
    expect(page).toContain(`<td class="num">${group!.ttftMs!.p99.toFixed(1)}</td>`)
  }, 90_000)
})
