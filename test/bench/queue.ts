/**
 * Queue benchmark (issue 19): jobs/s claimed and completed by 1, 2 and 4 workers, and the claim latency
 * (graphile-worker's get-job query: from a worker asking to the job starting) p50/p99, on
 *
 * - trivial jobs: a no-op task, graphile-worker alone (the queue engine's own ceiling);
 * - real jobs: our `run` jobs (db/queue/worker.ts) — a 2-request run against a mock server (in this process,
 *   5 ms to first token) each, written as an ordinary run (run row, 2 request rows, metrics) — what a
 *   matrix costs per job beyond the engine's own time.
 *
 * A "worker" is one graphile-worker pool of concurrency 1, as `bench worker` runs one per process; here all
 * pools share this Node process (they meet only in the database; the real jobs' mock servers run in threads).
 * Workers start first and wait on an empty queue; the clock starts when the enqueue commits, so start-up is
 * not counted. PostgreSQL wakes them with LISTEN/NOTIFY; PGlite cannot deliver notifications through its
 * socket (db/queue/README.md), so there they poll every 200 ms.
 *
 *   npm run -s bench:queue [-- --json] [-- --backends postgres,pglite --trivial 2000 --real 24 --workers 1,2,4]
 *
 * PostgreSQL: DATABASE_URL when set (a fresh database, dropped after), else a throwaway cluster
 * (test/bench/backends.ts). Timings on a shared 2-core box: read them with the load average printed.
 */
import { EventEmitter } from 'node:events'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { run, type WorkerEvents } from 'graphile-worker'
import type { Database } from '../../db/client.ts'
import {
  installQueue,
  type QueueConnection,
  queueConnection,
  quietLogger,
} from '../../db/queue/connection.ts'
import { enqueueMatrix } from '../../db/queue/enqueue.ts'
import { registerJobKind } from '../../db/queue/kinds.ts'
import { runKind } from '../../db/queue/run-kind.ts'
import { matrixStatus } from '../../db/queue/status.ts'
import { POLL_MS, startWorker } from '../../db/queue/worker.ts'
import { loadScenario } from '../../harness/config/index.ts'
import { detectEnvironment } from '../../harness/environment.ts'
import { percentile } from '../../harness/metrics/percentile.ts'
import { startTinyMock, writeTinyMatrix } from '../io/queue/tiny-matrix.ts'
import { openBackend } from './backends.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'postgres,pglite' },
    trivial: { type: 'string', default: '2000' },
    real: { type: 'string', default: '24' },
    workers: { type: 'string', default: '1,2,4' },
  },
})
const log = (line: string) => process.stderr.write(`${line}\n`)
const counts = (args.workers ?? '1,2,4').split(',').map(Number)

interface Measured {
  backend: string
  jobs: 'trivial' | 'real'
  workers: number
  n: number
  /** Jobs claimed per second, from the enqueue's commit to the last claim. */
  claimedPerS: number
  /** Jobs completed per second, from the enqueue's commit to the last completion. */
  completedPerS: number
  /** The get-job query per claimed job (worker asks → job starts), ms. */
  claimP50Ms: number
  claimP99Ms: number
}

/** Claim latencies and claim/complete times from graphile-worker's events. */
function observe(events: WorkerEvents) {
  const asked = new Map<unknown, number>()
  const claims: number[] = []
  const claimedAt: number[] = []
  const completedAt: number[] = []
  events.on('worker:getJob:start', ({ worker }) => asked.set(worker, performance.now()))
  events.on('job:start', ({ worker }) => {
    const now = performance.now()
    const t = asked.get(worker)
    if (t !== undefined) claims.push(now - t)
    claimedAt.push(now)
  })
  events.on('job:complete', () => completedAt.push(performance.now()))
  return { claims, claimedAt, completedAt }
}

function summarize(
  base: Omit<Measured, 'claimedPerS' | 'completedPerS' | 'claimP50Ms' | 'claimP99Ms'>,
  t0: number,
  seen: ReturnType<typeof observe>[],
): Measured {
  const claims = seen.flatMap((s) => s.claims).sort((a, b) => a - b)
  const lastClaim = Math.max(...seen.flatMap((s) => s.claimedAt))
  const lastDone = Math.max(...seen.flatMap((s) => s.completedAt))
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
  return {
    ...base,
    claimedPerS: round(base.n / ((lastClaim - t0) / 1000)),
    completedPerS: round(base.n / ((lastDone - t0) / 1000)),
    claimP50Ms: round(percentile(claims, 50), 2),
    claimP99Ms: round(percentile(claims, 99), 2),
  }
}

async function trivial(
  db: Database,
  connection: QueueConnection,
  backend: string,
  workers: number,
  n: number,
) {
  let done = 0
  let allDone: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    allDone = resolve
  })
  const seen: ReturnType<typeof observe>[] = []
  const runners = []
  for (let i = 0; i < workers; i++) {
    const events = new EventEmitter() as WorkerEvents
    seen.push(observe(events))
    runners.push(
      await run({
        ...connection.options,
        concurrency: 1,
        maxPoolSize: 3,
        noHandleSignals: true,
        pollInterval: POLL_MS[connection.backend as 'postgres' | 'pglite'],
        crontab: '',
        logger: quietLogger,
        events,
        taskList: {
          noop: async () => {
            if (++done === n) allDone()
          },
        },
      }),
    )
  }
  await db.execute(
    sql`select graphile_worker.add_jobs((select array_agg(row('noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec) from generate_series(1, ${n})))`,
  )
  const t0 = performance.now()
  await finished
  const m = summarize({ backend, jobs: 'trivial', workers, n }, t0, seen)
  await Promise.all(runners.map((r) => r.stop()))
  return m
}

async function real(db: Database, connection: QueueConnection, backend: string, workers: number, n: number) {
  const environment = await detectEnvironment()
  const seen: ReturnType<typeof observe>[] = []
  const handles = []
  for (let i = 0; i < workers; i++) {
    const events = new EventEmitter() as WorkerEvents
    seen.push(observe(events))
    handles.push(await startWorker({ db, connection, concurrency: 1, environment, events }))
  }
  const mock = await startTinyMock()
  // One untimed job first: the process's first run loads the engine and prompt modules (~1 s here).
  await drain(db, connection, mock.url, 1, `queue-bench-warmup-${workers}`)
  for (const s of seen) for (const list of [s.claims, s.claimedAt, s.completedAt]) list.length = 0
  const file = writeTinyMatrix({
    baseUrl: mock.url,
    targets: 4,
    steps: Math.ceil(n / 4),
    requests: 2,
    name: `queue-bench-${workers}`,
  })
  const { scenario } = await loadScenario(file)
  const queued = await enqueueMatrix(db, connection, { scenario, file })
  const t0 = performance.now()
  await untilDone(db, queued.matrixId)
  const m = summarize({ backend, jobs: 'real', workers, n: queued.jobs }, t0, seen)
  await Promise.all(handles.map((h) => h.stop()))
  await mock.close()
  return m
}

async function untilDone(db: Database, matrixId: number): Promise<void> {
  for (;;) {
    const status = await matrixStatus(db, matrixId)
    if (status && status.counts.completed + status.counts.dead === status.counts.total) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Enqueues a matrix of `steps` jobs against the mock and waits until the running workers finish it. */
async function drain(
  db: Database,
  connection: QueueConnection,
  baseUrl: string,
  steps: number,
  name: string,
) {
  const file = writeTinyMatrix({ baseUrl, targets: 1, steps, requests: 2, name })
  const { scenario } = await loadScenario(file)
  await untilDone(db, (await enqueueMatrix(db, connection, { scenario, file })).matrixId)
}

registerJobKind(runKind)
const results: Measured[] = []
for (const name of (args.backends ?? '').split(',').filter(Boolean)) {
  const backend = await openBackend(name, { databasePrefix: 'bench_queue_', log })
  if (!backend) {
    log(`${name}: no DATABASE_URL and no PostgreSQL to start here; skipped`)
    continue
  }
  log(`${backend.describe}`)
  const db = await backend.open()
  try {
    const options = backend.name === 'pglite' ? { dataDir: backend.location } : { url: backend.location }
    const connection = queueConnection(db, options)
    await installQueue(connection)
    for (const w of counts) {
      const t = await trivial(db, connection, backend.name, w, Number(args.trivial))
      log(`  trivial × ${w} workers: ${JSON.stringify(t)}`)
      results.push(t)
    }
    for (const w of Number(args.real) > 0 ? counts : []) {
      const r = await real(db, connection, backend.name, w, Number(args.real))
      log(`  real × ${w} workers: ${JSON.stringify(r)}`)
      results.push(r)
    }
  } finally {
    await db.close()
    await backend.dispose()
  }
}
const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100)
if (args.json)
  process.stdout.write(`${JSON.stringify({ loadAverage, cpus: os.cpus().length, results }, null, 2)}\n`)
else {
  process.stdout.write(`load average ${loadAverage.join(' ')} on ${os.cpus().length} cores\n`)
  process.stdout.write(
    'backend   jobs     workers  n     claimed/s  completed/s  claim p50 ms  claim p99 ms\n',
  )
  for (const r of results)
    process.stdout.write(
      `${r.backend.padEnd(9)} ${r.jobs.padEnd(8)} ${String(r.workers).padStart(7)}  ${String(r.n).padEnd(5)} ${String(r.claimedPerS).padStart(9)}  ${String(r.completedPerS).padStart(11)}  ${String(r.claimP50Ms).padStart(12)}  ${String(r.claimP99Ms).padStart(12)}\n`,
    )
}
