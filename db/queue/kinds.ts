/**
 * The job-kind registry: what a queued job does is looked up by its `matrix_jobs.kind`. `run` (one target
 * × one load step of a scenario, run-kind.ts) is built in; other kinds (speculative-decoding studies,
 * accuracy sweeps launched from the dashboard) register theirs before the worker starts, and the worker
 * claims every registered kind. A kind runs one attempt and reports the run it produced; the worker does
 * the rest (attempt bookkeeping, exactly-one-completed-run, retries, dead-lettering: worker.ts).
 * @module
 */
import type { EnvironmentInfo } from '../../harness/results.ts'
import type { ResultSink } from '../../harness/sink.ts'
import type { Database } from '../client.ts'
import type { Matrix, MatrixJob } from '../schema.ts'

export interface JobAttempt {
  db: Database
  matrix: Matrix
  job: MatrixJob
  /** Writes ordinary runs; every run started through it is recorded with the job (matrix_jobs.run_ids). */
  sink: ResultSink
  /** Aborted when the worker shuts down; its reason is a RunInterrupted. */
  signal: AbortSignal
  /** This worker's machine, stored with each run (detected once per worker). */
  environment: EnvironmentInfo
}

export interface AttemptResult {
  /** completed: the job is done; anything else is a failed attempt (retried until maxAttempts). */
  state: 'completed' | 'failed' | 'interrupted'
  /** The run this attempt produced (database id). */
  runId?: number
  error?: string
}

export interface JobKind {
  /** Lower-case name, no `|` or `,` (they separate tags in the queue's identifiers: tags.ts). */
  readonly kind: string
  run(attempt: JobAttempt): Promise<AttemptResult>
}

const kinds = new Map<string, JobKind>()

export function registerJobKind(kind: JobKind): void {
  if (!/^[a-z][a-z0-9-]*$/.test(kind.kind))
    throw new Error(`job kind "${kind.kind}": lower-case letters, digits and '-' only`)
  kinds.set(kind.kind, kind)
}

export function jobKind(kind: string): JobKind | undefined {
  return kinds.get(kind)
}

export function jobKinds(): string[] {
  return [...kinds.keys()].sort()
}
