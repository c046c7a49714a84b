/**
 * Order statistics over kept samples: percentiles by linear interpolation between closest ranks (numpy's
 * default `method='linear'`) and the Distribution summary every per-request quantity is reported as.
 * @module
 */
import type { Distribution } from './types.ts'

/**
 * The p-th percentile of ascending `sorted` values, linear between closest ranks: rank = p/100 · (n − 1).
 * @param p percentile in [0, 100]
 * @throws RangeError when `sorted` is empty or p is outside [0, 100]
 */
export function percentile(sorted: readonly number[], p: number): number {
  return percentileOfRanks(sorted.length, (i) => sorted[i]!, p)
}

/** What percentileOfHistogram reads: a Node RecordableHistogram / IntervalHistogram (HdrHistogram ranks). */
export interface RankedHistogram {
  readonly count: number
  /** HdrHistogram: the value at 1-based rank max(1, round(p/100 · count)). */
  percentile(p: number): number
}

/**
 * The p-th percentile, linear between closest ranks exactly as percentile(), of the values a Node histogram
 * holds (monitorEventLoopDelay keeps no samples). Its own percentile(99) is the nearest rank, which up to 50
 * samples (a 250 ms window sampled every 5 ms) is the maximum: one pause would decide it.
 * @throws RangeError when the histogram is empty or p is outside [0, 100]
 */
export function percentileOfHistogram(histogram: RankedHistogram, p: number): number {
  const n = histogram.count
  // Rank i (0-based) is where HdrHistogram's rounding lands on i + 1.
  return percentileOfRanks(n, (i) => histogram.percentile(Math.min(100, (100 * (i + 1)) / n)), p)
}

function percentileOfRanks(n: number, valueAt: (index: number) => number, p: number): number {
  if (n === 0) throw new RangeError('percentile of no values')
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`)
  const rank = (p / 100) * (n - 1)
  const lo = Math.floor(rank)
  const hi = Math.min(lo + 1, n - 1)
  const below = valueAt(lo)
  const above = valueAt(hi)
  const fraction = rank - lo
  // Equal neighbours or an exact rank return the sample itself, so constant data never drifts by an ulp.
  if (fraction === 0 || below === above) return below
  return below + (above - below) * fraction
}

/**
 * Summary of a sample: mean, sample sd (n − 1; 0 for a single value), min, max, p50 … p99.9.
 * Non-finite values are not samples and are left out (n counts what was kept).
 * @returns undefined when no finite value remains
 */
export function distribution(values: readonly number[]): Distribution | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  const n = sorted.length
  if (n === 0) return undefined
  const min = sorted[0]!
  const max = sorted[n - 1]!
  let mean = min
  let sd = 0
  if (min !== max) {
    let sum = 0
    for (const v of sorted) sum += v
    mean = Math.min(max, Math.max(min, sum / n))
    let squares = 0
    for (const v of sorted) squares += (v - mean) ** 2
    // min ≠ max implies n ≥ 2.
    sd = Math.sqrt(squares / (n - 1))
  }
  return {
    n,
    mean,
    sd,
    min,
    max,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
  }
}
