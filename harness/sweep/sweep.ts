/**
 * `bench sweep`: finds the highest arrival rate an OpenAI-compatible endpoint serves within latency SLOs
 * (the knee). Each step is one load run through the ordinary runner and sink (a scenario of one
 * constant-rate or poisson load at that rate, streaming requests), so every step is a stored run; the
 * search (search.ts) picks the rates; saturation.ts ends a hopeless step early.
 * @module
 */
import { parseScenario } from '../config/index.ts'
import type { Scenario } from '../config/schema.ts'
import type { RunMetrics } from '../metrics/types.ts'
import type { EnvironmentInfo, GitInfo } from '../results.ts'
import { type LoadRunResult, RunInterrupted, type RunnerEvent, runScenario } from '../runner.ts'
import type { ResultSink } from '../sink.ts'
import { SaturationDetector } from './saturation.ts'
import { type SearchEnd, type SearchOptions, type SearchPhase, searchKnee } from './search.ts'
import { goodputSlo, type SweepSlo, sloValue } from './slo.ts'

export interface SweepOptions {
  /** With /v1, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: string
  model: string
  /** Name of the environment variable holding the API key (never the key). */
  apiKeyEnv?: string
  slos: readonly SweepSlo[]
  search: SearchOptions
  /** Length of each step's arrivals, s (in-flight requests then finish). */
  durationS: number
  /** constant: arrival i at i / rate (reproducible); poisson: exponential gaps of mean 1 / rate. */
  arrivals: 'constant' | 'poisson'
  /** Synthetic prompt length, words ≈ tokens. */
  promptTokens: number
  /** Output tokens per request (max_tokens, min_tokens and ignore_eos: fixed length). */
  outputTokens: number
  /** Warm-up requests before each step, excluded. */
  warmupRequests: number
  /** A request past it is a `timeout` error, ms. */
  requestTimeoutMs: number
  /** Each step fails above this error rate (errors / attempted). ratio. */
  maxErrorRate: number
  /** Scenario name of every step's run (the database key). */
  name: string
  /** Target name of every step's run. */
  target: string
  sink: ResultSink
  /** Interrupt (Ctrl-C): the current step is interrupted and the sweep ends. */
  signal?: AbortSignal
  label?: string
  context?: { environment?: EnvironmentInfo; git?: GitInfo; invocationId?: string }
  /** Each runner event (progress bars). */
  onEvent?: (event: RunnerEvent) => void
  /**
   * A step's run was created (before its first request; for a step interrupted in its warm-up, once it
   * ended): its id in the sink, its index and rate.
   */
  onStepStart?: (runId: string, index: number, ratePerS: number) => void | Promise<void>
  /** A step was judged. */
  onStep?: (step: SweepStep) => void
}

export interface SweepStep {
  /** 0-based, in the order run. */
  index: number
  phase: SearchPhase
  /** Offered arrival rate, requests/s. */
  ratePerS: number
  runId?: string
  state?: LoadRunResult['state']
  /** Completed requests / the run's window (first send → last chunk), requests/s. */
  achievedRps?: number
  ttftMsP95?: number
  tpotMsP95?: number
  /** Requests within every bound, per second (harness/METRICS.md goodput). */
  goodputRequestsPerS?: number
  /** Every SLO's percentile value, by name (`ttftMsP95` …), ms. */
  values: Record<string, number | undefined>
  pass: boolean
  /** Why it failed (the first bound missed, the error rate, the early stop). */
  reason?: string
  /** The runner judged the client, not the server, the bottleneck (RunMetrics.clientSaturated). */
  clientSaturated?: boolean
}

export interface SweepResult {
  steps: SweepStep[]
  end: SearchEnd
  /** Highest passing rate, requests/s. */
  knee?: number
  /** Lowest failing rate above the knee. */
  firstFailing?: number
  tolerance: number
}

/** Judges one step's run against the SLOs. */
export function judgeStep(
  run: LoadRunResult | undefined,
  slos: readonly SweepSlo[],
  stoppedEarly: string | undefined,
): { pass: boolean; reason?: string; values: Record<string, number | undefined> } {
  const metrics: RunMetrics | undefined = run?.metrics
  const values = Object.fromEntries(slos.map((s) => [s.name, sloValue(metrics, s)]))
  const fail = (reason: string) => ({ pass: false, reason, values })
  if (stoppedEarly !== undefined) return fail(stoppedEarly)
  if (run === undefined) return fail('the step did not run')
  if (run.state !== 'completed') return fail(run.error ?? `run ${run.state}`)
  if (metrics === undefined) return fail('no metrics')
  if (metrics.droppedRequests > 0)
    return fail(`${metrics.droppedRequests} arrivals dropped (too many requests in flight)`)
  for (const s of slos) {
    const v = values[s.name]
    if (v === undefined) return fail(`${s.name}: no successful request`)
    if (v > s.maxMs) return fail(`${s.name} ${v.toFixed(1)} ms > ${s.maxMs} ms`)
  }
  return { pass: true, values }
}

/** The scenario of one step (validated like any scenario). */
export function stepScenario(options: SweepOptions, ratePerS: number): Scenario {
  const slo = goodputSlo(options.slos)
  return parseScenario(
    {
      name: options.name,
      description: `bench sweep step: ${options.arrivals} ${ratePerS} requests/s`,
      prompts: { kind: 'synthetic', promptTokens: options.promptTokens, outputTokens: options.outputTokens },
      targets: [
        {
          name: options.target,
          engine: {
            kind: 'openai',
            baseUrl: options.baseUrl,
            model: options.model,
            ...(options.apiKeyEnv !== undefined ? { apiKeyEnv: options.apiKeyEnv } : {}),
          },
        },
      ],
      loads: [
        options.arrivals === 'poisson'
          ? { kind: 'poisson', ratePerS, durationS: options.durationS }
          : { kind: 'constant-rate', ratePerS, durationS: options.durationS },
      ],
      warmupRequests: options.warmupRequests,
      requestTimeoutMs: options.requestTimeoutMs,
      fixedOutputLength: true,
      ...(slo !== undefined ? { slo } : {}),
      maxErrorRate: options.maxErrorRate,
    },
    'bench sweep',
  )
}

/** Runs the sweep: every step a stored run; resolves with the steps and the knee. */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const signal = options.signal ?? new AbortController().signal
  const ttftBound = options.slos
    .filter((s) => s.metric === 'ttftMs')
    .reduce<number | undefined>((min, s) => Math.min(min ?? Number.POSITIVE_INFINITY, s.maxMs), undefined)
  const steps: SweepStep[] = []
  const search = await searchKnee<SweepStep>(async (ratePerS, phase) => {
    const index = steps.length
    const scenario = stepScenario(options, ratePerS)
    const stop = new AbortController()
    const detector = new SaturationDetector(ttftBound !== undefined ? { ttftBoundMs: ttftBound } : {})
    const pendingStarts: Promise<void>[] = []
    const result = await runScenario({
      scenario,
      baseDir: process.cwd(),
      source: 'bench sweep',
      sink: options.sink,
      signal,
      stopLoad: stop.signal,
      ...(options.label !== undefined ? { label: options.label } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
      onEvent: (event) => {
        if (event.type === 'load-start' && options.onStepStart)
          pendingStarts.push(Promise.resolve(options.onStepStart(event.runId, index, ratePerS)))
        if (event.type === 'request' && !stop.signal.aborted) {
          const why = detector.observe(event.outcome)
          if (why !== undefined) stop.abort(new RunInterrupted(`stopped early: ${why}`))
        }
        options.onEvent?.(event)
      },
    })
    await Promise.all(pendingStarts)
    const run = result.runs[0]
    // A step interrupted during its warm-up has a run (interrupted) but no load-start event: tie it now.
    if (run !== undefined && pendingStarts.length === 0 && options.onStepStart)
      await options.onStepStart(run.runId, index, ratePerS)
    const stoppedEarly =
      stop.signal.aborted && run?.state === 'failed' ? (stop.signal.reason as Error).message : undefined
    const verdict = judgeStep(run, options.slos, stoppedEarly)
    const m = run?.metrics
    const step: SweepStep = {
      index,
      phase,
      ratePerS,
      ...(run !== undefined ? { runId: run.runId, state: run.state } : {}),
      ...(m !== undefined
        ? {
            achievedRps: m.requestsPerS,
            ...(m.ttftMs !== undefined ? { ttftMsP95: m.ttftMs.p95 } : {}),
            ...(m.tpotMs !== undefined ? { tpotMsP95: m.tpotMs.p95 } : {}),
            ...(m.goodputRequestsPerS !== undefined ? { goodputRequestsPerS: m.goodputRequestsPerS } : {}),
            clientSaturated: m.clientSaturated,
          }
        : {}),
      values: verdict.values,
      pass: verdict.pass,
      ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
    }
    steps.push(step)
    options.onStep?.(step)
    return { pass: step.pass, abort: signal.aborted || result.state === 'interrupted', result: step }
  }, options.search)
  return {
    steps,
    end: search.end,
    ...(search.knee !== undefined ? { knee: search.knee } : {}),
    ...(search.firstFailing !== undefined ? { firstFailing: search.firstFailing } : {}),
    tolerance: options.search.tolerance,
  }
}
