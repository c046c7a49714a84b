/**
 * What every kind of run of a started target shares (load steps in harness/load/run.ts, accuracy in
 * harness/accuracy/run.ts, quality in harness/quality/run.ts): the scenario, the sink, the clock, the
 * interrupt, the events the runner emits and the results it returns. runScenario (runner.ts) builds one
 * RunContext per invocation and hands it to each kind's run function.
 * @module
 */
import type { Scoring } from './accuracy/evaluate.ts'
import type { AccuracyRunSummary } from './accuracy/run-metrics.ts'
import type { Clock } from './clock.ts'
import type { Scenario, TargetConfig } from './config/schema.ts'
import type { ErrorRateCheck } from './metrics/index.ts'
import type { RunMetrics } from './metrics/types.ts'
import type { QualitySummary } from './quality/summary.ts'
import type {
  ItemOutcome,
  MicroTaskResult,
  RequestOutcome,
  RunMeta,
  RunSpec,
  RunState,
  VariantIdentity,
} from './results.ts'
import type { ResultSink, RunRecorder } from './sink.ts'
import type { CreatedEngine } from './target-engine.ts'

/** Abort reason when the user interrupts (SIGINT) or the caller's signal fires. */
export class RunInterrupted extends Error {
  override name = 'RunInterrupted'
}

export type RunnerEvent =
  | { type: 'load-start'; target: string; load: RunSpec; loadIndex: number; runId: string }
  | { type: 'request'; target: string; loadIndex: number; outcome: RequestOutcome }
  | { type: 'item'; target: string; loadIndex: number; outcome: ItemOutcome }
  | { type: 'load-end'; result: LoadRunResult }
  | { type: 'target-failed'; target: string; message: string }
  /** Something a person should know that is not a failure (auto scoring fell back to generate, and why). */
  | { type: 'notice'; target: string; message: string }

/** What an accuracy run measured (the figures stored as its metric rows), with the scoring it used. */
export interface AccuracyRunResult extends AccuracyRunSummary {
  scoring: Scoring
  /** Why `auto` did not score by log-likelihood. */
  notice?: string
}

/** What a quality run measured against its reference. */
export interface QualityRunResult {
  /** The reference target's name. */
  reference: string
  summary: QualitySummary
}

export interface LoadRunResult {
  target: string
  /** The load step, or the accuracy evaluation (`kind: 'accuracy'`). */
  load: RunSpec
  loadIndex: number
  runId: string
  state: Exclude<RunState, 'running'>
  metrics?: RunMetrics
  error?: string
  /**
   * The error-rate threshold's verdict on a run that ran to its end (absent for interrupted runs and
   * targets that failed to start). When it did not pass, state is `failed` and error is its reason.
   */
  errorRateCheck?: ErrorRateCheck
  /** An accuracy run's figures (absent for load runs and for accuracy runs that never scored). */
  accuracy?: AccuracyRunResult
  /** A quality run's figures (absent for other runs and for quality runs that compared nothing). */
  quality?: QualityRunResult
  /** A micro run's tasks as tinybench measured them, in task order (harness/micro/run.ts). */
  micro?: MicroTaskResult[]
  /** The target's engine kind (`llama-cpp`, `onnx`, `openai` …), as its runs store it. */
  engine?: string
  /** The variant the target runs, when known (scenario `variant:`, or the engine's model file). */
  variant?: VariantIdentity
}

/** One invocation of runScenario, as each kind of run sees it. */
export interface RunContext {
  scenario: Scenario
  sink: ResultSink
  clock: Clock
  /** The interrupt: aborted, the current run ends `interrupted` with what it measured. */
  signal: AbortSignal
  emit: (event: RunnerEvent) => void
  /** Error-rate threshold, ratio in [0, 1] (the option, else the scenario's, else the default 0.01). */
  maxErrorRate: number
  /** The run row of one run of a target (scenario, target, variant, engine, load, clock origin). */
  meta: (
    target: TargetConfig,
    created: CreatedEngine | undefined,
    load: RunSpec,
    loadIndex: number,
  ) => RunMeta
}

/**
 * The run row of an accuracy or quality run (or any run that records through a sink), and its
 * load-start event; `finish` records that it was called, so a failure after it does not finish the run
 * twice (two finish records in the JSONL, issue 14).
 */
export async function startMeasuredRun(ctx: RunContext, runMeta: RunMeta, load: RunSpec, loadIndex: number) {
  const started = await ctx.sink.startRun(runMeta)
  const base = { target: runMeta.target.name, load, loadIndex, runId: started.runId }
  ctx.emit({ type: 'load-start', ...base })
  let called = false
  const finish: RunRecorder['finish'] = (...args) => {
    called = true
    return started.finish(...args)
  }
  return { started, base, finish, finishCalled: () => called }
}
