/**
 * The built-in `run` job kind: one target × one load step (or its accuracy evaluation) of the matrix's
 * scenario, through the runner itself (harness/runner.ts runScenario with `only`), so a queued run is
 * stored exactly as `bench run` stores it — same scenario hash, loadIndex, states and error threshold.
 *
 * A shard (one of N clients of a step, plan.ts) runs its share of the step instead, from a start time all N
 * agree on: each waits until every client of its step has claimed its job (at most BARRIER_TIMEOUT_MS),
 * the start is the last claim + START_MARGIN_MS on the database clock, and each converts it to its own
 * clock with its measured offset to the database (recorded in the job's spec and applied to its run's
 * start time, so the N runs share one time base).
 * @module
 */
import { and, eq, sql } from 'drizzle-orm'
import { parseScenario } from '../../harness/config/index.ts'
import { toError } from '../../harness/errors.ts'
import { RunInterrupted, runScenario } from '../../harness/runner.ts'
import type { ResultSink } from '../../harness/sink.ts'
import { type Db, selectRows } from '../client.ts'
import { matrixJobs } from '../schema.ts'
import type { AttemptResult, JobAttempt, JobKind } from './kinds.ts'
import { type Shard, stepConfigs } from './plan.ts'

/** How long a client waits for the others of its step to be claimed. ms. */
export const BARRIER_TIMEOUT_MS = 60_000
/** Lead from the last client's claim to the common start: time for every client to see it. ms. */
export const START_MARGIN_MS = 1_000

export const runKind: JobKind = {
  kind: 'run',
  async run({ db, matrix, job, sink, signal, environment }: JobAttempt): Promise<AttemptResult> {
    if (job.loadIndex === null) return { state: 'failed', error: `matrix job ${job.id} has no load index` }
    let scenario = parseScenario(matrix.scenario, `matrix ${matrix.id}`)
    const shard = (job.spec as { shard?: Shard }).shard
    let runSink = sink
    try {
      if (shard) {
        // This client's share in place of the step; the other steps are not run (only), so flattening is safe.
        const steps = stepConfigs(scenario)
        steps[job.loadIndex] = shard.load
        scenario = parseScenario({ ...scenario, loads: steps }, `matrix ${matrix.id} client ${shard.index}`)
        const offsetMs = await clockOffsetMs(db)
        const startAtDbMs = await barrier(db, job, shard.count, signal)
        if (startAtDbMs === undefined)
          return {
            state: 'failed',
            error: `not all ${shard.count} clients of step ${job.loadIndex} were claimed within ${BARRIER_TIMEOUT_MS / 1000} s: a distributed step needs ${shard.count} workers free at once`,
          }
        await db
          .update(matrixJobs)
          .set({
            spec: sql`${matrixJobs.spec} || ${JSON.stringify({ clockOffsetMs: offsetMs, startAtDbMs })}::jsonb`,
          })
          .where(eq(matrixJobs.id, job.id))
        runSink = onDatabaseClock(sink, offsetMs)
        const waitMs = startAtDbMs - offsetMs - Date.now()
        if (waitMs > 0) await sleep(waitMs, signal)
      }
      const result = await runScenario({
        scenario,
        baseDir: matrix.baseDir,
        source: matrix.source,
        sink: runSink,
        signal,
        only: { target: job.targetName, loadIndex: job.loadIndex },
        ...(matrix.label !== null ? { label: matrix.label } : {}),
        context: { environment, invocationId: matrix.invocationId },
      })
      const run = result.runs[0]
      if (!run)
        return {
          state: signal.aborted ? 'interrupted' : 'failed',
          error: signal.aborted
            ? 'the worker stopped before the run started'
            : `the scenario has no target "${job.targetName}" with load step ${job.loadIndex}`,
        }
      return {
        state: run.state,
        runId: Number(run.runId),
        ...(run.error !== undefined ? { error: run.error } : {}),
      }
    } catch (err) {
      if (err instanceof RunInterrupted) return { state: 'interrupted', error: err.message }
      return { state: 'failed', error: toError(err).message }
    }
  },
}

/**
 * This machine's clock offset to the database's: database − local, ms. The sample with the shortest round
 * trip of five, its database reading taken as at the middle of that round trip (NTP's rule; the error is
 * at most half that round trip).
 */
export async function clockOffsetMs(db: Db): Promise<number> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 }
  for (let i = 0; i < 5; i++) {
    const sent = Date.now()
    const [row] = await selectRows<{ ms: number }>(
      db,
      sql`select (extract(epoch from clock_timestamp()) * 1000)::double precision as ms`,
    )
    const received = Date.now()
    if (row && received - sent < best.rtt)
      best = { rtt: received - sent, offset: Number(row.ms) - (sent + received) / 2 }
  }
  return best.offset
}

/** The common start (database clock, ms since the epoch) once all `count` clients are claimed; undefined on timeout. */
async function barrier(
  db: Db,
  job: { matrixId: number; targetName: string; loadIndex: number | null },
  count: number,
  signal: AbortSignal,
): Promise<number | undefined> {
  const deadline = Date.now() + BARRIER_TIMEOUT_MS
  while (Date.now() < deadline) {
    const [row] = await selectRows<{ claimed: number; last: number | null }>(
      db,
      sql`select count(*)::int as claimed, (extract(epoch from max(${matrixJobs.startedAt})) * 1000)::double precision as last
          from ${matrixJobs}
          where ${and(
            eq(matrixJobs.matrixId, job.matrixId),
            eq(matrixJobs.targetName, job.targetName),
            eq(matrixJobs.loadIndex, job.loadIndex ?? -1),
            eq(matrixJobs.state, 'running'),
          )}`,
    )
    if (row && Number(row.claimed) >= count && row.last !== null) return Number(row.last) + START_MARGIN_MS
    await sleep(100, signal)
  }
  return undefined
}

/** The sink with each run's wall-clock start moved onto the database's clock (outcomes are relative to it). */
function onDatabaseClock(sink: ResultSink, offsetMs: number): ResultSink {
  return {
    startRun: (meta) =>
      sink.startRun({
        ...meta,
        startedAtIso: new Date(Date.parse(meta.startedAtIso) + offsetMs).toISOString(),
      }),
    close: () => sink.close(),
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
