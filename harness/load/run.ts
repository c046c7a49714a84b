/**
 * One load step of a started target (runScenario, harness/runner.ts, calls it per expanded load): warm up
 * (excluded), write the run row, drive the load (executeLoad decides when, this sends and records), hand
 * every outcome to the sink as it happens, summarize. An interrupt marks the run interrupted with every
 * recorded outcome kept; an errorRate above maxErrorRate fails it with the metrics kept.
 * @module
 */
import { setMaxListeners } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Scenario, TargetConfig } from '../config/schema.ts'
import type { GenerationRequest, NativeSpeedResult } from '../engines/engine.ts'
import { toError } from '../errors.ts'
import { memoryMetrics } from '../memory/index.ts'
import { checkErrorRate, percentileOfHistogram, summarizeRun } from '../metrics/index.ts'
import { mixSeed, type Prompt, type PromptSource, promptsAhead } from '../prompts/index.ts'
import { createRandom } from '../random.ts'
import { executeRequest } from '../request.ts'
import type { LoadSpec, RequestOutcome } from '../results.ts'
import type { LoadRunResult, RunContext } from '../run-context.ts'
import { startRunServerMetrics } from '../server-metrics/hook.ts'
import type { RunRecorder } from '../sink.ts'
import type { CreatedEngine } from '../target-engine.ts'
import { executeLoad } from './execute.ts'
import { expectedRequests } from './expected.ts'

/** Sampling interval of the event-loop delay monitor, ms. */
const EVENT_LOOP_SAMPLE_MS = 5

/** What one load step needs beyond the context. */
export interface LoadRunInput {
  target: TargetConfig
  created: CreatedEngine
  load: LoadSpec
  loadIndex: number
  /** The scenario's prompts, or the trace's lines for a trace replay. */
  prompts: PromptSource
  /** A trace replay's offsets (ms from its first line, scaled); its measured request i is line i. */
  traceOffsetsMs?: number[]
  /** Salt of this run's synthetic prompt text (new in every run of every invocation). */
  salt: number
  /** Ends the step early without interrupting the scenario (RunScenarioOptions.stopLoad). */
  stopLoad?: AbortSignal
  /** Sample event-loop delay to flag clientSaturated. @default true */
  monitorEventLoop?: boolean
  /** The target's llama-bench-style pp / tg, measured once before its first load; kept with each run. */
  nativeSpeed?: NativeSpeedResult
}

export async function runLoad(ctx: RunContext, input: LoadRunInput): Promise<LoadRunResult> {
  const { scenario, clock, signal, sink } = ctx
  const { target, created, load, loadIndex, stopLoad } = input
  const engine = created.engine
  const isTrace = input.traceOffsetsMs !== undefined
  const source = input.prompts
  let cursor = 0
  // A trace's warmups take its first lines' lengths with other text (their own salt), and its measured
  // requests start at line 0, so request i is line i.
  const warmupSalt = isTrace ? mixSeed(input.salt, 0x7761_726d) : input.salt // 'warm'
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
          toRequest(scenario, p),
          { seq: -1, promptIndex: p.index, scheduledAt: clock.now() },
          { clock, origin: 0, timeoutMs: scenario.requestTimeoutMs, signal },
        )
      }
    }),
  )
  if (signal.aborted) {
    const recorder = await sink.startRun(ctx.meta(target, created, load, loadIndex))
    await recorder.finish('interrupted', undefined)
    return { target: target.name, load, loadIndex, runId: recorder.runId, state: 'interrupted' }
  }

  // Measured prompts are drawn before the run's clock starts (prompts/ahead.ts: not on the event loop
  // while chunks wait to be stamped).
  const measuredPrompts = promptsAhead(source, {
    from: isTrace ? 0 : cursor,
    salt: input.salt,
    expected: input.traceOffsetsMs?.length ?? expectedRequests(load),
  })
  // [server metrics] The endpoint's /metrics before the first measured request (harness/server-metrics):
  // off, or nothing for a native engine, unless the scenario names a URL; never fails the run.
  const serverMetrics = await startRunServerMetrics(scenario.serverMetrics, engine)
  const runMeta = ctx.meta(target, created, load, loadIndex)
  const started: RunRecorder = await sink.startRun(runMeta)
  // finish is called once per run, whatever throws: a finish that threw must not be followed by a
  // second one from the catch below (two finish records in the JSONL, issue 14).
  let finishCalled = false
  const recorder: RunRecorder = {
    runId: started.runId,
    record: (outcome) => started.record(outcome),
    recordItem: (item) => started.recordItem(item),
    ...(started.serverMetrics ? { serverMetrics: (record) => started.serverMetrics!(record) } : {}),
    finish: (...args) => {
      finishCalled = true
      return started.finish(...args)
    },
  }
  ctx.emit({ type: 'load-start', target: target.name, load, loadIndex, runId: recorder.runId })
  const outcomes: RequestOutcome[] = []
  let seq = 0
  const loadSignal = stopLoad === undefined ? signal : AbortSignal.any([signal, stopLoad])
  // As for `signal`: every in-flight request listens to it.
  if (loadSignal !== signal) setMaxListeners(0, loadSignal)
  const histogram =
    input.monitorEventLoop === false ? undefined : monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS })
  histogram?.enable()
  // [memory] Starts the engine process's peak-RSS window (engines in a child process report memory).
  await engine.memory?.().catch(() => undefined)
  try {
    const loadResult = await executeLoad(load, {
      clock,
      signal: loadSignal,
      random: createRandom(scenario.seed + loadIndex),
      ...(input.traceOffsetsMs ? { traceOffsetsMs: input.traceOffsetsMs } : {}),
      send: async (scheduledAt) => {
        const p = measuredPrompts.next()
        const outcome = await executeRequest(
          engine,
          toRequest(scenario, p),
          { seq: seq++, promptIndex: p.index, scheduledAt },
          { clock, origin: runMeta.clockOrigin, timeoutMs: scenario.requestTimeoutMs, signal: loadSignal },
        )
        outcomes.push(outcome)
        recorder.record(outcome)
        ctx.emit({ type: 'request', target: target.name, loadIndex, outcome })
      },
    })
    histogram?.disable()
    // [server metrics] After the last response: deltas over the run, stored before the run's finish; why
    // there are none is said on stderr too (a llama-server started without --metrics, a hosted API).
    const server = await serverMetrics?.finish(recorder)
    if (server?.state === 'unavailable')
      ctx.emit({
        type: 'notice',
        target: target.name,
        message: `no server metrics: ${server.reason} (serverMetrics: 'off' skips them)`,
      })
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
    if (input.nativeSpeed) metrics.nativeSpeed = input.nativeSpeed
    const base = { target: target.name, load, loadIndex, runId: recorder.runId, metrics }
    if (signal.aborted || (loadResult.ended === 'aborted' && stopLoad?.aborted !== true)) {
      await recorder.finish('interrupted', metrics)
      return { ...base, state: 'interrupted' }
    }
    if (stopLoad?.aborted === true) {
      const reason = toError(stopLoad.reason).message
      await recorder.finish('failed', metrics, reason)
      return { ...base, state: 'failed', error: reason }
    }
    // A run that lost requests must not read as completed (nor feed leaderboards and baselines, which
    // take completed runs only): above the threshold it is failed, every measurement kept.
    const errorRateCheck = checkErrorRate(outcomes, ctx.maxErrorRate)
    const runState = errorRateCheck.passed ? 'completed' : 'failed'
    await recorder.finish(runState, metrics, errorRateCheck.reason)
    return {
      ...base,
      state: runState,
      ...(errorRateCheck.reason !== undefined ? { error: errorRateCheck.reason } : {}),
      errorRateCheck,
    }
  } catch (err) {
    histogram?.disable()
    await serverMetrics?.finish(recorder)
    const message = toError(err).message
    if (!finishCalled) await recorder.finish('failed', undefined, message)
    return { target: target.name, load, loadIndex, runId: recorder.runId, state: 'failed', error: message }
  }
}

/** The engine request of one prompt under the scenario's sampling and output-length rules. */
function toRequest(scenario: Scenario, p: Prompt): GenerationRequest {
  return {
    prompt: p.prompt,
    ...(p.messages ? { messages: p.messages } : {}),
    maxTokens: p.outputTokens,
    ...(scenario.fixedOutputLength ? { minTokens: p.outputTokens, ignoreEos: true } : {}),
    sampling: scenario.sampling,
  }
}
