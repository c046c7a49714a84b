/**
 * The analytic model of speculative decoding (Leviathan, Kalman, Matias 2023, §3.3 and Theorem 3.8;
 * ../METRICS.md "Speculative decoding"): with a per-token acceptance rate α, assumed the same at every
 * position and independent, and K drafted tokens per target step,
 *
 *   E = (1 − α^(K+1)) / (1 − α)   expected tokens emitted per target (verify) step, bonus token included;
 *                                  E = K + 1 when α = 1
 *   S = E / (K·c + 1)             expected speedup in wall time, c = draft / target cost of one token
 *
 * Pure: no I/O, no clock. α̂ (the α whose E equals a measured τ) inverts E.
 * @module
 */

function checkAlpha(alpha: number, name = 'alpha'): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${alpha}`)
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`K must be an integer ≥ 0, got ${k}`)
}

function checkCost(c: number): void {
  if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`c must be a finite number ≥ 0, got ${c}`)
}

/**
 * E = (1 − α^(K+1)) / (1 − α): expected tokens per verify step. Computed as Σ_{i=0..K} α^i, the same value
 * without the 0/0 at α = 1 or the cancellation just below it.
 */
export function expectedTokensPerStep(alpha: number, k: number): number {
  checkAlpha(alpha)
  checkK(k)
  let sum = 0
  let term = 1
  for (let i = 0; i <= k; i++) {
    sum += term
    term *= alpha
  }
  return sum
}

/** S = E / (K·c + 1): predicted speedup over decoding with the target alone. */
export function predictedSpeedup(alpha: number, k: number, c: number): number {
  checkCost(c)
  return expectedTokensPerStep(alpha, k) / (k * c + 1)
}

export interface OptimalK {
  /** The K in 1..maxK with the largest predicted speedup (the smallest such K on a tie). */
  k: number
  speedup: number
  /** false when even the best K predicts S ≤ 1: decoding with the target alone is as fast or faster. */
  worthwhile: boolean
}

/**
 * The K in 1..maxK that maximizes S = E / (K·c + 1). S is unimodal in K for α < 1 and c > 0, but a scan is
 * exact and cheap at these sizes. @param maxK largest K considered @default 16
 */
export function optimalK(alpha: number, c: number, maxK = 16): OptimalK {
  checkAlpha(alpha)
  checkCost(c)
  if (!Number.isInteger(maxK) || maxK < 1) throw new RangeError(`maxK must be an integer ≥ 1, got ${maxK}`)
  let best = { k: 1, speedup: predictedSpeedup(alpha, 1, c) }
  for (let k = 2; k <= maxK; k++) {
    const s = predictedSpeedup(alpha, k, c)
    if (s > best.speedup) best = { k, speedup: s }
  }
  return { ...best, worthwhile: best.speedup > 1 }
}

/**
 * α̂: the α in [0, 1] with E(α, K) = τ (METRICS.md), by bisection (E increases strictly in α for K ≥ 1).
 * τ is clamped to E's range [1, K + 1] first: a measured τ cannot leave it, rounding can.
 */
export function alphaFromTau(tau: number, k: number): number {
  checkK(k)
  if (k === 0) throw new RangeError('α̂ needs K ≥ 1: with K = 0 every step emits 1 token whatever α is')
  if (!Number.isFinite(tau)) throw new RangeError(`τ must be a finite number, got ${tau}`)
  if (tau <= 1) return 0
  if (tau >= k + 1) return 1
  let lo = 0
  let hi = 1
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (expectedTokensPerStep(mid, k) < tau) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** A measured point drawn over the predicted table: one K with its measured α and speedup. */
export interface MeasuredPoint {
  k: number
  /** α measured at this K (α̂ from τ, or the logprob α). */
  alpha: number
  /** genTokensPerS with speculation / without. */
  speedup: number
  label?: string
}

export interface SpeedupTable {
  /** Rows: acceptance rates α. */
  alphas: number[]
  /** Columns: draft lengths K. */
  ks: number[]
  c: number
  /** predicted[row][col] = S(alphas[row], ks[col], c). */
  predicted: number[][]
  /** Per α, the K with the largest S over 1..max(ks). */
  optimal: OptimalK[]
  measured: MeasuredPoint[]
}

/** The α × K table of predicted speedups, with the measured points to overlay (chart data). */
export function speedupTable(
  alphas: readonly number[],
  ks: readonly number[],
  c: number,
  measured: readonly MeasuredPoint[] = [],
): SpeedupTable {
  const maxK = Math.max(1, ...ks)
  return {
    alphas: [...alphas],
    ks: [...ks],
    c,
    predicted: alphas.map((a) => ks.map((k) => predictedSpeedup(a, k, c))),
    optimal: alphas.map((a) => optimalK(a, c, maxK)),
    measured: [...measured],
  }
}

/** The default α rows of the table: 0.1 … 0.9 and 0.95, 0.99. */
export const DEFAULT_TABLE_ALPHAS: readonly number[] = [
  0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99,
]

/**
 * The table as text: one row per α, one column per K, the optimal K last; then the measured points, each
 * with the predicted S at its own α and K and the error (measured − predicted).
 */
export function formatSpeedupTable(table: SpeedupTable): string {
  const head = ['α \\ K', ...table.ks.map(String), 'best K']
  const rows = table.alphas.map((a, r) => [
    a.toFixed(2),
    ...table.predicted[r]!.map((s) => s.toFixed(2)),
    `${table.optimal[r]!.k} (${table.optimal[r]!.speedup.toFixed(2)})`,
  ])
  const lines = [`predicted speedup S = E / (K·c + 1), c = ${table.c.toFixed(3)}`, ...align([head, ...rows])]
  if (table.measured.length > 0) {
    lines.push('', 'measured points')
    const mHead = ['label', 'K', 'α', 'measured S', 'predicted S', 'error']
    const mRows = table.measured.map((m) => {
      const predicted = predictedSpeedup(m.alpha, m.k, table.c)
      return [
        m.label ?? '',
        String(m.k),
        m.alpha.toFixed(3),
        m.speedup.toFixed(2),
        predicted.toFixed(2),
        (m.speedup - predicted).toFixed(2),
      ]
    })
    lines.push(...align([mHead, ...mRows]))
  }
  return lines.join('\n')
}

/** Right-aligned columns except the first, two spaces apart. */
export function align(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  )
}
