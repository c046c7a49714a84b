/**
 * Per-run figures (METRICS.md "Per run") from the measured outcomes of one run.
 * @module
 */
import type { RequestErrorKind } from '../errors.ts'
import type { OkOutcome, RequestOutcome } from '../results.ts'
import { isAborted } from './error-rate.ts'
import { distribution } from './percentile.ts'
import {
  decodeTokensPerS,
  e2eSchedMs,
  prefillTokensPerS,
  scheduleLagMs,
  serverPromptMs,
  serverTpotMs,
  tokensPerChunk,
  tpotMs,
  tpotOverServerMs,
  ttftOverServerMs,
  ttftSchedMs,
} from './request.ts'
import type { RunMetrics, Slo } from './types.ts'

/** Above either bound the numbers describe the client, not the server (`clientSaturated`). */
export interface SaturationThresholds {
  /**
   * Client event-loop delay p99 (lateness of a 5 ms sampling timer) above which the run counts as
   * client-saturated. ms. @default 5 — measured with `bench selftest` on the 2-core dev box (mock injecting
   * TTFT 50 ms, gaps 10 ms): 1 stream, delay p99 ~1 ms, TTFT error p99 ~1.7 ms; 256 streams, delay p99
   * 7–12 ms, TTFT error p99 18–50 ms. 15 ms let the 256-stream run through as trustworthy.
   */
  eventLoopDelayP99Ms?: number
  /** scheduleLagMs p99 above which the run counts as client-saturated. ms. @default 50 */
  scheduleLagP99Ms?: number
}

export const DEFAULT_SATURATION_THRESHOLDS: Readonly<Required<SaturationThresholds>> = {
  eventLoopDelayP99Ms: 5,
  scheduleLagP99Ms: 50,
}

export interface SummarizeRunOptions {
  /** Bounds for goodput; without it goodputRequestsPerS and goodFraction are absent. */
  slo?: Slo
  /** Open-loop arrivals not sent because maxInFlight was full. @default 0 */
  droppedRequests?: number
  /** Client event-loop delay p99 measured over the window, ms. Absent: not measured. */
  eventLoopDelayP99Ms?: number
  /** @default DEFAULT_SATURATION_THRESHOLDS (5 ms event-loop delay p99, 50 ms scheduleLag p99) */
  saturation?: SaturationThresholds
}

/**
 * Whether an ok request meets every bound of the SLO. A request with one output token has no TPOT and
 * meets a TPOT bound: it had no decode phase to be slow in, and its TTFT and e2e bounds still apply.
 */
export function meetsSlo(outcome: OkOutcome, slo: Slo): boolean {
  if (slo.ttftMs !== undefined && !(outcome.ttftMs <= slo.ttftMs)) return false
  if (slo.e2eMs !== undefined && !(outcome.e2eMs <= slo.e2eMs)) return false
  if (slo.tpotMs !== undefined) {
    const tpot = tpotMs(outcome)
    if (tpot !== undefined && !(tpot <= slo.tpotMs)) return false
  }
  return true
}

/** tLast of an outcome; an error without content progress ends at its tSend as far as we know. */
function endOf(outcome: RequestOutcome): number {
  return outcome.startedAt + (outcome.e2eMs ?? 0)
}

/**
 * Highest output-token count in a 1-s bucket. Buckets are laid from the window start; when the window is
 * not a whole number of seconds, one more 1-s bucket ends at the window end, so every token falls in a
 * full second and no rate is extrapolated from a sliver. A window shorter than 1 s is one bucket of its
 * own length (the peak then equals outputTokensPerS). Chunk arrival times are rebuilt as
 * t1 = tSend + ttftMs, tk = tk−1 + chunkGapsMs[k−2], and a request's outputTokens are spread evenly over
 * its chunks (a chunk's own token count is not kept).
 */
export function peakOutputTokensPerS(
  ok: readonly OkOutcome[],
  windowStartMs: number,
  windowMs: number,
): number {
  if (!(windowMs > 0)) return 0
  const fullBuckets = Math.floor(windowMs / 1000)
  if (fullBuckets === 0) {
    let total = 0
    for (const o of ok) total += o.outputTokens
    return total / (windowMs / 1000)
  }
  const buckets = new Float64Array(fullBuckets)
  const hasTail = windowMs > fullBuckets * 1000
  let tail = 0
  const add = (tMs: number, tokens: number) => {
    // Gaps that do not add up to e2eMs must not push tokens outside the window.
    const offset = Math.min(windowMs, Math.max(0, tMs - windowStartMs))
    const index = Math.floor(offset / 1000)
    if (index < fullBuckets) buckets[index]! += tokens
    else if (!hasTail) buckets[fullBuckets - 1]! += tokens
    if (hasTail && offset >= windowMs - 1000) tail += tokens
  }
  for (const o of ok) {
    if (!(o.outputTokens > 0)) continue
    const tokensEach = o.outputTokens / (o.chunkGapsMs.length + 1)
    let t = o.startedAt + o.ttftMs
    add(t, tokensEach)
    for (const gap of o.chunkGapsMs) {
      t += gap
      add(t, tokensEach)
    }
  }
  let peak = tail
  for (const tokens of buckets) peak = Math.max(peak, tokens)
  return peak
}

/**
 * TTFT measured mostly a cache hit: the server took at least half of the prompt from its cache
 * (timings.cache_n ≥ prompt_n). Not cache_n > 0: llama-server reuses the BOS token of any earlier prompt,
 * so unrelated prompts report cache_n = 1 (measured on llama-server 80fb11a).
 */
function servedFromCache(outcome: OkOutcome): boolean {
  const cached = outcome.serverTimings?.cacheN ?? 0
  return cached > 0 && cached >= (outcome.serverTimings?.promptN ?? 0)
}

function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

function defined<T>(values: readonly (T | undefined)[]): T[] {
  return values.filter((v): v is T => v !== undefined)
}

/** Absent rather than `undefined` keys, so stored and compared metrics hold only what was measured. */
function withoutUndefined<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>
  }
}

/**
 * Summarizes the measured outcomes of one run (warmup already excluded).
 *
 * - Window: first tSend → last tLast over all outcomes; an error's tLast is tSend + e2eMs when content
 *   arrived, else its tSend. Rates are 0 when the window is 0.
 * - Token throughputs count ok requests only; a missing promptTokens counts 0 in totalTokensPerS.
 * - effectiveConcurrency sums e2eMs of ok requests and of errors that report one.
 * - scheduleLagMs pools every attempted request (errors were sent too); the other distributions pool ok
 *   requests; chunkGapsMs pools every gap of every ok request.
 * - tokenCountDiscrepancyPct is the mean over ok requests with both counts and a server count > 0.
 * - Requests the run's interrupt aborted (kind `aborted`) were ended by the user, not the server: they
 *   are left out of every figure (attempted, errors, errorRate, window …) and counted in abortedRequests.
 * Empty input gives zeros and no distributions; no figure is ever NaN or Infinity.
 */
export function summarizeRun(
  allOutcomes: readonly RequestOutcome[],
  options: SummarizeRunOptions = {},
): RunMetrics {
  const outcomes = allOutcomes.filter((o) => !isAborted(o))
  const ok = outcomes.filter((o): o is OkOutcome => o.state === 'ok')
  const attempted = outcomes.length
  const errors = attempted - ok.length

  const errorsByKind: Partial<Record<RequestErrorKind, number>> = {}
  for (const o of outcomes) {
    if (o.state === 'error') errorsByKind[o.error.kind] = (errorsByKind[o.error.kind] ?? 0) + 1
  }

  let windowStartMs = Number.POSITIVE_INFINITY
  let windowEndMs = Number.NEGATIVE_INFINITY
  for (const o of outcomes) {
    windowStartMs = Math.min(windowStartMs, o.startedAt)
    windowEndMs = Math.max(windowEndMs, endOf(o))
  }
  const windowMs = attempted > 0 ? Math.max(0, windowEndMs - windowStartMs) : 0
  const perS = (count: number) => (windowMs > 0 ? count / (windowMs / 1000) : 0)

  let outputTokens = 0
  let promptTokens = 0
  let busyMs = 0
  for (const o of outcomes) {
    busyMs += o.e2eMs ?? 0
    if (o.state !== 'ok') continue
    outputTokens += o.outputTokens
    promptTokens += o.promptTokens ?? 0
  }

  const lag = distribution(outcomes.map(scheduleLagMs))
  const eventLoopLimitMs =
    options.saturation?.eventLoopDelayP99Ms ?? DEFAULT_SATURATION_THRESHOLDS.eventLoopDelayP99Ms
  const lagLimitMs = options.saturation?.scheduleLagP99Ms ?? DEFAULT_SATURATION_THRESHOLDS.scheduleLagP99Ms
  const clientSaturated =
    (options.eventLoopDelayP99Ms !== undefined && options.eventLoopDelayP99Ms > eventLoopLimitMs) ||
    (lag !== undefined && lag.p99 > lagLimitMs)

  const metrics: RunMetrics = {
    windowMs,
    attempted,
    ok: ok.length,
    errors,
    errorsByKind,
    requestsPerS: perS(ok.length),
    outputTokensPerS: perS(outputTokens),
    totalTokensPerS: perS(promptTokens + outputTokens),
    peakOutputTokensPerS: attempted > 0 ? peakOutputTokensPerS(ok, windowStartMs, windowMs) : 0,
    effectiveConcurrency: windowMs > 0 ? busyMs / windowMs : 0,
    errorRate: attempted > 0 ? errors / attempted : 0,
    droppedRequests: options.droppedRequests ?? 0,
    abortedRequests: allOutcomes.length - outcomes.length,
    connectionRetries: outcomes.reduce((n, o) => n + (o.connectionRetries ?? 0), 0),
    clientSaturated,
  }

  if (options.slo !== undefined) {
    const slo = options.slo
    const good = ok.filter((o) => meetsSlo(o, slo)).length
    metrics.goodputRequestsPerS = perS(good)
    metrics.goodFraction = attempted > 0 ? good / attempted : 0
  }

  const discrepancies = defined(
    ok.map((o) =>
      o.serverOutputTokens !== undefined && o.tokenizerOutputTokens !== undefined && o.serverOutputTokens > 0
        ? (Math.abs(o.serverOutputTokens - o.tokenizerOutputTokens) / o.serverOutputTokens) * 100
        : undefined,
    ),
  )
  const perChunk = defined(ok.map(tokensPerChunk))
  const timed = ok.filter((o) => o.serverTimings !== undefined)
  let cachedTokens = 0
  let serverPromptTokens = 0
  for (const o of timed) {
    cachedTokens += o.serverTimings?.cacheN ?? 0
    serverPromptTokens += (o.serverTimings?.cacheN ?? 0) + (o.serverTimings?.promptN ?? 0)
  }

  return Object.assign(
    metrics,
    withoutUndefined({
      tokenCountDiscrepancyPct: mean(discrepancies),
      tokenCountDiscrepancyN: discrepancies.length > 0 ? discrepancies.length : undefined,
      eventLoopDelayP99Ms: options.eventLoopDelayP99Ms,
      ttftMs: distribution(ok.map((o) => o.ttftMs)),
      ttftSchedMs: distribution(ok.map(ttftSchedMs)),
      scheduleLagMs: lag,
      tpotMs: distribution(defined(ok.map(tpotMs))),
      chunkGapsMs: distribution(ok.flatMap((o) => o.chunkGapsMs)),
      e2eMs: distribution(ok.map((o) => o.e2eMs)),
      e2eSchedMs: distribution(ok.map(e2eSchedMs)),
      decodeTokensPerS: distribution(defined(ok.map(decodeTokensPerS))),
      prefillTokensPerS: distribution(defined(ok.map(prefillTokensPerS))),
      outputTokens: distribution(ok.map((o) => o.outputTokens)),
      promptTokens: distribution(defined(ok.map((o) => o.promptTokens))),
      tokensPerChunk: mean(perChunk),
      tokensPerChunkN: perChunk.length > 0 ? perChunk.length : undefined,
      serverPromptMs: distribution(defined(timed.map(serverPromptMs))),
      serverTpotMs: distribution(defined(timed.map(serverTpotMs))),
      ttftOverServerMs: distribution(defined(timed.map(ttftOverServerMs))),
      tpotOverServerMs: distribution(defined(timed.map(tpotOverServerMs))),
      promptCacheHits: timed.length > 0 ? timed.filter(servedFromCache).length : undefined,
      promptCachedTokensPct: serverPromptTokens > 0 ? (cachedTokens / serverPromptTokens) * 100 : undefined,
      serverTimingsN: timed.length > 0 ? timed.length : undefined,
    }),
  )
}
