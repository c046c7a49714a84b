/**
 * runScenario: for each target, for each load step — start the engine, warm up (excluded), write the run
 * row, drive the load, hand every outcome to the sink as it happens, summarize. A failing target is
 * recorded as failed runs and the next target goes on; a run whose errorRate is above maxErrorRate is
 * failed (metrics kept, the reason in its error); an interrupt marks the current run interrupted with every
 * recorded outcome kept. The runner prints nothing: results and verdicts are returned and emitted.
 * A scenario that measures accuracy adds one run per target after its load steps (harness/accuracy/
 * evaluate.ts): items instead of requests, the same sink, states and error threshold. A scenario that
 * measures quality adds one more run per target (harness/quality/measure.ts): the reference target goes
 * first, its distributions are kept, and every target's are compared with them (KLD, top-1 agreement).
 * @module
 */
import { createHash, randomInt } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { resolveScoring, type Scoring, scoreItem } from './accuracy/evaluate.ts'
import { type PreparedAccuracy, prepareAccuracy } from './accuracy/prepare.ts'
import {
  type AccuracyRunSummary,
  accuracyMetricRows,
  itemErrorRateReason,
  summarizeItems,
} from './accuracy/run-metrics.ts'
import { canonicalJson } from './canonical-json.ts'
import { type Clock, systemClock } from './clock.ts'
import { DEFAULT_MAX_ERROR_RATE, scenarioHash } from './config/index.ts'
import type { Scenario, TargetConfig } from './config/schema.ts'
import type { Engine, GenerationRequest, NativeSpeedResult } from './engines/engine.ts'
import { engineDefinition, requireEngineDefinition } from './engines/registry.ts'
import { HarnessError, toError } from './errors.ts'
import { executeLoad, expandLoads, expectedRequests, readTrace } from './load/index.ts'
import { memoryMetrics } from './memory/index.ts'
import { checkErrorRate, type ErrorRateCheck, percentileOfHistogram, summarizeRun } from './metrics/index.ts'
import type { RunMetrics } from './metrics/types.ts'
import {
  loadPrompts,
  mixSeed,
  type Prompt,
  type PromptSource,
  promptsAhead,
  tracePromptSource,
} from './prompts/index.ts'
import { collectReference, compareWithReference, type ReferenceDistributions } from './quality/measure.ts'
import { type PreparedQuality, prepareQuality } from './quality/prepare.ts'
import { qualityMetricRows } from './quality/run-metrics.ts'
import { type QualitySummary, summarizeQuality } from './quality/summary.ts'
import { createRandom } from './random.ts'
import { executeRequest } from './request.ts'
import type {
  AccuracySpec,
  EnvironmentInfo,
  GitInfo,
  ItemOutcome,
  LoadSpec,
  QualitySpec,
  RequestOutcome,
  RunMeta,
  RunSpec,
  RunState,
  VariantIdentity,
} from './results.ts'
import type { ResultSink, RunRecorder } from './sink.ts'
import { type CreatedEngine, createTargetEngine } from './target-engine.ts'

/** Sampling interval of the event-loop delay monitor, ms. */
const EVENT_LOOP_SAMPLE_MS = 5

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
  /** The target's engine kind (`llama-cpp`, `onnx`, `openai` …), as its runs store it. */
  engine?: string
  /** The variant the target runs, when known (scenario `variant:`, or the engine's model file). */
  variant?: VariantIdentity
}

export interface ScenarioRunResult {
  scenario: string
  /**
   * completed: every run completed; failed: some target failed or a run's errorRate exceeded its
   * maxErrorRate; interrupted: stopped by the signal.
   */
  state: 'completed' | 'failed' | 'interrupted'
  runs: LoadRunResult[]
}

export interface RunScenarioOptions {
  scenario: Scenario
  /** Where relative paths in the scenario (JSONL prompts, the accuracy dataset) resolve. */
  baseDir: string
  /** The scenario's file, named in configuration errors found at start (a missing dataset). @default scenario.name */
  source?: string
  sink: ResultSink
  /** @default systemClock */
  clock?: Clock
  /** Aborting it interrupts the run (its reason should be a RunInterrupted). */
  signal?: AbortSignal
  label?: string
  /**
   * Error-rate threshold of every run, overriding the scenario's maxErrorRate (`bench run
   * --max-error-rate`). ratio in [0, 1]. @default scenario.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE (0.01)
   */
  maxErrorRate?: number
  /** Replaces the engine registry (tests). */
  createEngine?: (target: TargetConfig) => Promise<CreatedEngine>
  onEvent?: (event: RunnerEvent) => void
  /**
   * Ends the current load step early without interrupting the scenario (`bench sweep`'s over-saturation
   * stop): once it fires no new request is issued, in-flight ones are aborted (left out of every figure, as
   * on an interrupt), and the run is stored `failed` with every measurement kept and the signal's reason
   * (an Error's message) as its error. Its reason should be a RunInterrupted, so the aborts read `aborted`.
   */
  stopLoad?: AbortSignal
  /** Sample event-loop delay during each load to flag clientSaturated. @default true */
  monitorEventLoop?: boolean
  /** Where and what was measured, stored with every run (the CLI detects them). */
  context?: { environment?: EnvironmentInfo; git?: GitInfo; invocationId?: string }
}

export async function runScenario(options: RunScenarioOptions): Promise<ScenarioRunResult> {
  const { scenario, sink } = options
  const clock = options.clock ?? systemClock
  const signal = options.signal ?? new AbortController().signal
  // Each in-flight request listens for the interrupt (and removes its listener when done).
  setMaxListeners(0, signal)
  const emit = options.onEvent ?? (() => {})
  const create = options.createEngine ?? ((t: TargetConfig) => createTargetEngine(t.engine))
  checkEnvironment(scenario)
  const measureLatency = scenario.measure.includes('latency')
  const prompts =
    measureLatency && scenario.prompts
      ? await loadPrompts(scenario.prompts, { seed: scenario.seed, baseDir: options.baseDir })
      : undefined
  // Every configuration problem before the first target starts: a missing dataset is not a half-run scenario.
  const accuracy =
    scenario.measure.includes('accuracy') && scenario.accuracy
      ? await prepareAccuracy(scenario.accuracy, {
          baseDir: options.baseDir,
          scenarioSeed: scenario.seed,
          source: options.source ?? scenario.name,
        })
      : undefined
  const quality =
    scenario.measure.includes('quality') && scenario.quality
      ? prepareQuality(scenario.quality, {
          baseDir: options.baseDir,
          source: options.source ?? scenario.name,
        })
      : undefined
  // Synthetic prompt text is new in every run, of this invocation and of any other (prompts/synthetic.ts).
  const invocationSalt = randomInt(2 ** 31)
  let runOrdinal = 0
  const loads = measureLatency ? expandLoads(scenario.loads) : []
  // Trace replays read their files now, so a bad trace stops the scenario before any target starts.
  const traces = await readTraces(loads, stepPaths(scenario), options.baseDir, scenario.seed)
  // The accuracy run's loadIndex: after the load steps, so (target, loadIndex) stays one run per invocation.
  const accuracyIndex = loads.length
  const qualityIndex = loads.length + (accuracy ? 1 : 0)
  // The reference's distributions, once its quality run collected them; or why there are none.
  let reference: ReferenceDistributions | undefined
  let referenceFailure: string | undefined
  let referenceVariant: string | undefined
  // The reference target is measured first, so every other target's quality run has it to compare with.
  const targets = quality
    ? [
        ...scenario.targets.filter((t) => t.name === quality.spec.reference),
        ...scenario.targets.filter((t) => t.name !== quality.spec.reference),
      ]
    : scenario.targets
  const hash = scenarioHash(scenario)
  const source = withoutSecrets(scenario)
  const maxErrorRate = options.maxErrorRate ?? scenario.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE
  const runs: LoadRunResult[] = []
  const nativeSpeeds = new Map<string, NativeSpeedResult>()
  let state: ScenarioRunResult['state'] = 'completed'

  // The reference may sit in a temporary file (quality/measure.ts): removed however the loop ends.
  try {
    for (const target of targets) {
      if (signal.aborted) break
      let created: CreatedEngine | undefined
      try {
        created = await create(target)
        await created.engine.start(signal)
        // [nativeSpeed] llama-bench-style pp / tg, once per target before its first load; kept with each run.
        if (target.nativeSpeed) {
          if (!created.engine.nativeSpeed)
            throw new HarnessError(`${target.engine.kind} engines do not measure nativeSpeed`)
          nativeSpeeds.set(target.name, await created.engine.nativeSpeed(target.nativeSpeed))
        }
      } catch (err) {
        if (signal.aborted) break
        const message = toError(err).message
        emit({ type: 'target-failed', target: target.name, message })
        state = 'failed'
        // Every run the target would have made is stored as failed with the reason.
        const failed = async (load: RunSpec, loadIndex: number) => {
          const recorder = await sink.startRun(meta(target, created, load, loadIndex))
          await recorder.finish('failed', undefined, message)
          const result: LoadRunResult = {
            target: target.name,
            load,
            loadIndex,
            runId: recorder.runId,
            state: 'failed',
            error: message,
            engine: target.engine.kind,
            ...variantOf(target, created),
          }
          runs.push(result)
          emit({ type: 'load-end', result })
        }
        for (const [loadIndex, load] of loads.entries()) await failed(load, loadIndex)
        if (accuracy) {
          const scoring = accuracy.requestedScoring === 'generate' ? 'generate' : 'loglik'
          await failed(accuracySpec(accuracy, scoring), accuracyIndex)
        }
        if (quality) {
          if (target.name === quality.spec.reference)
            referenceFailure = `reference target "${target.name}" failed to start: ${message}`
          await failed(qualitySpec(quality), qualityIndex)
        }
        await created?.dispose().catch(() => {})
        continue
      }
      try {
        const identity = { engine: target.engine.kind, ...variantOf(target, created) }
        const ended = (measured: LoadRunResult) => {
          const result = { ...measured, ...identity }
          runs.push(result)
          emit({ type: 'load-end', result })
          if (result.state === 'interrupted') state = 'interrupted'
          else if (result.state === 'failed' && state === 'completed') state = 'failed'
        }
        for (const [loadIndex, load] of loads.entries()) {
          if (signal.aborted) break
          ended(await runLoad(target, created, load, loadIndex))
        }
        if (accuracy && !signal.aborted) ended(await runAccuracy(target, created, accuracy))
        if (quality && !signal.aborted) ended(await runQuality(target, created, quality))
      } finally {
        await created.dispose()
      }
    }
  } finally {
    reference?.dispose()
  }
  if (signal.aborted) state = 'interrupted'
  return { scenario: scenario.name, state, runs }

  function meta(
    target: TargetConfig,
    created: CreatedEngine | undefined,
    load: RunSpec,
    loadIndex: number,
  ): RunMeta {
    return {
      scenario: {
        name: scenario.name,
        ...(scenario.description ? { description: scenario.description } : {}),
        // An accuracy run asks its items, not the loads: its series must not break when a load step is
        // added. Its hash is that of what it asks (the spec: items by content, shots, prompt, scoring).
        hash: load.kind === 'accuracy' || load.kind === 'quality' ? specHash(load) : hash,
        source,
      },
      target: { name: target.name },
      ...variantOf(target, created),
      ...options.context,
      engine: created?.engine.info ?? {
        kind: target.engine.kind,
        model: target.engine.model,
        capabilities: noCapabilities,
      },
      engineOptions: created?.storedOptions ?? {},
      load,
      loadIndex,
      ...(options.label !== undefined ? { label: options.label } : {}),
      startedAtIso: new Date().toISOString(),
      clockOrigin: clock.now(),
    }
  }

  async function runLoad(
    target: TargetConfig,
    created: CreatedEngine,
    load: LoadSpec,
    loadIndex: number,
  ): Promise<LoadRunResult> {
    const engine = created.engine
    let cursor = 0
    const salt = mixSeed(invocationSalt, runOrdinal++)
    // A trace replay's prompts are its lines; other loads run only with prompts (the schema's rule).
    const trace = traces.get(loadIndex)
    const source = trace?.prompts ?? (prompts as NonNullable<typeof prompts>)
    // A trace's warmups take its first lines' lengths with other text (their own salt), and its measured
    // requests start at line 0, so request i is line i.
    const warmupSalt = trace ? mixSeed(salt, 0x7761_726d) : salt // 'warm'
    const nextPrompt = (): Prompt => source.at(cursor++, warmupSalt)
    // Warm up as many streams as the load keeps in flight (up to warmupRequests), so measured requests
    // do not pay for opening connections or first-use allocations.
    const warmupParallel = Math.max(
      1,
      Math.min(scenario.warmupRequests, load.kind === 'concurrent' ? load.concurrency : 1),
    )
    let warmupLeft = scenario.warmupRequests
    await Promise.all(
      Array.from({ length: warmupParallel }, async () => {
        while (warmupLeft > 0 && !signal.aborted) {
          warmupLeft--
          const p = nextPrompt()
          await executeRequest(
            engine,
            toRequest(p),
            { seq: -1, promptIndex: p.index, scheduledAt: clock.now() },
            {
              clock,
              origin: 0,
              timeoutMs: scenario.requestTimeoutMs,
              signal,
            },
          )
        }
      }),
    )
    if (signal.aborted) {
      const recorder = await sink.startRun(meta(target, created, load, loadIndex))
      await recorder.finish('interrupted', undefined)
      return { target: target.name, load, loadIndex, runId: recorder.runId, state: 'interrupted' }
    }

    // Measured prompts are drawn before the run's clock starts (prompts/ahead.ts: not on the event loop
    // while chunks wait to be stamped).
    const measuredPrompts = promptsAhead(source, {
      from: trace ? 0 : cursor,
      salt,
      expected: trace ? trace.offsetsMs.length : expectedRequests(load),
    })
    const runMeta = meta(target, created, load, loadIndex)
    const started: RunRecorder = await sink.startRun(runMeta)
    // finish is called once per run, whatever throws: a finish that threw must not be followed by a
    // second one from the catch below (two finish records in the JSONL, issue 14).
    let finishCalled = false
    const recorder: RunRecorder = {
      runId: started.runId,
      record: (outcome) => started.record(outcome),
      recordItem: (item) => started.recordItem(item),
      finish: (...args) => {
        finishCalled = true
        return started.finish(...args)
      },
    }
    emit({ type: 'load-start', target: target.name, load, loadIndex, runId: recorder.runId })
    const outcomes: RequestOutcome[] = []
    let seq = 0
    const stopLoad = options.stopLoad
    const loadSignal = stopLoad === undefined ? signal : AbortSignal.any([signal, stopLoad])
    // As for `signal`: every in-flight request listens to it.
    if (loadSignal !== signal) setMaxListeners(0, loadSignal)
    const histogram =
      options.monitorEventLoop === false
        ? undefined
        : monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS })
    histogram?.enable()
    // [memory] Starts the engine process's peak-RSS window (engines in a child process report memory).
    await engine.memory?.().catch(() => undefined)
    try {
      const loadResult = await executeLoad(load, {
        clock,
        signal: loadSignal,
        random: createRandom(scenario.seed + loadIndex),
        ...(trace ? { traceOffsetsMs: trace.offsetsMs } : {}),
        send: async (scheduledAt) => {
          const p = measuredPrompts.next()
          const outcome = await executeRequest(
            engine,
            toRequest(p),
            { seq: seq++, promptIndex: p.index, scheduledAt },
            {
              clock,
              origin: runMeta.clockOrigin,
              timeoutMs: scenario.requestTimeoutMs,
              signal: loadSignal,
            },
          )
          outcomes.push(outcome)
          recorder.record(outcome)
          emit({ type: 'request', target: target.name, loadIndex, outcome })
        },
      })
      histogram?.disable()
      const metrics = summarizeRun(outcomes, {
        ...(scenario.slo ? { slo: scenario.slo } : {}),
        droppedRequests: loadResult.dropped,
        ...(histogram && histogram.count > 0
          ? {
              // The histogram records the whole interval between samples; the delay is what exceeds it.
              eventLoopDelayP99Ms: Math.max(
                0,
                percentileOfHistogram(histogram, 99) / 1e6 - EVENT_LOOP_SAMPLE_MS,
              ),
            }
          : {}),
      })
      // [memory] Ends the window: the engine process's peak RSS in it, load figures, model size.
      Object.assign(metrics, memoryMetrics(await engine.memory?.().catch(() => undefined)))
      const nativeSpeed = nativeSpeeds.get(target.name)
      if (nativeSpeed) metrics.nativeSpeed = nativeSpeed
      if (signal.aborted || (loadResult.ended === 'aborted' && stopLoad?.aborted !== true)) {
        await recorder.finish('interrupted', metrics)
        return { target: target.name, load, loadIndex, runId: recorder.runId, state: 'interrupted', metrics }
      }
      if (stopLoad?.aborted === true) {
        const reason = toError(stopLoad.reason).message
        await recorder.finish('failed', metrics, reason)
        return {
          target: target.name,
          load,
          loadIndex,
          runId: recorder.runId,
          state: 'failed',
          metrics,
          error: reason,
        }
      }
      // A run that lost requests must not read as completed (nor feed leaderboards and baselines, which
      // take completed runs only): above the threshold it is failed, every measurement kept.
      const errorRateCheck = checkErrorRate(outcomes, maxErrorRate)
      const runState = errorRateCheck.passed ? 'completed' : 'failed'
      await recorder.finish(runState, metrics, errorRateCheck.reason)
      return {
        target: target.name,
        load,
        loadIndex,
        runId: recorder.runId,
        state: runState,
        metrics,
        ...(errorRateCheck.reason !== undefined ? { error: errorRateCheck.reason } : {}),
        errorRateCheck,
      }
    } catch (err) {
      histogram?.disable()
      const message = toError(err).message
      if (!finishCalled) await recorder.finish('failed', undefined, message)
      return { target: target.name, load, loadIndex, runId: recorder.runId, state: 'failed', error: message }
    }
  }

  /**
   * One accuracy run of a started target: scoring resolved (probing with the first item), the run row,
   * every item recorded as it is scored, figures at the end. Like runLoad: an interrupt keeps what was
   * scored (interrupted), more failed items than maxErrorRate allows fail the run with every item kept, and
   * a refused scoring (loglik on an engine that cannot) fails it with the reason and no figure.
   */
  async function runAccuracy(
    target: TargetConfig,
    created: CreatedEngine,
    prepared: PreparedAccuracy,
  ): Promise<LoadRunResult> {
    const engine = created.engine
    const first = prepared.items[0]
    if (!first) throw new HarnessError('an accuracy run without items') // prepareAccuracy refuses it
    // The run starts with the probe (item 0 is scored by it): its origin and wall time are the run's.
    const probeOrigin = clock.now()
    const probeStartedAtIso = new Date().toISOString()
    const ctx = { clock, origin: probeOrigin, timeoutMs: scenario.requestTimeoutMs, signal }
    let decision: Awaited<ReturnType<typeof resolveScoring>>
    try {
      decision = await resolveScoring(engine, prepared.requestedScoring, first, ctx)
    } catch (err) {
      decision = { state: 'refused', scoring: 'loglik', reason: toError(err).message }
    }
    const spec = accuracySpec(prepared, decision.scoring)
    const runMeta = {
      ...meta(target, created, spec, accuracyIndex),
      clockOrigin: probeOrigin,
      startedAtIso: probeStartedAtIso,
    }
    const { started, base, finish, finishCalled } = await startMeasuredRun(runMeta, spec, accuracyIndex)
    try {
      if (decision.state === 'refused') {
        await finish('failed', undefined, decision.reason)
        return { ...base, state: 'failed', error: decision.reason }
      }
      const { scoring } = decision
      if (decision.notice) emit({ type: 'notice', target: target.name, message: decision.notice })
      const items: ItemOutcome[] = []
      const take = (outcome: ItemOutcome) => {
        items.push(outcome)
        started.recordItem(outcome)
        emit({ type: 'item', target: target.name, loadIndex: accuracyIndex, outcome })
      }
      if (decision.first) take(decision.first)
      // `concurrency` workers take the next item in order; seq is the item's place in the selection, so
      // the stored order is the same whatever finished first.
      let next = items.length
      const worker = async () => {
        while (next < prepared.items.length && !signal.aborted) {
          const seq = next++
          const item = prepared.items[seq] as (typeof prepared.items)[number]
          const outcome = await scoreItem(engine, scoring, seq, item, ctx)
          // An item cut by the interrupt is not a result: nothing was measured.
          if (outcome.error?.kind === 'aborted') return
          take(outcome)
        }
      }
      await Promise.all(Array.from({ length: prepared.concurrency }, worker))
      const summary = summarizeItems(items)
      const figures = accuracyMetricRows(summary)
      const result: AccuracyRunResult = {
        ...summary,
        scoring,
        ...(decision.notice !== undefined ? { notice: decision.notice } : {}),
      }
      if (signal.aborted) {
        await finish('interrupted', figures)
        return { ...base, state: 'interrupted', accuracy: result }
      }
      const reason =
        summary.n === 0
          ? `no item was scored (${summary.errors} of ${summary.attempted} failed)`
          : itemErrorRateReason(summary, maxErrorRate)
      const runState = reason === undefined ? 'completed' : 'failed'
      await finish(runState, figures, reason)
      return {
        ...base,
        state: runState,
        accuracy: result,
        ...(reason !== undefined ? { error: reason } : {}),
      }
    } catch (err) {
      const message = toError(err).message
      if (!finishCalled()) await started.finish('failed', undefined, message)
      return { ...base, state: 'failed', error: message }
    }
  }

  /**
   * The run row of an accuracy or quality run, and its load-start event; `finish` records that it was
   * called, so a failure after it does not finish the run twice.
   */
  async function startMeasuredRun(runMeta: RunMeta, load: RunSpec, loadIndex: number) {
    const started = await sink.startRun(runMeta)
    const base = { target: runMeta.target.name, load, loadIndex, runId: started.runId }
    emit({ type: 'load-start', ...base })
    let called = false
    const finish: RunRecorder['finish'] = (...args) => {
      called = true
      return started.finish(...args)
    }
    return { started, base, finish, finishCalled: () => called }
  }

  /** The stored spec of a quality run: with the reference's variant name once the reference has started. */
  function qualitySpec(prepared: PreparedQuality): QualitySpec {
    return { ...prepared.spec, ...(referenceVariant !== undefined ? { referenceVariant } : {}) }
  }

  /**
   * One quality run of a started target. The reference target's run collects its distributions (kept for
   * the others) and then evaluates the same windows once more against them: its figures say how far the
   * engine repeats itself (KLD 0 and agreement 1 on a deterministic CPU backend). Any other target is
   * compared with the kept distributions; a different tokenization or vocabulary fails the run with the
   * reason, as does a reference that gave none. Fewer than 100 scored tokens: failed, no statistic.
   */
  async function runQuality(
    target: TargetConfig,
    created: CreatedEngine,
    prepared: PreparedQuality,
  ): Promise<LoadRunResult> {
    const isReference = target.name === prepared.spec.reference
    if (isReference) {
      const name = variantOf(target, created).variant?.name
      if (name !== undefined) referenceVariant = name
    }
    const spec = qualitySpec(prepared)
    const { started, base, finish, finishCalled } = await startMeasuredRun(
      meta(target, created, spec, qualityIndex),
      spec,
      qualityIndex,
    )
    try {
      if (isReference) {
        try {
          reference = await collectReference(created.engine, target.name, prepared.text, spec, signal)
        } catch (err) {
          if (!signal.aborted) referenceFailure = `reference target "${target.name}": ${toError(err).message}`
          throw err
        }
      }
      if (!reference)
        throw new HarnessError(
          `quality: no distributions of reference target "${spec.reference}" to compare with (${referenceFailure ?? 'it was not measured'})`,
        )
      const positions = await compareWithReference(
        created.engine,
        target.name,
        prepared.text,
        spec.contextTokens,
        reference,
        signal,
      )
      const summary = summarizeQuality(positions)
      const figures = qualityMetricRows(summary)
      const result: QualityRunResult = { reference: spec.reference, summary }
      const reason =
        summary.state === 'ok'
          ? undefined
          : `quality: ${summary.reason} (raise quality.maxTokens or use a longer corpus)`
      const runState = reason === undefined ? 'completed' : 'failed'
      await finish(runState, figures, reason)
      return { ...base, state: runState, quality: result, ...(reason !== undefined ? { error: reason } : {}) }
    } catch (err) {
      const interrupted = signal.aborted
      const message = interrupted ? 'interrupted' : toError(err).message
      if (!finishCalled())
        await started.finish(
          interrupted ? 'interrupted' : 'failed',
          undefined,
          interrupted ? undefined : message,
        )
      return interrupted ? { ...base, state: 'interrupted' } : { ...base, state: 'failed', error: message }
    }
  }

  function toRequest(p: Prompt): GenerationRequest {
    return {
      prompt: p.prompt,
      ...(p.messages ? { messages: p.messages } : {}),
      maxTokens: p.outputTokens,
      ...(scenario.fixedOutputLength ? { minTokens: p.outputTokens, ignoreEos: true } : {}),
      sampling: scenario.sampling,
    }
  }
}

/** The scenario path of each expanded load (`loads[1]`, `loads[2].loads[0]`), in expandLoads' order. */
function stepPaths(scenario: Scenario): string[] {
  return scenario.loads.flatMap((l, i) =>
    l.kind === 'sweep' ? l.loads.map((_, j) => `loads[${i}].loads[${j}]`) : [`loads[${i}]`],
  )
}

/** Each trace load's replay (offsets and prompts), by its index among the expanded loads. */
async function readTraces(
  loads: readonly LoadSpec[],
  paths: readonly string[],
  baseDir: string,
  seed: number,
): Promise<Map<number, { offsetsMs: number[]; prompts: PromptSource }>> {
  const traces = new Map<number, { offsetsMs: number[]; prompts: PromptSource }>()
  for (const [i, load] of loads.entries()) {
    if (load.kind !== 'trace') continue
    const trace = await readTrace(path.resolve(baseDir, load.path), load, paths[i] ?? 'loads')
    traces.set(i, {
      offsetsMs: trace.offsetsMs,
      prompts: tracePromptSource(trace.entries, { seed, hashBlockTokens: load.hashBlockTokens }),
    })
  }
  return traces
}

/**
 * The scenario hash of an accuracy or quality run: sha256 of its spec's canonical JSON, 16 hex digits as
 * scenarioHash.
 */
function specHash(spec: AccuracySpec | QualitySpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16)
}

/** The stored spec of an accuracy run that scores (or would have scored) by `scoring`. */
function accuracySpec(prepared: PreparedAccuracy, scoring: Scoring): AccuracySpec {
  return { ...prepared.spec, scoring, requestedScoring: prepared.requestedScoring }
}

const noCapabilities: Engine['info']['capabilities'] = {
  logprobs: false,
  scoreChoices: false,
  tokenize: false,
  memory: false,
  draft: false,
}

/** Every missing API-key variable at once, before anything starts. */
function checkEnvironment(scenario: Scenario): void {
  const missing = scenario.targets.flatMap((t, i) =>
    (engineDefinition(t.engine.kind)?.requiredEnv?.(t.engine) ?? [])
      .filter(({ variable }) => !process.env[variable])
      .map(
        ({ field, variable }) =>
          `  - targets[${i}].engine.${field}: environment variable ${variable} is not set; export it before the run`,
      ),
  )
  if (missing.length > 0)
    throw new HarnessError(`Scenario ${scenario.name} cannot start:\n${missing.join('\n')}`)
}

/** The variant a target declares, else what the engine knows (a fixture manifest), else nothing. */
function variantOf(target: TargetConfig, created: CreatedEngine | undefined): { variant?: VariantIdentity } {
  const v = target.variant
  if (!v) return created?.variant ? { variant: created.variant } : {}
  const format = requireEngineDefinition(target.engine.kind).variantFormat
  return {
    variant: {
      ...created?.variant,
      name: v.name,
      method: v.method,
      format,
      ...(v.family !== undefined ? { family: v.family } : {}),
      ...(v.quantLabel !== undefined ? { quantLabel: v.quantLabel } : {}),
      ...(v.bits !== undefined ? { bits: v.bits } : {}),
      ...(v.parent !== undefined ? { parent: { name: v.parent, method: 'base', format } } : {}),
    },
  }
}

/** The scenario as stored with a run: a mock server's literal apiKey is replaced (keys from env never appear). */
function withoutSecrets(scenario: Scenario): Scenario {
  return {
    ...scenario,
    targets: scenario.targets.map((t) =>
      'mock' in t.engine && t.engine.mock?.apiKey !== undefined
        ? { ...t, engine: { ...t.engine, mock: { ...t.engine.mock, apiKey: '[redacted]' } } }
        : t,
    ),
  }
}
