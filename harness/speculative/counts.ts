/**
 * Exact acceptance counts of a draft/verify loop and what METRICS.md derives from them. Pure.
 *
 * - draftAcceptanceRate = accepted / drafted (vLLM's acceptance rate; not α when per-position rates fall)
 * - τ (meanAcceptanceLength) = 1 + accepted / verifySteps (bonus token included; vLLM's definition)
 * - per-position rate_k = accepted at position k / verifySteps (k = 1..K: the k-th drafted token was kept)
 * - conditional α_k = rate_k / rate_(k−1) (rate_0 = 1): acceptance at k given k − 1 kept
 * - α̂ = the α with (1 − α^(K+1)) / (1 − α) = τ (model.ts alphaFromTau)
 * @module
 */
import { alphaFromTau } from './model.ts'

/** Counts of one (K, prompt) run, or of several merged. Every verify step drafted exactly K tokens. */
export interface SpecCounts {
  k: number
  /** Target verify steps (each evaluates the last committed token and the K drafted ones in one batch). */
  verifySteps: number
  /** Drafted tokens = K × verifySteps. */
  drafted: number
  /** Drafted tokens kept. */
  accepted: number
  /** acceptedAtPosition[i] = steps whose (i+1)-th drafted token was kept; length K. */
  acceptedAtPosition: number[]
  /** acceptLengths[n] = steps that kept exactly n drafted tokens (emitting n + 1); length K + 1. */
  acceptLengths: number[]
  /** Tokens emitted (accepted + one correction or bonus per step), before the cut at maxTokens. */
  emitted: number
}

export function emptyCounts(k: number): SpecCounts {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`K must be an integer ≥ 1, got ${k}`)
  return {
    k,
    verifySteps: 0,
    drafted: 0,
    accepted: 0,
    acceptedAtPosition: new Array<number>(k).fill(0),
    acceptLengths: new Array<number>(k + 1).fill(0),
    emitted: 0,
  }
}

/** Adds one verify step that kept `accepted` (0..K) of its K drafted tokens. Mutates and returns `c`. */
export function recordStep(c: SpecCounts, accepted: number): SpecCounts {
  if (!Number.isInteger(accepted) || accepted < 0 || accepted > c.k)
    throw new RangeError(`accepted must be an integer in 0..${c.k}, got ${accepted}`)
  c.verifySteps++
  c.drafted += c.k
  c.accepted += accepted
  for (let i = 0; i < accepted; i++) c.acceptedAtPosition[i]!++
  c.acceptLengths[accepted]!++
  c.emitted += accepted + 1
  return c
}

/** The sum of counts with the same K (e.g. one study's prompts). */
export function mergeCounts(all: readonly SpecCounts[]): SpecCounts {
  const k = all[0]?.k
  if (k === undefined) throw new RangeError('mergeCounts needs at least one SpecCounts')
  const out = emptyCounts(k)
  for (const c of all) {
    if (c.k !== k) throw new RangeError(`mergeCounts: K ${c.k} ≠ ${k}`)
    out.verifySteps += c.verifySteps
    out.drafted += c.drafted
    out.accepted += c.accepted
    out.emitted += c.emitted
    for (let i = 0; i < k; i++) out.acceptedAtPosition[i]! += c.acceptedAtPosition[i]!
    for (let n = 0; n <= k; n++) out.acceptLengths[n]! += c.acceptLengths[n]!
  }
  return out
}

export interface AcceptanceMetrics {
  /** accepted / drafted. */
  draftAcceptanceRate: number
  /** τ = 1 + accepted / verifySteps. */
  meanAcceptanceLength: number
  /** rate_k = acceptedAtPosition[k−1] / verifySteps, k = 1..K. */
  perPositionRate: number[]
  /** rate_k / rate_(k−1); NaN where rate_(k−1) = 0. */
  conditionalAlpha: number[]
  /** α̂ solving E(α, K) = τ. */
  alphaHat: number
}

/** undefined without a verify step (nothing was measured). */
export function acceptanceMetrics(c: SpecCounts): AcceptanceMetrics | undefined {
  if (c.verifySteps === 0) return undefined
  const tau = 1 + c.accepted / c.verifySteps
  const perPositionRate = c.acceptedAtPosition.map((a) => a / c.verifySteps)
  return {
    draftAcceptanceRate: c.accepted / c.drafted,
    meanAcceptanceLength: tau,
    perPositionRate,
    conditionalAlpha: perPositionRate.map((r, i) => {
      const prev = i === 0 ? 1 : perPositionRate[i - 1]!
      return prev > 0 ? r / prev : Number.NaN
    }),
    alphaHat: alphaFromTau(tau, c.k),
  }
}
