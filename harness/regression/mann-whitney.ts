/**
 * Mann–Whitney U test of two independent samples (e.g. per-request TTFT of two runs): the exact null
 * distribution when there are no ties and the samples are small, otherwise the normal approximation with
 * tie and continuity corrections. asv's `_stats.is_different` is the model for how a gate uses it: a
 * difference is only reported when the sample sizes can reach the chosen p at all (`minAttainableP`).
 * @module
 */
import { lnGamma, normalCdf } from './distributions.ts'

export type MannWhitneyMethod = 'exact' | 'normal'

export interface MannWhitneyResult {
  /** U of x: pairs (xᵢ, yⱼ) with xᵢ > yⱼ, a tie counting ½. U of y is m·n − u. */
  u: number
  m: number
  n: number
  method: MannWhitneyMethod
  /** True when some value occurs more than once in the pooled sample. */
  ties: boolean
  /** One-sided p for "x tends to be smaller than y": P(U ≤ u) under H0. */
  pLess: number
  /** One-sided p for "x tends to be larger than y": P(U ≥ u) under H0. */
  pGreater: number
  /** min(1, 2 · min(pLess, pGreater)). */
  pTwoSided: number
  /**
   * The smallest one-sided p any outcome can have with these sizes, 1 / C(m + n, m) (all of x below all
   * of y). When it is not below the test level, no data could make the difference significant.
   */
  minAttainableP: number
}

export interface MannWhitneyOptions {
  /**
   * 'auto' is exact without ties when m + n ≤ 50 (every count C(50, 25) ≈ 1.3e14 is exact in a double),
   * else the normal approximation. 'exact' with ties throws. @default 'auto'
   */
  method?: 'auto' | MannWhitneyMethod
}

/** Pooled sizes up to this use the exact distribution under 'auto'. */
export const MANN_WHITNEY_EXACT_MAX_N = 50

/**
 * @param x first sample (e.g. the candidate run's per-request values)
 * @param y second sample (e.g. the baseline run's)
 * @throws RangeError when a sample is empty or holds a non-finite value
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  const m = x.length
  const n = y.length
  if (m === 0 || n === 0) throw new RangeError(`mannWhitneyU needs two non-empty samples, got ${m} and ${n}`)
  for (const v of [...x, ...y]) if (!Number.isFinite(v)) throw new RangeError(`mannWhitneyU got ${v}`)

  const { u, tieTerm } = rankStatistic(x, y)
  const ties = tieTerm > 0
  const requested = options.method ?? 'auto'
  if (requested === 'exact' && ties)
    throw new RangeError('the exact Mann–Whitney distribution assumes no ties')
  const method: MannWhitneyMethod =
    requested === 'auto' ? (!ties && m + n <= MANN_WHITNEY_EXACT_MAX_N ? 'exact' : 'normal') : requested
  const minAttainableP = 1 / choose(m + n, m)

  let pLess: number
  let pGreater: number
  if (method === 'exact') {
    const cdf = exactCdf(m, n)
    pLess = cdf[u]!
    // U is symmetric about m·n / 2, so P(U ≥ u) = P(U ≤ m·n − u).
    pGreater = cdf[m * n - u]!
  } else {
    const total = m + n
    const variance = ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)))
    if (variance <= 0) {
      // Every value tied: no evidence either way.
      pLess = 1
      pGreater = 1
    } else {
      const sd = Math.sqrt(variance)
      const mean = (m * n) / 2
      pLess = Math.min(1, normalCdf((u - mean + 0.5) / sd))
      pGreater = Math.min(1, normalCdf((mean - u + 0.5) / sd))
    }
  }
  return {
    u,
    m,
    n,
    method,
    ties,
    pLess,
    pGreater,
    pTwoSided: Math.min(1, 2 * Math.min(pLess, pGreater)),
    minAttainableP,
  }
}

/** U of x from mid-ranks of the pooled sample, and Σ (t³ − t) over tie groups. O((m + n) log(m + n)). */
function rankStatistic(x: readonly number[], y: readonly number[]): { u: number; tieTerm: number } {
  const pooled = [
    ...x.map((value) => ({ value, fromX: true })),
    ...y.map((value) => ({ value, fromX: false })),
  ]
  pooled.sort((a, b) => a.value - b.value)
  let rankSumX = 0
  let tieTerm = 0
  for (let i = 0; i < pooled.length; ) {
    let j = i
    while (j + 1 < pooled.length && pooled[j + 1]!.value === pooled[i]!.value) j++
    const midRank = (i + j) / 2 + 1
    const size = j - i + 1
    if (size > 1) tieTerm += size ** 3 - size
    for (let k = i; k <= j; k++) if (pooled[k]!.fromX) rankSumX += midRank
    i = j + 1
  }
  const m = x.length
  return { u: rankSumX - (m * (m + 1)) / 2, tieTerm }
}

/** C(n, k) as a double; multiplied out while that stays finite, so small cases are exact. */
function choose(n: number, k: number): number {
  const r = Math.min(k, n - k)
  let c = 1
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i
  return Number.isFinite(c) ? c : Math.exp(lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1))
}

const cdfCache = new Map<string, Float64Array>()

/**
 * P(U ≤ u) for u = 0 … m·n under H0 without ties. Counts of U follow f(a, b, u) = f(a, b − 1, u) +
 * f(a − 1, b, u − b) (Mann & Whitney 1947), built up one b at a time.
 */
function exactCdf(m: number, n: number): Float64Array {
  const key = m <= n ? `${m},${n}` : `${n},${m}`
  const cached = cdfCache.get(key)
  if (cached) return cached
  const small = Math.min(m, n)
  const large = Math.max(m, n)
  // counts[a] holds f(a, b, ·) for the current b; f(0, b, u) = [u = 0].
  let counts: Float64Array[] = Array.from({ length: small + 1 }, () => Float64Array.of(1))
  for (let b = 1; b <= large; b++) {
    const next: Float64Array[] = [Float64Array.of(1)]
    for (let a = 1; a <= small; a++) {
      const row = new Float64Array(a * b + 1)
      const sameA = counts[a]!
      for (let u = 0; u < sameA.length; u++) row[u] = sameA[u]!
      const fewerA = next[a - 1]!
      for (let u = 0; u < fewerA.length; u++) row[u + b] = row[u + b]! + fewerA[u]!
      next.push(row)
    }
    counts = next
  }
  const f = counts[small]!
  let total = 0
  for (const c of f) total += c
  const cdf = new Float64Array(f.length)
  let running = 0
  for (let u = 0; u < f.length; u++) {
    running += f[u]!
    cdf[u] = Math.min(1, running / total)
  }
  cdfCache.set(key, cdf)
  return cdf
}
