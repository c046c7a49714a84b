/**
 * The contract between the runner and the load executors: the runner supplies the clock, an abort
 * signal, a seeded random source and a `send` that performs (and records) one request; an executor
 * decides only *when* requests start. Semantics follow harness/metrics/README.md "Load shapes".
 * @module
 */
import type { Clock } from '../clock.ts'
import type { Random } from '../random.ts'
import type { LoadSpec } from '../results.ts'

export interface LoadContext {
  clock: Clock
  /** Aborted → stop scheduling new requests at once; in-flight ones are the caller's to abort. */
  signal: AbortSignal
  /**
   * Starts one request intended at `scheduledAt` (clock ms); resolves when it has finished; never rejects.
   * Closed loops pass the current time; open loops pass the schedule's intended time, which is earlier
   * than `now()` when the client is late (that difference is `scheduleLagMs`).
   */
  send(scheduledAt: number): Promise<void>
  /** Seeded; poisson inter-arrivals are drawn from it. */
  random: Random
  /** A trace load's send offsets (ms after the start, non-decreasing), read by the runner (readTrace). */
  traceOffsetsMs?: readonly number[]
}

/** Why the executor stopped issuing requests. */
export type LoadEnd = 'requests' | 'duration' | 'aborted'

export interface LoadResult {
  /** Requests handed to send(). */
  sent: number
  /** Open-loop arrivals not sent because maxInFlight was full (METRICS `droppedRequests`); 0 for closed loops. */
  dropped: number
  /**
   * `requests`: the budget was used up; `duration`: durationS elapsed first; `aborted`: the signal fired
   * before the executor resolved (even if issuing had already finished, since in-flight requests were
   * then aborted by the caller).
   */
  ended: LoadEnd
  /** Clock ms when the executor started (the origin of open-loop schedules). */
  startedAt: number
  /** Clock ms when the last in-flight request finished (or when issuing stopped, if none was in flight). */
  endedAt: number
}

export type ExecuteLoad = (load: LoadSpec, ctx: LoadContext) => Promise<LoadResult>
