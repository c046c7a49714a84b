/**
 * runScenario: for each target, for each load step — start the engine, run the step (harness/load/run.ts:
 * warm up, write the run row, drive the load, hand every outcome to the sink as it happens, summarize).
 * A failing target is recorded as failed runs and the next target goes on; a run whose errorRate is above
 * maxErrorRate is failed (metrics kept, the reason in its error); an interrupt marks the current run
 * interrupted with every recorded outcome kept. The runner prints nothing: results and verdicts are
 * returned and emitted. A scenario that measures accuracy adds one run per target after its load steps
 * (harness/accuracy/run.ts): items instead of requests, the same sink, states and error threshold. A
 * scenario that measures quality adds one more run per target (harness/quality/run.ts): the reference
 * target goes first, its distributions are kept, and every target's are compared with them (KLD, top-1
 * agreement). What the kinds of run share is in run-context.ts.
 * @module
 */
import { createHash, randomInt } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import path from 'node:path'
import { prepareAccuracy } from './accuracy/prepare.ts'
import { accuracySpec, plannedScoring, runAccuracy } from './accuracy/run.ts'
import { canonicalJson } from './canonical-json.ts'
import { type Clock, systemClock } from './clock.ts'
import { DEFAULT_MAX_ERROR_RATE, scenarioHash } from './config/index.ts'
import type { Scenario, TargetConfig } from './config/schema.ts'
import type { Engine, NativeSpeedResult } from './engines/engine.ts'
import { engineDefinition, requireEngineDefinition } from './engines/registry.ts'
import { HarnessError, toError } from './errors.ts'
import { expandLoads, readTrace } from './load/index.ts'
import { runLoad } from './load/run.ts'
import { microSpecs, runMicro } from './micro/run.ts'
import { loadPrompts, mixSeed, type PromptSource, tracePromptSource } from './prompts/index.ts'
import { prepareQuality } from './quality/prepare.ts'
import { QualityRuns } from './quality/run.ts'
import type {
  AccuracySpec,
  EnvironmentInfo,
  GitInfo,
  LoadSpec,
  MicroSpec,
  QualitySpec,
  RunMeta,
  RunSpec,
  VariantIdentity,
} from './results.ts'
import type { LoadRunResult, RunContext, RunnerEvent } from './run-context.ts'
import type { ResultSink } from './sink.ts'
import { type CreatedEngine, createTargetEngine } from './target-engine.ts'

export {
  type AccuracyRunResult,
  type LoadRunResult,
  type QualityRunResult,
  RunInterrupted,
  type RunnerEvent,
} from './run-context.ts'

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
  /**
   * Runs one step of one target and nothing else (a queue job, db/queue): `loadIndex` as RunMeta numbers
   * it (the expanded loads, then the accuracy run, then the quality run, then the micro runs). The run
   * keeps the whole scenario's hash and its loadIndex, so it is stored as `bench run` stores that step.
   */
  only?: { target: string; loadIndex: number }
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
  // Micro loads (harness/micro/run.ts): one run each, after every other run of the target.
  const micros = measureLatency ? microSpecs(scenario) : []
  const microIndex = qualityIndex + (quality ? 1 : 0)
  // The reference's distributions, once its run collected them; it is measured first, so every other
  // target's quality run has it to compare with.
  const qualityRuns = quality ? new QualityRuns(quality, (t, c) => variantOf(t, c).variant?.name) : undefined
  const targets = qualityRuns ? qualityRuns.order(scenario.targets) : scenario.targets
  const hash = scenarioHash(scenario)
  const source = withoutSecrets(scenario)
  const maxErrorRate = options.maxErrorRate ?? scenario.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE
  const runs: LoadRunResult[] = []
  const nativeSpeeds = new Map<string, NativeSpeedResult>()
  let state: ScenarioRunResult['state'] = 'completed'
  const ctx: RunContext = { scenario, sink, clock, signal, emit, maxErrorRate, meta }
  const only = options.only
  const selected = (loadIndex: number) => only === undefined || only.loadIndex === loadIndex

  // The reference may sit in a temporary file (quality/measure.ts): removed however the loop ends.
  try {
    for (const target of targets) {
      if (signal.aborted) break
      if (only && target.name !== only.target) continue
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
        for (const [loadIndex, load] of loads.entries())
          if (selected(loadIndex)) await failed(load, loadIndex)
        if (accuracy && selected(accuracyIndex))
          await failed(accuracySpec(accuracy, plannedScoring(accuracy)), accuracyIndex)
        if (qualityRuns && selected(qualityIndex)) {
          qualityRuns.targetFailed(target, message)
          await failed(qualityRuns.spec(), qualityIndex)
        }
        for (const [i, spec] of micros.entries())
          if (selected(microIndex + i)) await failed(spec, microIndex + i)
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
          if (!selected(loadIndex)) continue
          const trace = traces.get(loadIndex)
          const nativeSpeed = nativeSpeeds.get(target.name)
          ended(
            await runLoad(ctx, {
              target,
              created,
              load,
              loadIndex,
              // Loads other than trace replays run only with prompts (the schema's rule).
              prompts: trace?.prompts ?? (prompts as PromptSource),
              ...(trace ? { traceOffsetsMs: trace.offsetsMs } : {}),
              salt: mixSeed(invocationSalt, runOrdinal++),
              ...(options.stopLoad ? { stopLoad: options.stopLoad } : {}),
              ...(options.monitorEventLoop !== undefined
                ? { monitorEventLoop: options.monitorEventLoop }
                : {}),
              ...(nativeSpeed ? { nativeSpeed } : {}),
            }),
          )
        }
        if (accuracy && !signal.aborted && selected(accuracyIndex))
          ended(await runAccuracy(ctx, target, created, accuracy, accuracyIndex))
        if (qualityRuns && !signal.aborted && selected(qualityIndex))
          ended(await qualityRuns.run(ctx, target, created, qualityIndex))
        for (const [i, spec] of micros.entries()) {
          if (signal.aborted) break
          if (selected(microIndex + i)) ended(await runMicro(ctx, target, created, spec, microIndex + i))
        }
      } finally {
        await created.dispose()
      }
    }
  } finally {
    qualityRuns?.dispose()
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
        // A micro run likewise times its tasks, whatever the request loads beside it.
        hash:
          load.kind === 'accuracy' || load.kind === 'quality' || load.kind === 'micro'
            ? specHash(load)
            : hash,
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
}

/** The scenario path of each expanded load (`loads[1]`, `loads[2].loads[0]`), in expandLoads' order. */
function stepPaths(scenario: Scenario): string[] {
  return scenario.loads.flatMap((l, i) =>
    l.kind === 'micro'
      ? [] // no request load: not among the expanded loads
      : l.kind === 'sweep'
        ? l.loads.map((_, j) => `loads[${i}].loads[${j}]`)
        : [`loads[${i}]`],
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
function specHash(spec: AccuracySpec | QualitySpec | MicroSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16)
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
