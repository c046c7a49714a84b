/**
 * The quality statistics of a variant against a reference over the scored positions (METRICS.md, Quality),
 * as llama.cpp's kl_divergence() in tools/perplexity/perplexity.cpp reports them:
 * - klDivergence: mean ± SE, median, p90, p95, p99, p99.9, min, max. SE is llama.cpp's
 *   mean_and_uncertainty, sqrt((Σx²/n − mean²)/(n − 1)) = sample sd / √n, computed here in two passes
 *   (Σ(x − mean)²), which is the same number without the cancellation. Percentiles interpolate linearly at
 *   rank fraction·(n − 1) and the median averages the two middle values, as its `percentile` lambda does
 *   (harness/metrics/percentile.ts is the same rule).
 * - deltaP: mean ± SE; RMS = sqrt(mean Δp²) ± 0.5/RMS · SE(Δp²) (llama.cpp's propagation).
 * - top1Agreement: p = mean sameTop ± sqrt(p(1 − p)/(n − 1)).
 * - lnPplRatio: ln(PPL_var/PPL_ref) = mean(nll_var − nll_ref) ± SE of that per-token difference, which
 *   equals llama.cpp's sqrt(se_var² + se_ref² − 2·cov).
 * Fewer than MIN_SCORED_TOKENS positions → no statistic, with the reason (llama.cpp: "we do not wish to do
 * statistics on so few values").
 * @module
 */
import { percentile } from '../metrics/percentile.ts'
import type { PositionComparison } from './position.ts'

/** Fewest scored positions that give statistics (llama.cpp's `kld.count < 100` cut). */
export const MIN_SCORED_TOKENS = 100

export interface MeanSe {
  readonly mean: number
  /** Standard error of the mean. */
  readonly se: number
}

export interface QualityStats {
  readonly state: 'ok'
  /** Scored positions. */
  readonly count: number
  /** True when computed from top-k lists (top-k.ts), not full distributions. */
  readonly approximate: boolean
  /** Nats. */
  readonly klDivergence: MeanSe & {
    readonly median: number
    readonly p90: number
    readonly p95: number
    readonly p99: number
    readonly p999: number
    readonly min: number
    readonly max: number
  }
  /** Probability of the actual next token, variant − reference. */
  readonly deltaP: MeanSe & { readonly rms: number; readonly rmsSe: number }
  /** Fraction of positions where both pick the same most likely token. */
  readonly top1Agreement: { readonly p: number; readonly se: number }
  /** ln(PPL_var / PPL_ref) = mean(nll_var − nll_ref). */
  readonly lnPplRatio: MeanSe
  readonly pplRef: number
  readonly pplVariant: number
}

export interface QualityInsufficient {
  readonly state: 'insufficient'
  readonly count: number
  readonly approximate: boolean
  readonly reason: string
}

export type QualitySummary = QualityStats | QualityInsufficient

/**
 * The statistics, or why there are none.
 * @param options.approximate mark the figures approximate; by default, when any position came from compareTopK
 */
export function summarizeQuality(
  positions: readonly PositionComparison[],
  options: { approximate?: boolean } = {},
): QualitySummary {
  const count = positions.length
  const approximate =
    options.approximate ?? positions.some((p) => 'approximate' in p && p.approximate === true)
  if (count < MIN_SCORED_TOKENS)
    return {
      state: 'insufficient',
      count,
      approximate,
      reason: `${count} scored token${count === 1 ? '' : 's'}, fewer than ${MIN_SCORED_TOKENS}: score a longer text`,
    }
  const kld = positions.map((p) => p.kld)
  const deltaP = positions.map((p) => p.deltaP)
  const deltaP2 = deltaP.map((d) => d * d)
  const nllDiff = positions.map((p) => p.nllVariant - p.nllRef)
  const sorted = [...kld].sort((a, b) => a - b)
  const k = meanSe(kld)
  const d = meanSe(deltaP)
  const mse = meanSe(deltaP2)
  const rms = Math.sqrt(mse.mean)
  let same = 0
  for (const p of positions) if (p.sameTop) same++
  const agreement = same / count
  return {
    state: 'ok',
    count,
    approximate,
    klDivergence: {
      ...k,
      median: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      min: sorted[0]!,
      max: sorted[count - 1]!,
    },
    deltaP: { ...d, rms, rmsSe: rms === 0 ? 0 : (0.5 / rms) * mse.se },
    top1Agreement: { p: agreement, se: Math.sqrt((agreement * (1 - agreement)) / (count - 1)) },
    lnPplRatio: meanSe(nllDiff),
    pplRef: Math.exp(mean(positions.map((p) => p.nllRef))),
    pplVariant: Math.exp(mean(positions.map((p) => p.nllVariant))),
  }
}

function mean(values: readonly number[]): number {
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/** Mean and sample sd / √n, n ≥ 2. */
function meanSe(values: readonly number[]): MeanSe {
  const m = mean(values)
  let squares = 0
  for (const v of values) squares += (v - m) ** 2
  return { mean: m, se: Math.sqrt(squares / (values.length - 1) / values.length) }
}
