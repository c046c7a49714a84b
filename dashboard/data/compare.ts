/**
 * The compare page and /api/compare: two runs side by side (db/queries compareRuns), each latency figure
 * tested with Mann–Whitney U on the per-request samples behind it, and overlaid CDFs. A Δ% is coloured
 * only when the test finds the distributions differ in the same direction as the figure moved; run-level
 * scalars (throughput, error rate …) have one value per run and say "not tested".
 * @module
 */
import type { Db } from '../../db/client.ts'
import { compareRuns, type MetricComparison, type RunComparison } from '../../db/queries/index.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { mannWhitneyU } from '../../harness/regression/index.ts'
import { empiricalCdf } from '../charts/cdf.ts'
import { NotFoundError } from '../errors.ts'
import { CDF_POINTS } from './run-series.ts'

/** Two-sided significance level of the Mann–Whitney test. */
const SIGNIFICANCE_ALPHA = 0.05

/** Distributions with one sample per request in compareRuns' samples. */
const SAMPLED = ['ttftMs', 'tpotMs', 'e2eMs'] as const
type Sampled = (typeof SAMPLED)[number]

export type Significance =
  | {
      state: 'tested'
      /** Sample the test ran on (`ttftMs` for `ttftMsP95`). */
      sample: Sampled
      baseN: number
      candidateN: number
      pTwoSided: number
      /** Which way the candidate's distribution shifted, when the test says it did. */
      shift: 'higher' | 'lower' | 'none'
      /** p below alpha (and reachable with these sizes). */
      significant: boolean
    }
  | { state: 'not-tested'; reason: string }

/** What a coloured Δ means: better / worse in the metric's direction, or neither. */
export type Verdict = 'better' | 'worse' | 'neutral'

export interface ComparedMetric extends MetricComparison {
  description: string | null
  significance: Significance
  verdict: Verdict
}

export interface CompareModel {
  base: RunComparison['base']
  candidate: RunComparison['candidate']
  comparable: boolean
  differsBy: RunComparison['differsBy']
  metrics: ComparedMetric[]
  counts: { base: { ok: number; errors: number }; candidate: { ok: number; errors: number } }
  cdf: Record<
    'ttftMs' | 'tpotMs',
    { base: { x: number; y: number }[]; candidate: { x: number; y: number }[] }
  >
  alpha: number
}

export async function loadCompare(db: Db, baseId: number, candidateId: number): Promise<CompareModel> {
  const comparison = await compareRuns(db, baseId, candidateId)
  if (!comparison) throw new NotFoundError(`run ${baseId} or run ${candidateId} does not exist`)
  const { samples } = comparison
  const tests = new Map<Sampled, Significance>()
  for (const name of SAMPLED) tests.set(name, testSamples(name, samples.base[name], samples.candidate[name]))
  const metrics = comparison.metrics.map((m): ComparedMetric => {
    const info = metricInfo(m.name)
    const sampled = SAMPLED.find((s) => s === info?.base)
    const significance: Significance =
      sampled === undefined
        ? { state: 'not-tested', reason: 'one value per run: no per-request samples to test' }
        : info?.stat === 'Sd' || info?.stat === 'Min' || info?.stat === 'Max'
          ? { state: 'not-tested', reason: `the ${info.stat} is not a location the rank test speaks to` }
          : (tests.get(sampled) ?? { state: 'not-tested', reason: 'no samples' })
    return { ...m, description: info?.description ?? null, significance, verdict: verdictOf(m, significance) }
  })
  return {
    base: comparison.base,
    candidate: comparison.candidate,
    comparable: comparison.comparable,
    differsBy: comparison.differsBy,
    metrics,
    counts: {
      base: { ok: samples.base.ok, errors: samples.base.errors },
      candidate: { ok: samples.candidate.ok, errors: samples.candidate.errors },
    },
    cdf: {
      ttftMs: {
        base: empiricalCdf(samples.base.ttftMs, CDF_POINTS),
        candidate: empiricalCdf(samples.candidate.ttftMs, CDF_POINTS),
      },
      tpotMs: {
        base: empiricalCdf(samples.base.tpotMs, CDF_POINTS),
        candidate: empiricalCdf(samples.candidate.tpotMs, CDF_POINTS),
      },
    },
    alpha: SIGNIFICANCE_ALPHA,
  }
}

/** Mann–Whitney U of the candidate's samples against the base's. */
function testSamples(sample: Sampled, base: readonly number[], candidate: readonly number[]): Significance {
  if (base.length === 0 || candidate.length === 0)
    return {
      state: 'not-tested',
      reason: `no ${sample} samples in ${base.length === 0 ? 'the base' : 'the candidate'} run`,
    }
  const r = mannWhitneyU(candidate, base)
  const reachable = r.minAttainableP * 2 < SIGNIFICANCE_ALPHA
  const significant = reachable && r.pTwoSided < SIGNIFICANCE_ALPHA
  return {
    state: 'tested',
    sample,
    baseN: base.length,
    candidateN: candidate.length,
    pTwoSided: r.pTwoSided,
    shift: significant ? (r.pGreater < r.pLess ? 'higher' : 'lower') : 'none',
    significant,
  }
}

/**
 * Coloured only when tested, significant, and the figure moved the way the distribution shifted (a p95
 * that fell while the distribution as a whole rose is not a clear result).
 */
function verdictOf(m: MetricComparison, s: Significance): Verdict {
  if (s.state !== 'tested' || !s.significant || m.deltaPct === null || m.deltaPct === 0) return 'neutral'
  const moved = m.deltaPct > 0 ? 'higher' : 'lower'
  if (moved !== s.shift || m.direction === 'none') return 'neutral'
  return moved === m.direction ? 'better' : 'worse'
}
