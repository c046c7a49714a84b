/**
 * ResultSink: how the harness hands results to storage without importing db/. Outcomes are handed over
 * as they happen (record is synchronous and cheap; the sink batches), so a crash loses at most what the
 * sink had not yet flushed.
 * @module
 */
import type { MetricRow, RunMetrics } from './metrics/types.ts'
import type { ItemOutcome, RequestOutcome, RunMeta, RunState } from './results.ts'
import type { ServerMetricsRecord } from './server-metrics/session.ts'

/**
 * A run's summary as handed to finish(): a load run's RunMetrics, or the flat rows of a measurement that
 * is not a load (an accuracy run's acc, accStderr, … as harness/accuracy/run-metrics.ts builds them).
 */
export type RunFigures = RunMetrics | MetricRow[]

export interface RunRecorder {
  /** Stable id of the run in this sink (a file line key, a database id). */
  readonly runId: string
  /** Called once per measured request as soon as it finishes; must not throw or block. */
  record(outcome: RequestOutcome): void
  /** As record(), for one scored item of an accuracy run (same batching, journal and guarantees). */
  recordItem(item: ItemOutcome): void
  /**
   * The serving engine's /metrics over the run (harness/server-metrics), handed over once, before finish().
   * Optional: a sink without it keeps none. Resolves once stored, or kept where the sink will store them
   * later (the database sink's journal, like outcomes); a failure to store them is said (the sink's notice,
   * the run's stored error), never thrown: they must not cost the run.
   */
  serverMetrics?(record: ServerMetricsRecord): Promise<void>
  /**
   * Flushes everything and records the final state and metrics. Called exactly once per run (a second
   * call would write a second finish record). Resolves once the results are stored, or kept where the sink
   * will store them later (the database sink's journal while the database is away, db/journal.ts); rejects
   * only when something was lost.
   */
  finish(state: Exclude<RunState, 'running'>, metrics: RunFigures | undefined, error?: string): Promise<void>
}

export interface ResultSink {
  /** Writes the run row before the first request. */
  startRun(meta: RunMeta): Promise<RunRecorder>
  close(): Promise<void>
}
