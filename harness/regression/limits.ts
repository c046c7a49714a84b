/**
 * Bencher's threshold tests as pure functions from a baseline to a centre and two limits
 * (bencherdev/bencher `lib/bencher_boundary/src/limits/{mod,limit}.rs`, `quartiles.rs`). A lower limit is
 * the mirror image of the upper one about the centre, as Bencher forms it (`inverse_cdf_lower`).
 * @module
 */
import { percentile } from '../metrics/percentile.ts'
import { normalQuantile, studentTQuantile } from './distributions.ts'

export interface Limits {
  /** The baseline figure the limits surround: a mean or a median. */
  center: number
  lower: number
  upper: number
}

export interface MeanSd {
  mean: number
  /** Sample standard deviation (n − 1). */
  sd: number
  n: number
}

/**
 * Student-t prediction interval for the mean of `repetitions` new observations:
 * centre ± t_{confidence, n−1} · sd · √(1/repetitions + 1/n).
 *
 * With one repetition this is Bencher's `t_test` (docs: n = 25, mean 100, sd 10, boundary 0.977 → 78.54
 * and 121.46, which is t_{0.977,24} = 2.1044 times 10 · √(1 + 1/25)). `sd` is the Bessel-corrected sample
 * standard deviation that the textbook interval assumes; Bencher's `mean.rs` divides by n, which narrows
 * its interval by √((n − 1) / n), 2 % at n = 25.
 * @param confidence one-sided cumulative probability in [0.5, 1), Bencher's boundary
 * @throws RangeError when n < 2, sd < 0 or confidence is outside [0.5, 1)
 */
export function tTestLimits({ mean, sd, n }: MeanSd, confidence: number, repetitions = 1): Limits {
  checkConfidence(confidence)
  if (!(n >= 2)) throw new RangeError(`the t-test needs n ≥ 2, got ${n}`)
  if (!(sd >= 0)) throw new RangeError(`sd must be ≥ 0, got ${sd}`)
  const half = studentTQuantile(confidence, n - 1) * sd * Math.sqrt(1 / repetitions + 1 / n)
  return { center: mean, lower: mean - half, upper: mean + half }
}

/**
 * Normal limits, Bencher's `z_score`: centre ± Φ⁻¹(confidence) · sd / √repetitions
 * (docs: mean 100, sd 10, boundary 0.977 → 80.05 and 119.95).
 */
export function zScoreLimits(
  { mean, sd }: Pick<MeanSd, 'mean' | 'sd'>,
  confidence: number,
  repetitions = 1,
): Limits {
  checkConfidence(confidence)
  if (!(sd >= 0)) throw new RangeError(`sd must be ≥ 0, got ${sd}`)
  const half = (normalQuantile(confidence) * sd) / Math.sqrt(repetitions)
  return { center: mean, lower: mean - half, upper: mean + half }
}

/** Bencher's `percentage`: mean · (1 ∓ fraction). */
export function percentageLimits(mean: number, fraction: number): Limits {
  if (!(fraction >= 0)) throw new RangeError(`percentage must be ≥ 0, got ${fraction}`)
  const half = Math.abs(mean) * fraction
  return { center: mean, lower: mean - half, upper: mean + half }
}

export interface Quartiles {
  q1: number
  q2: number
  q3: number
}

/** Quartiles by linear interpolation between closest ranks (Bencher's `percentile_of_sorted`). */
export function quartiles(values: readonly number[]): Quartiles {
  const sorted = [...values].sort((a, b) => a - b)
  return { q1: percentile(sorted, 25), q2: percentile(sorted, 50), q3: percentile(sorted, 75) }
}

/**
 * Quartiles of the relative changes between adjacent points, |xᵢ₊₁ − xᵢ| / |xᵢ|, in the order given
 * (oldest first). Bencher's `Quartiles::new_delta`, after rustc-perf and rustls-bench. A step away from 0
 * has no relative size and is left out; 0 → 0 counts as no change.
 * @throws RangeError with fewer than 2 values
 */
export function deltaQuartiles(chronological: readonly number[]): Quartiles {
  if (chronological.length < 2) throw new RangeError('delta quartiles need at least 2 values')
  const deltas: number[] = []
  for (let i = 1; i < chronological.length; i++) {
    const before = chronological[i - 1]!
    const after = chronological[i]!
    if (before !== 0) deltas.push(Math.abs((after - before) / before))
    else if (after === 0) deltas.push(0)
  }
  return deltas.length > 0 ? quartiles(deltas) : { q1: 0, q2: 0, q3: 0 }
}

/**
 * Bencher's `iqr`: median ∓ k · (Q3 − Q1) / √repetitions. Not Tukey's fences, which start from Q1 and Q3.
 * The IQR measures the spread of one point; a mean of independent repetitions spreads 1/√repetitions as
 * far (Bencher compares single points only, so with one repetition this is its limit exactly).
 */
export function iqrLimits(q: Quartiles, multiplier: number, repetitions = 1): Limits {
  if (!(multiplier >= 0)) throw new RangeError(`IQR multiplier must be ≥ 0, got ${multiplier}`)
  const half = (multiplier * (q.q3 - q.q1)) / Math.sqrt(repetitions)
  return { center: q.q2, lower: q.q2 - half, upper: q.q2 + half }
}

/** Bencher's `delta_iqr`: median ∓ median · k · IQR(adjacent relative changes) / √repetitions. */
export function deltaIqrLimits(q: Quartiles, deltas: Quartiles, multiplier: number, repetitions = 1): Limits {
  if (!(multiplier >= 0)) throw new RangeError(`IQR multiplier must be ≥ 0, got ${multiplier}`)
  const half = (Math.abs(q.q2) * multiplier * (deltas.q3 - deltas.q1)) / Math.sqrt(repetitions)
  return { center: q.q2, lower: q.q2 - half, upper: q.q2 + half }
}

function checkConfidence(confidence: number): void {
  // Bencher's `Boundary::MIN_STATISTICAL` is 0.5 (the centre itself); 1 would be an infinite limit.
  if (!(confidence >= 0.5 && confidence < 1))
    throw new RangeError(`confidence must be in [0.5, 1), got ${confidence}`)
}
