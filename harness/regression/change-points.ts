/**
 * Change points in a series by E-divisive means (Matteson & James 2014) with Hunter/Otava's changes
 * (Fleming et al. 2023; apache/otava `otava/analysis.py`, `change_point_divisive/*.py`): a two-sample
 * t-test instead of the permutation test, E-divisive run on overlapping windows at a relaxed p ("weak"
 * change points), then a merge that drops the weakest point until every survivor passes the p-value and
 * the minimum magnitude. The original permutation test stays available for comparison.
 * @module
 */
import { createRandom, type Random } from '../random.ts'
import { type SampleStats, sampleStats, twoSampleTTest } from './t-test.ts'

export type ChangePointSignificance = 't-test' | 'permutation'

export interface ChangePointOptions {
  /** Points per window of the split step; windows overlap by half (Otava `window_len`). @default 50 */
  windowLen?: number
  /**
   * p-value a change point must not exceed (Otava `max_pvalue`, whose default is 0.001). The t-test p is
   * taken at the best of many splits, so it is optimistic: on 5000 60-point series of pure 5 % noise,
   * 0.001 put a change point in 2.5 % of them and 0.0001 in 0.4 %, which still found 96.7 % of 10 % steps
   * within ±5 points (`npm run bench:gate -- --series 5000`). A permutation p cannot go below
   * 1 / (permutations + 1).
   * @default 0.0001 for 't-test'; 0.01 for 'permutation'
   */
  maxPValue?: number
  /** Smallest magnitude kept, as a fraction (Otava `min_magnitude`; see ChangePoint.magnitude). @default 0 */
  minMagnitude?: number
  /**
   * 't-test': Hunter/Otava's windowed split and merge. 'permutation': the original E-divisive over the
   * whole series with a permutation test (Otava `compute_change_points_orig`, MongoDB's library).
   * @default 't-test'
   */
  significance?: ChangePointSignificance
  /**
   * Permutations per candidate ('permutation' only). MongoDB's library uses 100 at p 0.05, which put a
   * change point in several % of pure-noise series in our bench. @default 199
   */
  permutations?: number
  /** Seed of the permutations ('permutation' only). @default 1 */
  seed?: number
}

export interface ChangePoint {
  /** Index of the first point of the new regime. */
  index: number
  /** The segment before, from the previous change point (or 0). */
  before: SampleStats
  /** The segment after, up to the next change point (or the end). */
  after: SampleStats
  /** (after.mean / before.mean − 1) · 100; 0 when before.mean is 0. */
  changePct: number
  /** Otava's magnitude: max(|after/before − 1|, |before/after − 1|) of the means, a fraction. */
  magnitude: number
  /** Two-sided t-test of the two segments, or the permutation p. */
  pValue: number
  /** E-divisive divergence q̂ at the split when it was found. */
  qHat: number
}

interface Candidate {
  index: number
  qHat: number
}

/**
 * @param series values oldest first; non-finite values are not allowed (fill or drop them first)
 * @returns change points in index order
 * @throws RangeError on a non-finite value or a bad option
 */
export function detectChangePoints(
  series: readonly number[],
  options: ChangePointOptions = {},
): ChangePoint[] {
  for (const v of series)
    if (!Number.isFinite(v)) throw new RangeError(`change points need finite values, got ${v}`)
  const significance = options.significance ?? 't-test'
  const maxPValue = options.maxPValue ?? (significance === 't-test' ? 0.0001 : 0.01)
  const minMagnitude = options.minMagnitude ?? 0
  const windowLen = options.windowLen ?? 50
  if (!(maxPValue > 0 && maxPValue <= 1))
    throw new RangeError(`maxPValue must be in (0, 1], got ${maxPValue}`)
  if (!(minMagnitude >= 0)) throw new RangeError(`minMagnitude must be ≥ 0, got ${minMagnitude}`)
  if (!(Number.isInteger(windowLen) && windowLen >= 2))
    throw new RangeError(`windowLen must be an integer ≥ 2, got ${windowLen}`)

  if (significance === 'permutation') {
    const permutations = options.permutations ?? 199
    if (!(Number.isInteger(permutations) && permutations >= 1))
      throw new RangeError(`permutations must be an integer ≥ 1, got ${permutations}`)
    const random = createRandom(options.seed ?? 1)
    const found = divide(
      series,
      (candidate, intervals, values) => {
        const stats = sideStats(values, candidate.index, intervals)
        const p = permutationP(values, candidate.qHat, intervals, permutations, random)
        return { ...describe(candidate, stats.before, stats.after), pValue: p }
      },
      maxPValue,
    )
    // Segments are restated between final neighbours, as the t-test path does; the p stays the permutation's.
    return restate(series, found)
      .map((cp, i) => ({ ...cp, pValue: found[i]!.pValue }))
      .filter((cp) => cp.magnitude > minMagnitude || minMagnitude === 0)
  }

  // Otava's first pass: 10× the p-value below 0.05, 2× below 0.5.
  const weakPValue = maxPValue < 0.05 ? maxPValue * 10 : maxPValue < 0.5 ? maxPValue * 2 : maxPValue
  return merge(series, split(series, windowLen, weakPValue), maxPValue, minMagnitude)
}

type Tester = (candidate: Candidate, intervals: readonly Interval[], values: readonly number[]) => ChangePoint

/** [start, stop) of the series between two change points. */
interface Interval {
  start: number
  stop: number
}

/**
 * Hierarchical E-divisive on `values`: split the interval holding the best q̂ while the split is
 * significant (Otava `ChangePointDetector.get_change_points`). Indices are local to `values`.
 */
function divide(values: readonly number[], test: Tester, maxPValue: number): ChangePoint[] {
  const distances = createDistances(values)
  const found: ChangePoint[] = []
  for (;;) {
    const intervals = intervalsOf(found, values.length)
    const candidate = bestCandidate(distances, intervals)
    if (!candidate) break
    const cp = test(candidate, intervals, values)
    if (!(cp.pValue <= maxPValue)) break
    found.push(cp)
    found.sort((a, b) => a.index - b.index)
  }
  return found
}

/** Otava `split`: E-divisive with the t-test on windows stepping by half a window; union of the points. */
function split(series: readonly number[], windowLen: number, pValue: number): ChangePoint[] {
  const step = Math.floor(windowLen / 2)
  const byIndex = new Map<number, Candidate>()
  let start = 0
  while (start < series.length) {
    const end = Math.min(start + windowLen, series.length)
    const window = series.slice(start, end)
    const local = divide(window, tTestAt, pValue)
    for (const cp of local)
      if (!byIndex.has(cp.index + start))
        byIndex.set(cp.index + start, { index: cp.index + start, qHat: cp.qHat })
    const lastNew = local.length > 0 ? local[local.length - 1]!.index + start : 0
    start = Math.max(lastNew, start + step)
  }
  const candidates = [...byIndex.values()].sort((a, b) => a.index - b.index)
  return restate(series, candidates)
}

/**
 * Otava `merge`: while some point fails the p-value, drop the one with the highest p; once all pass, drop
 * the smallest magnitude while it is not above `minMagnitude`. Every drop changes the neighbours'
 * segments, so the statistics are recomputed.
 */
function merge(
  series: readonly number[],
  points: ChangePoint[],
  maxPValue: number,
  minMagnitude: number,
): ChangePoint[] {
  let current = points
  while (current.length > 0) {
    let weakest = 0
    for (let i = 1; i < current.length; i++) if (current[i]!.pValue > current[weakest]!.pValue) weakest = i
    if (current[weakest]!.pValue < maxPValue) {
      weakest = 0
      for (let i = 1; i < current.length; i++)
        if (current[i]!.magnitude < current[weakest]!.magnitude) weakest = i
      if (current[weakest]!.magnitude > minMagnitude) return current
    }
    // Otava recomputes two points after the dropped index; recomputing all is as cheap here and covers the
    // left neighbour, whose right segment grew.
    current = restate(
      series,
      current.filter((_, i) => i !== weakest),
    )
  }
  return current
}

/** Statistics of each point against its neighbours' segments (Otava `get_intervals` + `get_sides`). */
function restate(series: readonly number[], candidates: readonly Candidate[]): ChangePoint[] {
  return candidates.map((candidate, i) => {
    const from = i === 0 ? 0 : candidates[i - 1]!.index
    const to = i === candidates.length - 1 ? series.length : candidates[i + 1]!.index
    const before = sampleStats(series, from, candidate.index)
    const after = sampleStats(series, candidate.index, to)
    return { ...describe(candidate, before, after), pValue: twoSampleTTest(before, after).pValue }
  })
}

function tTestAt(
  candidate: Candidate,
  intervals: readonly Interval[],
  values: readonly number[],
): ChangePoint {
  const { before, after } = sideStats(values, candidate.index, intervals)
  return { ...describe(candidate, before, after), pValue: twoSampleTTest(before, after).pValue }
}

function sideStats(
  values: readonly number[],
  index: number,
  intervals: readonly Interval[],
): { before: SampleStats; after: SampleStats } {
  const interval = intervals.find((it) => it.start < index && index < it.stop)
  if (!interval) throw new Error(`candidate ${index} lies in no interval`)
  return {
    before: sampleStats(values, interval.start, index),
    after: sampleStats(values, index, interval.stop),
  }
}

function describe(
  candidate: Candidate,
  before: SampleStats,
  after: SampleStats,
): Omit<ChangePoint, 'pValue'> {
  const forward = before.mean === 0 ? 0 : after.mean / before.mean - 1
  const backward = after.mean === 0 ? 0 : before.mean / after.mean - 1
  return {
    index: candidate.index,
    before,
    after,
    changePct: forward * 100,
    magnitude: Math.max(Math.abs(forward), Math.abs(backward)),
    qHat: candidate.qHat,
  }
}

function intervalsOf(points: readonly { index: number }[], length: number): Interval[] {
  const intervals: Interval[] = []
  let start = 0
  for (const p of points) {
    if (p.index > start) intervals.push({ start, stop: p.index })
    start = p.index
  }
  if (length > start) intervals.push({ start, stop: length })
  return intervals
}

/** Column prefix sums of |xᵢ − xⱼ|: sum over i in [from, to) of |xᵢ − xⱼ| in O(1). */
interface Distances {
  length: number
  prefix: Float64Array
}

function createDistances(values: readonly number[]): Distances {
  const length = values.length
  const prefix = new Float64Array(length * (length + 1))
  for (let j = 0; j < length; j++) {
    const row = j * (length + 1)
    const xj = values[j]!
    for (let i = 0; i < length; i++) prefix[row + i + 1] = prefix[row + i]! + Math.abs(values[i]! - xj)
  }
  return { length, prefix }
}

function columnSum(d: Distances, j: number, from: number, to: number): number {
  const row = j * (d.length + 1)
  return d.prefix[row + to]! - d.prefix[row + from]!
}

/** The interval split with the largest q̂ over all intervals with ≥ 2 points (first wins a tie). */
function bestCandidate(d: Distances, intervals: readonly Interval[]): Candidate | undefined {
  let best: Candidate | undefined
  for (const interval of intervals) {
    if (interval.stop - interval.start < 2) continue
    const candidate = bestSplit(d, interval)
    if (!best || candidate.qHat > best.qHat) best = candidate
  }
  return best
}

/**
 * argmax over start < τ < κ ≤ stop of q̂(X = x[start, τ), Y = x[τ, κ)) with n = |X|, m = |Y|:
 * q̂ = 2/(m+n) Σ|X−Y| − 2m/((m+n)(n−1)) Σ_{i<k}|Xᵢ−Xₖ| − 2n/((m+n)(m−1)) Σ_{j<k}|Yⱼ−Yₖ|
 * (the E-statistic scaled by mn/(m+n); Otava `PairDistanceCalculator`). Sums grow one point at a time, so
 * an interval of L points costs O(L²).
 */
function bestSplit(d: Distances, { start, stop }: Interval): Candidate {
  let best: Candidate = { index: start + 1, qHat: Number.NEGATIVE_INFINITY }
  let withinX = 0
  for (let tau = start + 1; tau < stop; tau++) {
    withinX += columnSum(d, tau - 1, start, tau - 1)
    const n = tau - start
    let across = 0
    let withinY = 0
    for (let kappa = tau + 1; kappa <= stop; kappa++) {
      const j = kappa - 1
      across += columnSum(d, j, start, tau)
      withinY += columnSum(d, j, tau, j)
      const m = kappa - tau
      const total = m + n
      let q = (2 / total) * across
      if (n > 1) q -= ((2 * m) / (total * (n - 1))) * withinX
      if (m > 1) q -= ((2 * n) / (total * (m - 1))) * withinY
      if (q > best.qHat) best = { index: tau, qHat: q }
    }
  }
  return best
}

/**
 * Share of within-interval shuffles whose best q̂ reaches the candidate's, as (hits + 1) / (permutations + 1)
 * so that a p-value is never 0 (Otava's orig divides hits alone).
 */
function permutationP(
  values: readonly number[],
  qHat: number,
  intervals: readonly Interval[],
  permutations: number,
  random: Random,
): number {
  const shuffled = [...values]
  let hits = 0
  for (let p = 0; p < permutations; p++) {
    for (const { start, stop } of intervals) {
      for (let i = stop - 1; i > start; i--) {
        const j = random.int(start, i)
        const t = shuffled[i]!
        shuffled[i] = shuffled[j]!
        shuffled[j] = t
      }
    }
    const best = bestCandidate(createDistances(shuffled), intervals)
    if (best && best.qHat >= qHat) hits++
  }
  return (hits + 1) / (permutations + 1)
}
