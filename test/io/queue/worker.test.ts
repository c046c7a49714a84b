/**
 * The queue end to end in one process, on each database backend: bench enqueue's splitting, a worker
 * draining a matrix into ordinary runs (one completed run per job, stored as bench run stores the step),
 * tag routing, and retries with backoff until a job is dead. The multi-process kill test is
 * test/e2e/queue-kill.test.ts.
 * @module
 */
import { EventEmitter } from 'node:events'
import { eq, sql } from 'drizzle-orm'
import type { WorkerEvents } from 'graphile-worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../dashboard/app.ts'
import { selectRows } from '../../../db/client.ts'
import { cancelMatrix } from '../../../db/queue/cancel.ts'
import { queueConnection } from '../../../db/queue/connection.ts'
import { enqueueMatrix } from '../../../db/queue/enqueue.ts'
import { registerJobKind } from '../../../db/queue/kinds.ts'
import { runKind } from '../../../db/queue/run-kind.ts'
import { matrixStatus } from '../../../db/queue/status.ts'
import { startWorker, type WorkerHandle } from '../../../db/queue/worker.ts'
import { runs } from '../../../db/schema.ts'
import { loadScenario, scenarioHash } from '../../../harness/config/index.ts'
import { detectEnvironment } from '../../../harness/environment.ts'
import type { MockServerHandle } from '../../../harness/mock-server/server.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../../helpers/db.ts'
import { startTinyMock, writeTinyMatrix } from './tiny-matrix.ts'

registerJobKind(runKind)

/** Bounds for a 2-core box under other sessions' load (load average 15–25: a drain took 16 s); quiet, 1–8 s. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.each(dbBackends())('queue on %s', (backend) => {
  let t: TestDatabase
  let mock: MockServerHandle
  let failing: MockServerHandle
  const workers: WorkerHandle[] = []
  const environment = detectEnvironment()

  beforeAll(async () => {
    ;[t, mock, failing] = await Promise.all([
      createTestDatabase(backend),
      startTinyMock(),
      startTinyMock({ rate500: 1 }),
    ])
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    await Promise.all([t?.dispose(), mock?.close(), failing?.close()])
  })

  const connection = () => queueConnection(t.db, t.options)
  const worker = async (tags: string[] = [], concurrency = 2, events?: WorkerEvents) => {
    const w = await startWorker({
      db: t.db,
      connection: connection(),
      tags,
      concurrency,
      environment: await environment,
      events,
    })
    workers.push(w)
    return w
  }

  it('a worker drains a matrix: exactly one completed run per job, stored as bench run stores that step', async () => {
    const file = writeTinyMatrix({ baseUrl: mock.url, targets: 2, steps: 2 })
    const { scenario } = await loadScenario(file)
    const queued = await enqueueMatrix(t.db, connection(), { scenario, file, label: '<i>q1</i>' })
    expect(queued.jobs).toBe(4)
    const w = await worker()
    await until(
      '4 completed jobs',
      async () => (await matrixStatus(t.db, queued.matrixId))?.counts.completed === 4,
    )
    await w.stop()
    const status = await matrixStatus(t.db, queued.matrixId)
    expect(status?.counts).toMatchObject({ completed: 4, dead: 0, total: 4 })
    for (const job of status?.jobs ?? []) {
      expect(job.runIds).toEqual([job.runId])
      const [run] = await t.db
        .select()
        .from(runs)
        .where(eq(runs.id, job.runId ?? -1))
      expect(run).toMatchObject({
        state: 'completed',
        targetName: job.targetName,
        loadIndex: job.loadIndex,
        // The whole scenario's hash: comparable with a bench run of the same scenario.
        scenarioHash: scenarioHash(scenario),
        invocationId: queued.invocationId,
        label: '<i>q1</i>',
      })
    }
    expect(status?.workers.map((x) => x.state)).toEqual(['stopped'])
    // The dashboard's pages: progress, every job linked to its run, the label escaped.
    const app = createApp({ db: t.db, auth: { token: 'x'.repeat(32) }, cache: false })
    const list = await (await app.request('/matrices')).text()
    expect(list).toContain(`href="/matrices/${queued.matrixId}"`)
    expect(list).toContain('4/4 completed')
    expect(list).toContain('&lt;i&gt;q1&lt;/i&gt;')
    expect(list).not.toContain('<i>q1')
    const one = await app.request(`/matrices/${queued.matrixId}`)
    expect(one.status).toBe(200)
    const body = await one.text()
    for (const job of status?.jobs ?? []) expect(body).toContain(`href="/runs/${job.runId}"`)
    expect((await app.request('/matrices/999999')).status).toBe(404)
  }, 90_000)

  it('tags route jobs: a job requiring gpu=h100 runs only on a worker that has it', async () => {
    const file = writeTinyMatrix({ baseUrl: mock.url, targets: 1, steps: 3, name: 'queue-tags' })
    const { scenario } = await loadScenario(file)
    const plain = await worker([])
    const h100 = await worker(['gpu=h100', 'region=eu'])
    const queued = await enqueueMatrix(t.db, connection(), { scenario, file, requiredTags: ['gpu=h100'] })
    await until(
      '3 completed jobs',
      async () => (await matrixStatus(t.db, queued.matrixId))?.counts.completed === 3,
    )
    const status = await matrixStatus(t.db, queued.matrixId)
    expect(new Set(status?.jobs.map((j) => j.workerId))).toEqual(new Set([h100.id]))
    await Promise.all([plain.stop(), h100.stop()])
  }, 90_000)

  it('a cancelled matrix runs no more jobs: they are dead with the reason, and no worker claims them', async () => {
    const file = writeTinyMatrix({ baseUrl: mock.url, targets: 1, steps: 3, name: 'queue-cancel' })
    const { scenario } = await loadScenario(file)
    const queued = await enqueueMatrix(t.db, connection(), { scenario, file })
    expect(await cancelMatrix(t.db, queued.matrixId)).toEqual({ cancelled: 3, running: 0 })
    // A worker looking through it finds nothing to claim: each of its 2 loops' first look comes back empty
    // (a claimable job would start there instead), seen through graphile-worker's events, not a fixed wait.
    const events = new EventEmitter() as WorkerEvents
    let looked = 0
    const lookedTwice = new Promise<void>((resolve) => {
      const look = () => {
        if (++looked === 2) resolve()
      }
      events.on('worker:getJob:empty', look)
      events.on('job:start', look)
    })
    const w = await worker([], 2, events)
    await lookedTwice
    await w.stop()
    const status = await matrixStatus(t.db, queued.matrixId)
    expect(status?.counts).toMatchObject({ dead: 3, completed: 0, total: 3 })
    expect(
      status?.jobs.every((j) => j.lastError === 'cancelled' && j.attempts === 0 && j.runIds.length === 0),
    ).toBe(true)
    // Failed for good in graphile-worker's own table: no worker will ever claim them.
    const ids = status?.jobs.map((j) => j.queueJobId).join(',')
    const queue = await selectRows<{ last_error: string }>(
      t.db,
      sql`select last_error from graphile_worker.jobs where id = any(${`{${ids}}`}::bigint[]) and attempts = max_attempts`,
    )
    expect(queue.map((q) => q.last_error)).toEqual(['cancelled', 'cancelled', 'cancelled'])
  }, 90_000)

  it.concurrent('a job that keeps failing is retried after a backoff, then dead with its last error', async () => {
    const file = writeTinyMatrix({ baseUrl: failing.url, targets: 1, steps: 1, name: 'queue-dead' })
    const { scenario } = await loadScenario(file)
    const w = await worker(['test=dead'])
    const started = Date.now()
    const queued = await enqueueMatrix(t.db, connection(), {
      scenario,
      file,
      maxAttempts: 2,
      requiredTags: ['test=dead'],
    })
    await until('a dead job', async () => (await matrixStatus(t.db, queued.matrixId))?.counts.dead === 1)
    // graphile-worker's backoff after the first failure: e^1 s.
    expect(Date.now() - started).toBeGreaterThan(2_500)
    await w.stop()
    const [job] = (await matrixStatus(t.db, queued.matrixId))?.jobs ?? []
    expect(job).toMatchObject({ state: 'dead', attempts: 2, runId: null })
    expect(job?.runIds).toHaveLength(2)
    expect(job?.lastError).toMatch(/error rate/)
    const failed = await t.db
      .select({ state: runs.state })
      .from(runs)
      .where(eq(runs.invocationId, queued.invocationId))
    expect(failed.map((r) => r.state)).toEqual(['failed', 'failed'])
  }, 90_000)

  // The two tests that wait out graphile-worker's backoff (e^1 s, fixed in its SQL) run at once: each job
  // requires a tag only its own test's worker has, so neither worker claims (or interrupts) the other's job.
  it.concurrent('an attempt that completed its run but died before marking the job: the retry adopts that run', async () => {
    const file = writeTinyMatrix({ baseUrl: mock.url, targets: 1, steps: 1, name: 'queue-adopt' })
    const { scenario } = await loadScenario(file)
    // The run kind, then a failure after its run completed (a worker lost between the run's finish and the job's).
    let attempts = 0
    registerJobKind({
      kind: 'run',
      async run(attempt) {
        // Only this test's job: the concurrent test's job runs as ever.
        if (attempt.matrix.scenarioName !== 'queue-adopt') return runKind.run(attempt)
        attempts++
        const result = await runKind.run(attempt)
        throw new Error(`lost after run ${result.runId} ${result.state}`)
      },
    })
    try {
      const w = await worker(['test=adopt'])
      const queued = await enqueueMatrix(t.db, connection(), { scenario, file, requiredTags: ['test=adopt'] })
      await until(
        'the job completed',
        async () => (await matrixStatus(t.db, queued.matrixId))?.counts.completed === 1,
      )
      await w.stop()
      const [job] = (await matrixStatus(t.db, queued.matrixId))?.jobs ?? []
      expect(attempts).toBe(1)
      expect(job).toMatchObject({ state: 'completed', attempts: 2 })
      expect(job?.runIds).toEqual([job?.runId])
    } finally {
      registerJobKind(runKind)
    }
  }, 90_000)
})
