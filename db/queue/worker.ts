/**
 * `bench worker`: a graphile-worker pool that claims the jobs whose required tags this worker has, runs
 * each through its kind (kinds.ts) and writes ordinary runs, with what graphile-worker leaves to its user:
 *
 * - Heartbeats. graphile-worker frees a crashed worker's jobs only after 4 hours (its locked_at timeout).
 *   Every worker keeps a `queue_workers` row fresh (database clock, every HEARTBEAT_MS) and every worker
 *   reaps: a worker on this host whose pid is gone, or any whose heartbeat is older than STALE_AFTER_MS, is
 *   marked lost and its jobs unlocked (graphile_worker.force_unlock_workers), so another worker retries
 *   them at once. The killed attempt's run is marked interrupted first (db/liveness.ts, the same rule).
 * - Exactly one completed run per job. Every run an attempt starts is recorded with the job before its
 *   first request (matrix_jobs.run_ids); an attempt that finds a completed run of an earlier attempt (its
 *   worker died between finishing the run and marking the job) adopts it instead of running again.
 * - Retries with backoff and dead-lettering: a failed attempt throws, graphile-worker reschedules it after
 *   e^attempts seconds (2.7 s, 7.4 s, 20 s …, at most e^10 s) until max_attempts; then the job is `dead`
 *   (kept in graphile_worker's table and ours with its last error).
 * @module
 */
import { EventEmitter } from 'node:events'
import os from 'node:os'
import { and, eq, inArray, ne, sql } from 'drizzle-orm'
import { type Runner, run, type Task, type WorkerEvents } from 'graphile-worker'
import { toError } from '../../harness/errors.ts'
import type { EnvironmentInfo } from '../../harness/results.ts'
import { RunInterrupted } from '../../harness/run-context.ts'
import type { ResultSink } from '../../harness/sink.ts'
import { type Database, selectRows } from '../client.ts'
import { markInterruptedRuns } from '../liveness.ts'
import { matrices, matrixJobs, queueWorkers } from '../schema.ts'
import { createPostgresSink } from '../sink.ts'
import { type QueueConnection, quietLogger } from './connection.ts'
import { jobKind, jobKinds } from './kinds.ts'
import { claimableIdentifiers } from './tags.ts'

/** How often a worker refreshes its heartbeat. ms. */
export const HEARTBEAT_MS = 1_000
/** A worker silent this long is lost (ten missed heartbeats, as a run's: db/liveness.ts). ms. */
export const STALE_AFTER_MS = 10_000
/** How often each worker looks for lost ones. ms. */
export const REAP_EVERY_MS = 1_000
/**
 * graphile-worker polls this often when no notification arrives. PostgreSQL delivers LISTEN/NOTIFY, so
 * the poll is only a fallback there; through the PGlite socket notifications never reach the listener
 * (one shared backend), so the poll is what wakes an idle worker. ms.
 */
export const POLL_MS = { postgres: 2_000, pglite: 200 } as const

export interface WorkerOptions {
  db: Database
  connection: QueueConnection
  /** Jobs run at once in this process. @default 1 */
  concurrency?: number
  /** Canonical key=value tags (tags.ts parseTags). */
  tags?: readonly string[]
  environment: EnvironmentInfo
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void
  /** graphile-worker's event emitter (test/bench/queue.ts times claims with it). */
  events?: WorkerEvents
  staleAfterMs?: number
  pollIntervalMs?: number
}

export interface WorkerHandle {
  /** graphile-worker's pool id (queue_workers.id, locked_by of its jobs). */
  readonly id: string
  /** Finishes or interrupts running jobs (interrupted ones are retried elsewhere), marks the worker stopped. */
  stop(): Promise<void>
  /** Resolves when the pool has ended (after stop, or when graphile-worker gives up). */
  readonly done: Promise<void>
}

interface Payload {
  matrixJobId: number
}

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { db, connection } = options
  const concurrency = options.concurrency ?? 1
  const tags = [...(options.tags ?? [])]
  const log = options.log ?? (() => {})
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS
  const events: WorkerEvents = options.events ?? (new EventEmitter() as WorkerEvents)
  let poolId: string | undefined
  const poolCreated = new Promise<string>((resolve) =>
    events.once('pool:create', ({ workerPool }) => {
      poolId = workerPool.id
      resolve(workerPool.id)
    }),
  )

  const task: Task = async (raw, helpers) => {
    const { matrixJobId } = raw as Payload
    const workerId = poolId ?? helpers.job.locked_by ?? 'unknown'
    const [row] = await db
      .select({ job: matrixJobs, matrix: matrices })
      .from(matrixJobs)
      .innerJoin(matrices, eq(matrices.id, matrixJobs.matrixId))
      .where(eq(matrixJobs.id, matrixJobId))
    // Its matrix was deleted: nothing left to run or to record.
    if (!row) return
    // Completed, or cancelled (bench matrix cancel) between the claim and now: nothing to run.
    if (row.job.state === 'completed' || row.job.state === 'dead') return
    const adopted = await completedRunOf(db, row.job.runIds)
    if (adopted !== undefined) {
      await markCompleted(db, matrixJobId, adopted, helpers.job.attempts)
      log(`job ${matrixJobId}: run ${adopted} of an earlier attempt completed; adopted`)
      return
    }
    const attempt = helpers.job.attempts
    await db
      .update(matrixJobs)
      .set({ state: 'running', attempts: attempt, workerId, startedAt: sql`now()`, finishedAt: null })
      .where(eq(matrixJobs.id, matrixJobId))
    const kind = jobKind(row.job.kind)
    const controller = new AbortController()
    const onAbort = () => controller.abort(new RunInterrupted('the worker is stopping'))
    helpers.abortSignal.addEventListener('abort', onAbort, { once: true })
    const sink = trackRuns(createPostgresSink(db), db, matrixJobId)
    let result: Awaited<ReturnType<NonNullable<typeof kind>['run']>>
    try {
      result = kind
        ? await kind.run({
            db,
            matrix: row.matrix,
            job: row.job,
            sink,
            signal: controller.signal,
            environment: options.environment,
          })
        : {
            state: 'failed',
            error: `job kind "${row.job.kind}" is not known to this worker (it knows ${jobKinds().join(', ')}): update bench here`,
          }
    } catch (err) {
      result = { state: 'failed', error: toError(err).message }
    } finally {
      helpers.abortSignal.removeEventListener('abort', onAbort)
      await sink.close().catch(() => {})
    }
    // A kind that stores no run (a speculative-decoding study: db/studies/queue.ts) completes without one.
    if (result.state === 'completed') {
      await markCompleted(db, matrixJobId, result.runId ?? null)
      log(
        `job ${matrixJobId} (${row.job.targetName} step ${row.job.loadIndex ?? row.job.kind}): ${result.runId !== undefined ? `run ${result.runId} ` : ''}completed`,
      )
      return
    }
    const dead = attempt >= helpers.job.max_attempts
    const error = result.error ?? `run ${result.state}`
    await db
      .update(matrixJobs)
      .set({ state: dead ? 'dead' : 'retrying', lastError: error, finishedAt: dead ? sql`now()` : null })
      .where(and(eq(matrixJobs.id, matrixJobId), ne(matrixJobs.state, 'completed')))
    log(
      `job ${matrixJobId} (${row.job.targetName} step ${row.job.loadIndex}): attempt ${attempt}/${helpers.job.max_attempts} ${result.state}: ${error}${dead ? ' — dead' : ''}`,
    )
    // graphile-worker reschedules a thrown job with backoff, or leaves it permanently failed at max_attempts.
    throw new Error(error)
  }

  const taskList: Record<string, Task> = {}
  for (const kind of jobKinds()) for (const id of claimableIdentifiers(kind, tags)) taskList[id] = task

  const runner: Runner = await run({
    ...connection.options,
    concurrency,
    // Pool: one connection per running job's claim/complete, the listener, and headroom.
    maxPoolSize: concurrency + 2,
    noHandleSignals: true,
    pollInterval: options.pollIntervalMs ?? POLL_MS[connection.backend],
    taskList,
    crontab: '',
    logger: quietLogger,
    events,
    // Completions and failures through graphile-worker's batcher, flushed at once (0 ms): without it 0.17
    // completes a job fire-and-forget (worker.js `completeJob(job)` unawaited), so a connection lost as the
    // pool stops was an unhandled rejection (CI: ECONNRESET in batchCompleteJobs at a PGlite test's end);
    // the batcher awaits, retries and is flushed by the pool's shutdown.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  })
  const id = await poolCreated
  await db
    .insert(queueWorkers)
    .values({ id, host: os.hostname(), pid: process.pid, tags, concurrency, state: 'running' })
  log(
    `worker ${id} (pid ${process.pid}) claiming ${Object.keys(taskList).length} identifier(s), concurrency ${concurrency}`,
  )

  let reaping = false
  const failures = new Set<string>()
  const warnOnce = (what: string, err: unknown) => {
    if (failures.has(what)) return
    failures.add(what)
    log(`${what} failed (will keep trying): ${toError(err).message}`)
  }
  const heartbeat = setInterval(() => {
    db.update(queueWorkers)
      .set({ heartbeatAt: sql`now()` })
      .where(eq(queueWorkers.id, id))
      .then(() => failures.delete('heartbeat'))
      .catch((err: unknown) => warnOnce('heartbeat', err))
  }, HEARTBEAT_MS)
  const reaper = setInterval(() => {
    if (reaping) return
    reaping = true
    reapLostWorkers(db, staleAfterMs)
      .then((lost) => {
        for (const w of lost) log(`worker ${w} lost (killed or silent): its jobs are released for retry`)
      })
      .catch((err: unknown) => warnOnce('reaping lost workers', err))
      .finally(() => {
        reaping = false
      })
  }, REAP_EVERY_MS)
  heartbeat.unref()
  reaper.unref()

  let stopping: Promise<void> | undefined
  return {
    id,
    done: runner.promise,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(heartbeat)
        clearInterval(reaper)
        await runner.stop()
        await db
          .update(queueWorkers)
          .set({ state: 'stopped', stoppedAt: sql`now()` })
          .where(eq(queueWorkers.id, id))
      })()),
  }
}

/**
 * Marks lost workers (this host: pid gone; any host: heartbeat older than staleAfterMs) and releases their
 * jobs; returns their ids. Safe to run in every worker at once: a worker is claimed lost by one update.
 */
export async function reapLostWorkers(
  db: Database,
  staleAfterMs: number = STALE_AFTER_MS,
): Promise<string[]> {
  // The killed attempts' runs first, so a retry never sees them `running`.
  await markInterruptedRuns(db, staleAfterMs)
  const running = await db
    .select({ id: queueWorkers.id, pid: queueWorkers.pid })
    .from(queueWorkers)
    .where(and(eq(queueWorkers.state, 'running'), eq(queueWorkers.host, os.hostname())))
  const goneHere = running.filter((w) => !processExists(w.pid)).map((w) => w.id)
  const lost = await db
    .update(queueWorkers)
    .set({ state: 'lost', stoppedAt: sql`now()` })
    .where(
      and(
        eq(queueWorkers.state, 'running'),
        goneHere.length > 0
          ? sql`(${inArray(queueWorkers.id, goneHere)} or ${queueWorkers.heartbeatAt} < now() - make_interval(secs => ${staleAfterMs / 1000}::double precision))`
          : sql`${queueWorkers.heartbeatAt} < now() - make_interval(secs => ${staleAfterMs / 1000}::double precision)`,
      ),
    )
    .returning({ id: queueWorkers.id })
  const ids = lost.map((w) => w.id)
  if (ids.length === 0) return []
  await db.execute(sql`select graphile_worker.force_unlock_workers(${`{${ids.join(',')}}`}::text[])`)
  // Their running jobs: retried now, or dead when the killed attempt was the last one allowed.
  await db.execute(sql`
    update matrix_jobs as m
    set state = case when j.attempts >= j.max_attempts then 'dead' else 'retrying' end,
        last_error = 'worker ' || m.worker_id || ' was lost mid-job (killed or silent)',
        finished_at = case when j.attempts >= j.max_attempts then now() else null end
    from graphile_worker.jobs as j
    where j.id = m.queue_job_id and m.state = 'running' and m.worker_id = any(${`{${ids.join(',')}}`}::text[])`)
  return ids
}

/** A completed run among `runIds`, if any. */
async function completedRunOf(db: Database, runIds: readonly number[]): Promise<number | undefined> {
  if (runIds.length === 0) return undefined
  const rows = await selectRows<{ id: number }>(
    db,
    sql`select id from runs where id = any(${`{${runIds.join(',')}}`}::integer[]) and state = 'completed' order by id limit 1`,
  )
  return rows[0]?.id
}

/** `attempts`: set when the attempt completing the job is not the one that ran (an adopted run). */
async function markCompleted(
  db: Database,
  matrixJobId: number,
  runId: number | null,
  attempts?: number,
): Promise<void> {
  await db
    .update(matrixJobs)
    .set({
      state: 'completed',
      runId,
      lastError: null,
      finishedAt: sql`now()`,
      ...(attempts !== undefined ? { attempts } : {}),
    })
    .where(and(eq(matrixJobs.id, matrixJobId), ne(matrixJobs.state, 'completed')))
}

/** The sink, with every run it starts recorded in the job's run_ids before the run's first request. */
function trackRuns(sink: ResultSink, db: Database, matrixJobId: number): ResultSink {
  return {
    async startRun(meta) {
      const recorder = await sink.startRun(meta)
      await db
        .update(matrixJobs)
        .set({ runIds: sql`array_append(${matrixJobs.runIds}, ${Number(recorder.runId)}::integer)` })
        .where(eq(matrixJobs.id, matrixJobId))
      return recorder
    },
    close: () => sink.close(),
  }
}

/** False only when there is provably no such process here (ESRCH), as db/liveness.ts decides. */
function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
