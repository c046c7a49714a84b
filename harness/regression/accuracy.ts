/**
 * The gate's verdict on an accuracy figure (`acc`, `accNorm`, `acc/<subject>`): a test that fits a
 * proportion over the items the two runs scored, not the t-test over history points that timings get.
 *
 * - Paired when both runs asked the same items (the same item ids): McNemar's exact one-sided test on the
 *   discordant pairs, Δacc with Newcombe's paired interval (harness/accuracy/compare.ts). An item that
 *   failed on either side (an error, `correct` null) is left out of both.
 * - Otherwise unpaired: the pooled two-proportion z-test, or Fisher's exact test when an expected cell is
 *   below 5; Newcombe's hybrid score interval. Each side's failed items are left out.
 * - A generation that named no letter (predicted null, no error) is a wrong answer, as in `acc`, so the
 *   gate judges the same figure the run stores — and a variant that stops answering cannot slip past it.
 *
 * Regression = the one-sided p of a drop is below 1 − confidence AND the drop is at least `minEffect` of
 * the baseline accuracy (a fraction, as every other method reads it: 0.03 of 0.80 is 2.4 points).
 * Improvement is the mirror image. Limits for the chart band are the baseline minus (plus) the larger of
 * the minimum effect and the half-width of the Δacc interval at two-sided level 1 − 2·(1 − confidence),
 * so each side is a one-sided bound at `confidence`; they follow the exact test closely but not exactly —
 * the verdict is the test's.
 * @module
 */
import {
  type AccuracyComparison,
  type AccuracyDropTest,
  accuracyDropTest,
  type PairedTable,
} from '../accuracy/compare.ts'
import type { BaselineSummary, EvaluateOptions, Verdict, VerdictState } from './evaluate.ts'
import { EVALUATE_DEFAULTS } from './evaluate.ts'
import { quartiles } from './limits.ts'
import { sampleStats } from './t-test.ts'

/** The tests an accuracy verdict names (AccuracyDropTest['method']). */
export type AccuracyGateMethod = AccuracyDropTest['method']

/** One item's outcome in a run: `correct` null when it failed (not scored). */
export interface ItemResult {
  readonly id: string
  readonly correct: boolean | null
}

export interface AccuracyComparisonOf {
  comparison: AccuracyComparison | undefined
  /** Failed items of each side; paired, an item failed on either side is left out of both. */
  leftOut: { base: number; candidate: number }
  /** Why the comparison is unpaired, when it is. */
  unpairedBecause?: string
}

/**
 * Pairs the two runs' items by id when both asked exactly the same items, else compares them unpaired.
 * `comparison` is undefined when either side has no scored item.
 */
export function compareItems(
  base: readonly ItemResult[],
  candidate: readonly ItemResult[],
): AccuracyComparisonOf {
  const b = byId(base)
  const c = byId(candidate)
  const sameItems =
    b !== undefined && c !== undefined && b.size === c.size && [...b.keys()].every((id) => c.has(id))
  if (sameItems) {
    let bothCorrect = 0
    let onlyBase = 0
    let onlyVariant = 0
    let neither = 0
    let leftOutBase = 0
    let leftOutCandidate = 0
    for (const [id, bc] of b) {
      const cc = c.get(id) ?? null
      if (bc === null || cc === null) {
        if (bc === null) leftOutBase++
        if (cc === null) leftOutCandidate++
        continue
      }
      if (bc && cc) bothCorrect++
      else if (bc) onlyBase++
      else if (cc) onlyVariant++
      else neither++
    }
    const n = bothCorrect + onlyBase + onlyVariant + neither
    return {
      comparison:
        n === 0 ? undefined : { kind: 'paired', table: { n, bothCorrect, onlyBase, onlyVariant, neither } },
      leftOut: { base: leftOutBase, candidate: leftOutCandidate },
    }
  }
  const proportion = (rows: readonly ItemResult[]) => {
    const scored = rows.filter((r) => r.correct !== null)
    return {
      correct: scored.filter((r) => r.correct).length,
      n: scored.length,
      out: rows.length - scored.length,
    }
  }
  const bp = proportion(base)
  const cp = proportion(candidate)
  const why =
    b === undefined || c === undefined
      ? 'an item id appears twice in one run'
      : `the runs asked different items (${base.length} baseline, ${candidate.length} candidate, ${[...b.keys()].filter((id) => c.has(id)).length} in common)`
  return {
    comparison:
      bp.n === 0 || cp.n === 0
        ? undefined
        : {
            kind: 'unpaired',
            base: { correct: bp.correct, n: bp.n },
            variant: { correct: cp.correct, n: cp.n },
          },
    leftOut: { base: bp.out, candidate: cp.out },
    unpairedBecause: why,
  }
}

function byId(rows: readonly ItemResult[]): Map<string, boolean | null> | undefined {
  const map = new Map<string, boolean | null>()
  for (const r of rows) {
    if (map.has(r.id)) return undefined
    map.set(r.id, r.correct)
  }
  return map
}

export type AccuracyEvaluateOptions = Pick<EvaluateOptions, 'confidence' | 'minEffect' | 'minSamples'>

/**
 * The verdict of an accuracy comparison (see the module comment). Candidate and baseline values are the
 * accuracies over the items compared; `candidateN` and `baseline.n` the items.
 */
export function evaluateAccuracy(
  comparison: AccuracyComparison | undefined,
  options: AccuracyEvaluateOptions = {},
): Verdict {
  const confidence = options.confidence ?? EVALUATE_DEFAULTS.confidence
  const minEffect = options.minEffect ?? EVALUATE_DEFAULTS.minEffect
  const minSamples = options.minSamples ?? EVALUATE_DEFAULTS.minSamples
  // Above ½: the Δacc interval is two-sided at 1 − 2·(1 − confidence).
  if (!(confidence > 0.5 && confidence < 1))
    throw new RangeError(`confidence of the accuracy test must be in (0.5, 1), got ${confidence}`)
  if (!(minEffect >= 0)) throw new RangeError(`minEffect must be ≥ 0, got ${minEffect}`)
  const alpha = 1 - confidence
  const method: AccuracyGateMethod = comparison?.kind === 'paired' ? 'mcnemar-exact' : 'two-proportion-z'
  if (comparison === undefined)
    return {
      method,
      direction: 'higher',
      verdict: 'insufficient-data',
      candidateN: 0,
      reason: 'no scored item on one side',
    }
  const counts = sides(comparison)
  const head = { direction: 'higher' as const, candidateN: counts.candidate.n }
  const candidate = counts.candidate.correct / counts.candidate.n
  const baselineValue = counts.base.correct / counts.base.n
  const baseline = summary(counts.base.correct, counts.base.n)
  if (counts.base.n < minSamples || counts.candidate.n < minSamples)
    return {
      ...head,
      method,
      candidate,
      baseline,
      baselineValue,
      verdict: 'insufficient-data',
      reason: `${counts.candidate.n} candidate and ${counts.base.n} baseline items scored; the accuracy test needs at least ${minSamples} on each side`,
    }
  // Each side of the interval a one-sided bound at `confidence`.
  const intervalLevel = 1 - 2 * alpha
  const drop = accuracyDropTest(comparison, alpha, intervalLevel)
  const rise = accuracyDropTest(swapped(comparison), alpha, intervalLevel)
  const delta = drop.delta
  const effect = baselineValue * minEffect
  const lowerLimit = baselineValue - Math.max(effect, delta.upper - delta.delta)
  const upperLimit = baselineValue + Math.max(effect, delta.delta - delta.lower)
  const dropped = candidate < baselineValue
  const test = dropped ? drop : rise
  const pValue = dropped || candidate === baselineValue ? drop.pValue : rise.pValue
  let verdict: VerdictState = 'ok'
  if (drop.dropped && baselineValue - candidate >= effect) verdict = 'regression'
  else if (rise.dropped && candidate - baselineValue >= effect) verdict = 'improvement'
  const deltaPct = baselineValue === 0 ? undefined : ((candidate - baselineValue) / baselineValue) * 100
  const testText =
    comparison.kind === 'paired'
      ? `McNemar exact one-sided p = ${fmtP(pValue)} (${comparison.table.onlyBase} right → wrong, ${comparison.table.onlyVariant} wrong → right, ${comparison.table.n} paired items)`
      : `${test.method === 'fisher-exact' ? 'Fisher exact' : 'two-proportion z'} one-sided p = ${fmtP(pValue)} (unpaired: ${counts.candidate.correct}/${counts.candidate.n} vs ${counts.base.correct}/${counts.base.n})`
  const deltaText = `Δacc ${signed(delta.delta * 100)} points, ${pct(intervalLevel)} CI [${signed(delta.lower * 100)}, ${signed(delta.upper * 100)}]`
  const effectText = `${pct(minEffect)} minimum effect (${fmt(effect * 100)} points)`
  let why: string
  if (verdict !== 'ok') why = `${testText} < ${fmtP(alpha)} and at least the ${effectText}: ${verdict}`
  else if (!(dropped ? drop.dropped : rise.dropped)) why = `${testText}, not below ${fmtP(alpha)}`
  else why = `${testText} is below ${fmtP(alpha)} but within the ${effectText}`
  return {
    ...head,
    method: test.method,
    candidate,
    baseline,
    baselineValue,
    lowerLimit,
    upperLimit,
    ...(deltaPct === undefined ? {} : { deltaPct }),
    pValue,
    verdict,
    reason: `accuracy ${fmt(candidate)} vs the baseline's ${fmt(baselineValue)}, ${deltaText}: ${why}`,
  }
}

function sides(c: AccuracyComparison) {
  if (c.kind === 'unpaired') return { base: c.base, candidate: c.variant }
  const t: PairedTable = c.table
  return {
    base: { correct: t.bothCorrect + t.onlyBase, n: t.n },
    candidate: { correct: t.bothCorrect + t.onlyVariant, n: t.n },
  }
}

/** The comparison with base and candidate exchanged: its drop test is the candidate's rise. */
function swapped(c: AccuracyComparison): AccuracyComparison {
  if (c.kind === 'unpaired') return { kind: 'unpaired', base: c.variant, variant: c.base }
  const t = c.table
  return { kind: 'paired', table: { ...t, onlyBase: t.onlyVariant, onlyVariant: t.onlyBase } }
}

/** The baseline's 0/1 outcomes summarized as the other methods summarize history points. */
function summary(correct: number, n: number): BaselineSummary {
  const outcomes = Array.from({ length: n }, (_, i) => (i < n - correct ? 0 : 1))
  const { mean, sd } = sampleStats(outcomes)
  const q = quartiles(outcomes)
  return { n, mean, sd, median: q.q2, q1: q.q1, q3: q.q3, min: outcomes[0] ?? 0, max: outcomes[n - 1] ?? 0 }
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString()
}

function signed(x: number): string {
  return `${x > 0 ? '+' : x < 0 ? '−' : ''}${fmt(Math.abs(x))}`
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : Number(p.toPrecision(2)).toString()
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(4))} %`
}
