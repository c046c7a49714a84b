/**
 * Exact binomial and hypergeometric tails in log space, so n = 10,000 items (and far more) neither
 * underflows (0.5^10000 is 1e-3011) nor overflows (C(10000, 5000) is 1e3008).
 * @module
 */

/** ln Σ exp(t) over `terms`, without overflow or underflow; -Infinity for none. */
export function logSumExp(terms: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY
  for (const t of terms) if (t > max) max = t
  if (max === Number.NEGATIVE_INFINITY) return max
  let sum = 0
  for (const t of terms) sum += Math.exp(t - max)
  return max + Math.log(sum)
}

/**
 * P(X ≤ k) for X ~ Binomial(n, 1/2), summed term by term: ln P(X = 0) = −n·ln 2, then
 * ln P(X = i) = ln P(X = i − 1) + ln(n − i + 1) − ln i. Exact up to rounding for any n.
 * @throws RangeError unless n and k are integers with n ≥ 0
 */
export function binomialHalfCdf(k: number, n: number): number {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(k)))
    throw new RangeError(`binomial tail needs integers n ≥ 0 and k, got n = ${n}, k = ${k}`)
  if (k < 0) return 0
  if (k >= n) return 1
  // The smaller tail is summed, so the answer keeps its relative precision when it is tiny.
  const upper = k >= n / 2
  const last = upper ? n - k - 1 : k
  const terms: number[] = []
  let term = -n * Math.LN2
  terms.push(term)
  for (let i = 1; i <= last; i++) {
    term += Math.log(n - i + 1) - Math.log(i)
    terms.push(term)
  }
  const tail = Math.exp(logSumExp(terms))
  // By symmetry P(X ≥ n − last) = P(X ≤ last), so the upper case is 1 − that.
  return upper ? 1 - tail : Math.min(1, tail)
}

/** ln n! for 0 ≤ i ≤ n, as a table (exact sums of logs; N up to millions in a few ms). */
export function logFactorials(n: number): Float64Array {
  const table = new Float64Array(n + 1)
  for (let i = 2; i <= n; i++) table[i] = table[i - 1]! + Math.log(i)
  return table
}

/**
 * P(X ≤ x) for X hypergeometric: `draws` taken from `population` holding `successes` (Fisher's exact test's
 * one-sided p-value for the first group having x successes or fewer).
 */
export function hypergeometricCdf(x: number, population: number, successes: number, draws: number): number {
  const lf = logFactorials(population)
  const lnChoose = (n: number, k: number) => lf[n]! - lf[k]! - lf[n - k]!
  const lo = Math.max(0, draws - (population - successes))
  const hi = Math.min(draws, successes)
  if (x < lo) return 0
  if (x >= hi) return 1
  const denominator = lnChoose(population, draws)
  const terms: number[] = []
  for (let i = lo; i <= x; i++)
    terms.push(lnChoose(successes, i) + lnChoose(population - successes, draws - i) - denominator)
  return Math.min(1, Math.exp(logSumExp(terms)))
}
