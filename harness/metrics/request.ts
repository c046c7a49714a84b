/**
 * Per-request figures derived from one outcome (METRICS.md "Per request"). Each returns undefined where
 * the definition does not apply, so a Distribution never sees NaN or Infinity.
 * @module
 */
import type { OkOutcome, RequestOutcome } from '../results.ts'

/** Everything derived from one ok outcome; undefined where the definition does not apply. */
export interface RequestMetrics {
  /** t1 − tSched, ms. */
  ttftSchedMs: number
  /** tSend − tSched, ms. */
  scheduleLagMs: number
  /** tLast − tSched, ms. */
  e2eSchedMs: number
  /** (e2eMs − ttftMs) / (outputTokens − 1), ms; outputTokens ≥ 2 only. */
  tpotMs: number | undefined
  /** (outputTokens − 1) / (chunks − 1); chunks ≥ 2 only. */
  tokensPerChunk: number | undefined
  /** 1000 / tpotMs; needs tpotMs > 0. */
  decodeTokensPerS: number | undefined
  /** promptTokens / (ttftMs / 1000); needs promptTokens and ttftMs > 0. */
  prefillTokensPerS: number | undefined
}

function finiteOrUndefined(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined
}

/** tSend − tSched, ms: how late the client sent. Defined for errors too (they were sent). */
export function scheduleLagMs(outcome: RequestOutcome): number {
  return outcome.startedAt - outcome.scheduledAt
}

/** t1 − tSched, ms (response view, corrects coordinated omission). */
export function ttftSchedMs(outcome: OkOutcome): number {
  return outcome.startedAt - outcome.scheduledAt + outcome.ttftMs
}

/** tLast − tSched, ms. */
export function e2eSchedMs(outcome: OkOutcome): number {
  return outcome.startedAt - outcome.scheduledAt + outcome.e2eMs
}

/** vLLM/SGLang TPOT (AIPerf/guidellm ITL), ms; undefined below 2 output tokens. */
export function tpotMs(outcome: OkOutcome): number | undefined {
  if (!(outcome.outputTokens >= 2)) return undefined
  return finiteOrUndefined((outcome.e2eMs - outcome.ttftMs) / (outcome.outputTokens - 1))
}

/** Tokens per content chunk after the first; undefined below 2 chunks. */
export function tokensPerChunk(outcome: OkOutcome): number | undefined {
  if (!(outcome.chunks >= 2)) return undefined
  return finiteOrUndefined((outcome.outputTokens - 1) / (outcome.chunks - 1))
}

/**
 * Per-user decode speed, tokens/s. Undefined without a TPOT, and when TPOT is 0 (every token arrived in
 * the first chunk, so there is no decode time to divide by).
 */
export function decodeTokensPerS(outcome: OkOutcome): number | undefined {
  const tpot = tpotMs(outcome)
  if (tpot === undefined || !(tpot > 0)) return undefined
  return finiteOrUndefined(1000 / tpot)
}

/** Prompt tokens per second of TTFT; undefined without a prompt count or when ttftMs is 0. */
export function prefillTokensPerS(outcome: OkOutcome): number | undefined {
  if (outcome.promptTokens === undefined || !(outcome.ttftMs > 0)) return undefined
  return finiteOrUndefined(outcome.promptTokens / (outcome.ttftMs / 1000))
}

/**
 * The server's own prompt time (llama-server `timings.prompt_ms`): evaluating the prompt tokens not
 * served from its cache, without queueing, HTTP or the client. ms.
 */
export function serverPromptMs(outcome: OkOutcome): number | undefined {
  const ms = outcome.serverTimings?.promptMs
  return ms === undefined ? undefined : finiteOrUndefined(ms)
}

/**
 * The server's time per output token, predicted_ms / (predicted_n − 1): llama-server counts predicted_ms
 * from the first generated token on, so it spans n − 1 steps (as tpotMs does). Needs predicted_n ≥ 2. ms.
 */
export function serverTpotMs(outcome: OkOutcome): number | undefined {
  const t = outcome.serverTimings
  if (t?.predictedMs === undefined || t.predictedN === undefined || t.predictedN < 2) return undefined
  return finiteOrUndefined(t.predictedMs / (t.predictedN - 1))
}

/** ttftMs − serverPromptMs: what the server's prompt time does not explain (queueing, HTTP, client). ms. */
export function ttftOverServerMs(outcome: OkOutcome): number | undefined {
  const server = serverPromptMs(outcome)
  return server === undefined ? undefined : outcome.ttftMs - server
}

/** tpotMs − serverTpotMs: per-token time the server's own clock does not explain (transport, client). ms. */
export function tpotOverServerMs(outcome: OkOutcome): number | undefined {
  const client = tpotMs(outcome)
  const server = serverTpotMs(outcome)
  return client === undefined || server === undefined ? undefined : client - server
}

/** All per-request figures of one ok outcome. */
export function requestMetrics(outcome: OkOutcome): RequestMetrics {
  return {
    ttftSchedMs: ttftSchedMs(outcome),
    scheduleLagMs: scheduleLagMs(outcome),
    e2eSchedMs: e2eSchedMs(outcome),
    tpotMs: tpotMs(outcome),
    tokensPerChunk: tokensPerChunk(outcome),
    decodeTokensPerS: decodeTokensPerS(outcome),
    prefillTokensPerS: prefillTokensPerS(outcome),
  }
}
