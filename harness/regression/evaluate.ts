/**
 * The gate's one entry: is a candidate a regression against its baseline, for a metric with a direction?
 * Pure: numbers in, a verdict out. Where baselines come from (merge-base history, a baseline run or file)
 * is the caller's business.
 *
 * Defaults, and why: a one-sided Student-t prediction interval at 0.99 (Bencher's `t_test`, the research's
 * recommended PR gate) over the latest 25 points, plus a 3 % minimum effect. The interval alone flags 1 %
 * of unchanged candidates by construction (1.2 % measured on 5000 series); the minimum effect keeps a very
 * quiet series (sd ≪ 1 %) from failing builds on shifts nobody would act on, the top complaint about every
 * existing tool. On a noisy runner the interval, not the minimum effect, is the wider limit, and power has
 * to come from repetitions: with 5 % run-to-run noise a 10 % step is 2 sd, so one run catches it 31 % of the
 * time, a mean of 3 78 %, a mean of 6 96 % (test/bench/gate.ts).
 * @module
 */
import type { MetricRow } from '../metrics/types.ts'
import type { AccuracyGateMethod } from './accuracy.ts'
import { normalCdf, studentTCdf } from './distributions.ts'
import {
  deltaIqrLimits,
  deltaQuartiles,
  iqrLimits,
  type Limits,
  percentageLimits,
  quartiles,
  tTestLimits,
  zScoreLimits,
} from './limits.ts'
import { mannWhitneyU } from './mann-whitney.ts'
import { sampleStats } from './t-test.ts'

/** Which way is better, for a metric that has one (`MetricRow.direction` without 'none'). */
export type GatedDirection = Exclude<MetricRow['direction'], 'none'>

export type GateMethod = 't-test' | 'z-score' | 'percentage' | 'iqr' | 'delta-iqr' | 'mann-whitney'

export const GATE_METHODS: readonly GateMethod[] = [
  't-test',
  'z-score',
  'percentage',
  'iqr',
  'delta-iqr',
  'mann-whitney',
]

export type VerdictState = 'regression' | 'improvement' | 'ok' | 'insufficient-data'

export interface EvaluateOptions {
  /** @default 't-test' */
  method?: GateMethod
  /**
   * One-sided confidence of t-test, z-score and mann-whitney: the chance that an unchanged candidate is
   * not flagged on the regression side (Bencher's boundary; 1 − confidence is the test level). @default 0.99
   */
  confidence?: number
  /** Relative change from the baseline centre that must also be exceeded, as a fraction. @default 0.03 */
  minEffect?: number
  /**
   * Fewer baseline points than this (for mann-whitney: fewer samples on either side) → 'insufficient-data'.
   * Variance-based methods need at least 2 whatever this says. @default 5
   */
  minSamples?: number
  /** History methods use only the latest this many baseline points (the tail of the array). @default 25 */
  maxSamples?: number
  /**
   * percentage: limits at mean · (1 ∓ percentage), as a fraction; a tolerance, not a statistic, so it
   * should sit below the smallest step worth catching. @default 0.1 (CodSpeed's default threshold)
   */
  percentage?: number
  /**
   * iqr and delta-iqr: the multiplier k of the interquartile range. 2.5 flags 0.6 % (iqr) and 1.5 %
   * (delta-iqr) of unchanged single points on normal noise with 25 baseline points (bench, 5000 series).
   * @default 2.5
   */
  iqrMultiplier?: number
}

export const EVALUATE_DEFAULTS: Readonly<Required<EvaluateOptions>> = {
  method: 't-test',
  confidence: 0.99,
  minEffect: 0.03,
  minSamples: 5,
  maxSamples: 25,
  percentage: 0.1,
  iqrMultiplier: 2.5,
}

export interface BaselineSummary {
  /** Values (history points, or per-request samples for mann-whitney) the test used. */
  n: number
  mean: number
  /** Sample standard deviation (n − 1); 0 for one value. */
  sd: number
  median: number
  q1: number
  q3: number
  min: number
  max: number
}

export interface Verdict {
  /** The --method of a figure, or the test of an accuracy figure (accuracy.ts). */
  method: GateMethod | AccuracyGateMethod
  direction: GatedDirection
  verdict: VerdictState
  /** The figure compared: the candidate, the mean of its repetitions, or (mann-whitney) its median sample. */
  candidate?: number
  /** Candidate repetitions (or samples) behind `candidate`. */
  candidateN: number
  baseline?: BaselineSummary
  /** The centre Δ is taken against: the mean (t-test, z-score, percentage) or the median (the others). */
  baselineValue?: number
  /**
   * Decision limits for chart bands: the test's limit widened to at least the minimum effect, so a point
   * outside the band is exactly a point the gate flags. Below `lowerLimit` is a regression for
   * higher-is-better metrics, above `upperLimit` for lower-is-better ones; the other side is an improvement.
   */
  lowerLimit?: number
  upperLimit?: number
  /** (candidate − baselineValue) / |baselineValue| · 100. */
  deltaPct?: number
  /** One-sided p of the observed deviation's direction (t-test, z-score, mann-whitney). */
  pValue?: number
  reason: string
}

/**
 * @param direction which way is better for the metric
 * @param baseline history values oldest first (t-test, z-score, percentage, iqr, delta-iqr), or the
 *   baseline run's per-request samples (mann-whitney); non-finite values are dropped
 * @param candidate one value or its repetitions (history methods), or the candidate run's per-request
 *   samples (mann-whitney)
 */
export function evaluate(
  direction: GatedDirection,
  baseline: readonly number[],
  candidate: number | readonly number[],
  options: EvaluateOptions = {},
): Verdict {
  const o = resolveOptions(options)
  const candidates = (typeof candidate === 'number' ? [candidate] : candidate).filter(Number.isFinite)
  const finite = baseline.filter(Number.isFinite)
  if (o.method === 'mann-whitney') return evaluateMannWhitney(direction, finite, candidates, o)

  const used = finite.slice(-o.maxSamples)
  const head = { method: o.method, direction, candidateN: candidates.length }
  if (candidates.length === 0)
    return { ...head, verdict: 'insufficient-data', reason: 'no finite candidate value' }
  const value = mean(candidates)
  const needed =
    o.method === 'percentage' || o.method === 'iqr' ? Math.max(o.minSamples, 1) : Math.max(o.minSamples, 2)
  if (used.length < needed) {
    return {
      ...head,
      candidate: value,
      ...(used.length > 0 ? { baseline: summarize(used) } : {}),
      verdict: 'insufficient-data',
      reason: `${used.length} baseline point${used.length === 1 ? '' : 's'}; ${o.method} needs at least ${needed}`,
    }
  }
  const summary = summarize(used)
  const k = candidates.length
  let limits: Limits
  let pValue: number | undefined
  let how: string
  switch (o.method) {
    case 't-test': {
      limits = tTestLimits(summary, o.confidence, k)
      const scale = summary.sd * Math.sqrt(1 / k + 1 / summary.n)
      if (scale > 0) pValue = studentTCdf(-Math.abs(value - summary.mean) / scale, summary.n - 1)
      how = `t-test ${o.confidence} prediction interval`
      break
    }
    case 'z-score': {
      limits = zScoreLimits(summary, o.confidence, k)
      const scale = summary.sd / Math.sqrt(k)
      if (scale > 0) pValue = normalCdf(-Math.abs(value - summary.mean) / scale)
      how = `z-score ${o.confidence}`
      break
    }
    case 'percentage':
      limits = percentageLimits(summary.mean, o.percentage)
      how = `percentage ±${pct(o.percentage)}`
      break
    case 'iqr':
      limits = iqrLimits({ q1: summary.q1, q2: summary.median, q3: summary.q3 }, o.iqrMultiplier, k)
      how = `median ± ${o.iqrMultiplier}·IQR`
      break
    case 'delta-iqr':
      limits = deltaIqrLimits(
        { q1: summary.q1, q2: summary.median, q3: summary.q3 },
        deltaQuartiles(used),
        o.iqrMultiplier,
        k,
      )
      how = `median ± median·${o.iqrMultiplier}·IQR(adjacent changes)`
      break
    default: {
      const never: never = o.method
      throw new Error(`unknown method ${never}`)
    }
  }
  const spreadless = limits.lower === limits.upper
  const decided = decide(direction, value, limits, o.minEffect)
  const centreName = o.method === 'iqr' || o.method === 'delta-iqr' ? 'median' : 'mean'
  const repetitions = k > 1 ? ` (mean of ${k} repetitions)` : ''
  const context = `${describeDelta(decided.deltaPct)} the baseline ${centreName} ${fmt(limits.center)} (n = ${summary.n})${repetitions}`
  const band = spreadless
    ? `; the baseline has no spread, so only the ${pct(o.minEffect)} minimum effect applies`
    : ''
  return {
    ...head,
    candidate: value,
    baseline: summary,
    baselineValue: limits.center,
    lowerLimit: decided.lower,
    upperLimit: decided.upper,
    ...(decided.deltaPct === undefined ? {} : { deltaPct: decided.deltaPct }),
    ...(pValue === undefined ? {} : { pValue }),
    verdict: decided.verdict,
    reason: `${fmt(value)} is ${context}: ${decided.explain(how, pValue)}${band}`,
  }
}

function evaluateMannWhitney(
  direction: GatedDirection,
  baseline: number[],
  candidate: number[],
  o: Required<EvaluateOptions>,
): Verdict {
  const head = { method: o.method, direction, candidateN: candidate.length }
  const needed = Math.max(o.minSamples, 1)
  if (baseline.length < needed || candidate.length < needed) {
    return {
      ...head,
      ...(candidate.length > 0 ? { candidate: median(candidate) } : {}),
      ...(baseline.length > 0 ? { baseline: summarize(baseline) } : {}),
      verdict: 'insufficient-data',
      reason: `${candidate.length} candidate and ${baseline.length} baseline samples; mann-whitney needs at least ${needed} on each side`,
    }
  }
  const summary = summarize(baseline)
  const value = median(candidate)
  const level = 1 - o.confidence
  const test = mannWhitneyU(candidate, baseline)
  const limits: Limits = { center: summary.median, lower: summary.median, upper: summary.median }
  const decided = decide(direction, value, limits, o.minEffect)
  const candidateLower = test.pLess <= test.pGreater
  const pValue = Math.min(test.pLess, test.pGreater)
  const context = `median ${fmt(value)} (${candidate.length} samples) is ${describeDelta(decided.deltaPct)} the baseline median ${fmt(summary.median)} (${baseline.length} samples)`
  const base = {
    ...head,
    candidate: value,
    baseline: summary,
    baselineValue: summary.median,
    lowerLimit: decided.lower,
    upperLimit: decided.upper,
    ...(decided.deltaPct === undefined ? {} : { deltaPct: decided.deltaPct }),
    pValue,
  }
  // asv's rule: a test that cannot reach the level whatever the data says nothing, so say so.
  if (test.minAttainableP >= level) {
    return {
      ...base,
      verdict: 'insufficient-data',
      reason: `${context}; with ${candidate.length} and ${baseline.length} samples the smallest attainable p is ${fmtP(test.minAttainableP)}, not below ${fmtP(level)}`,
    }
  }
  // Significance in the direction the medians moved: the rank shift and the median shift must agree.
  const worse = direction === 'higher' ? candidateLower : !candidateLower
  const significant = pValue < level
  const beyondEffect = decided.verdict === 'regression' || decided.verdict === 'improvement'
  const medianWorse = decided.verdict === 'regression'
  let verdict: VerdictState = 'ok'
  if (significant && beyondEffect && worse === medianWorse) verdict = worse ? 'regression' : 'improvement'
  const testText = `Mann–Whitney U (${test.method}${test.ties ? ', ties corrected' : ''}) one-sided p = ${fmtP(pValue)}`
  let why: string
  if (verdict !== 'ok') why = `${testText} < ${fmtP(level)} and past the ${pct(o.minEffect)} minimum effect`
  else if (!significant) why = `${testText}, not below ${fmtP(level)}`
  else if (!beyondEffect) why = `${testText} is significant but within the ${pct(o.minEffect)} minimum effect`
  else why = `${testText} is significant but the ranks and the medians disagree on the direction`
  return { ...base, verdict, reason: `${context}: ${why}` }
}

interface Decision {
  verdict: 'regression' | 'improvement' | 'ok'
  lower: number
  upper: number
  deltaPct: number | undefined
  explain(how: string, pValue: number | undefined): string
}

/** Widens the test's limits to the minimum effect and places the candidate against them. */
function decide(direction: GatedDirection, value: number, limits: Limits, minEffect: number): Decision {
  const effect = Math.abs(limits.center) * minEffect
  const lower = Math.min(limits.lower, limits.center - effect)
  const upper = Math.max(limits.upper, limits.center + effect)
  const deltaPct = limits.center === 0 ? undefined : ((value - limits.center) / Math.abs(limits.center)) * 100
  const below = value < lower
  const above = value > upper
  const worse = direction === 'higher' ? below : above
  const better = direction === 'higher' ? above : below
  const verdict = worse ? 'regression' : better ? 'improvement' : 'ok'
  const statOutside = value < limits.lower || value > limits.upper
  return {
    verdict,
    lower,
    upper,
    deltaPct,
    explain(how, pValue) {
      const p = pValue === undefined ? '' : `, p = ${fmtP(pValue)}`
      const side = value < limits.center ? 'lower' : 'upper'
      if (verdict !== 'ok') {
        const limit = side === 'lower' ? lower : upper
        const kind = verdict === 'regression' ? 'regression' : 'improvement'
        return `past the ${side} limit ${fmt(limit)} (${how}${p}, at least ${pct(minEffect)}): ${kind}`
      }
      if (statOutside)
        return `outside the ${how} limit ${fmt(side === 'lower' ? limits.lower : limits.upper)}${p} but within the ${pct(minEffect)} minimum effect`
      return `inside [${fmt(lower)}, ${fmt(upper)}] (${how}${p}, at least ${pct(minEffect)})`
    },
  }
}

function resolveOptions(options: EvaluateOptions): Required<EvaluateOptions> {
  const o = { ...EVALUATE_DEFAULTS }
  for (const [key, value] of Object.entries(options))
    if (value !== undefined) Object.assign(o, { [key]: value })
  if (!GATE_METHODS.includes(o.method)) throw new RangeError(`unknown method ${o.method}`)
  if (!(o.confidence >= 0.5 && o.confidence < 1))
    throw new RangeError(`confidence must be in [0.5, 1), got ${o.confidence}`)
  if (!(o.minEffect >= 0)) throw new RangeError(`minEffect must be ≥ 0, got ${o.minEffect}`)
  if (!(Number.isInteger(o.minSamples) && o.minSamples >= 0))
    throw new RangeError(`minSamples must be an integer ≥ 0, got ${o.minSamples}`)
  if (!(Number.isInteger(o.maxSamples) && o.maxSamples >= 1))
    throw new RangeError(`maxSamples must be an integer ≥ 1, got ${o.maxSamples}`)
  if (o.maxSamples < o.minSamples)
    throw new RangeError(`maxSamples ${o.maxSamples} is below minSamples ${o.minSamples}`)
  return o
}

function summarize(values: readonly number[]): BaselineSummary {
  const { n, mean, sd } = sampleStats(values)
  const q = quartiles(values)
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return { n, mean, sd, median: q.q2, q1: q.q1, q3: q.q3, min, max }
}

function mean(values: readonly number[]): number {
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

function median(values: readonly number[]): number {
  return quartiles(values).q2
}

function describeDelta(deltaPct: number | undefined): string {
  if (deltaPct === undefined) return 'against'
  if (deltaPct === 0) return 'equal to'
  return `${Math.abs(deltaPct).toFixed(2)} % ${deltaPct < 0 ? 'below' : 'above'}`
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(6)).toString()
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : Number(p.toPrecision(2)).toString()
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(4))} %`
}
