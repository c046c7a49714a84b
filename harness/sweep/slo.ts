/**
 * `--slo NAME=VALUE` bounds of `bench sweep`: a per-request latency percentile and its maximum in ms, e.g.
 * `ttftMsP95=500`, `tpotMsP95=50`. The names are the run metrics' own (harness/METRICS.md).
 * @module
 */
import type { Distribution, RunMetrics, Slo } from '../metrics/types.ts'

/** Per-request latencies an SLO can bound (RunMetrics distributions, ms). */
export const SLO_METRICS = ['ttftMs', 'tpotMs', 'e2eMs', 'chunkGapsMs'] as const
export type SloMetric = (typeof SLO_METRICS)[number]
/** Percentiles a Distribution carries. */
export const SLO_PERCENTILES = [50, 90, 95, 99] as const
export type SloPercentile = (typeof SLO_PERCENTILES)[number]

export interface SweepSlo {
  /** e.g. `ttftMsP95`. */
  name: string
  metric: SloMetric
  percentile: SloPercentile
  /** The bound: the step passes when the percentile is ≤ this, ms. */
  maxMs: number
}

const FORMS = `NAME=MS with NAME one of ${SLO_METRICS.map((m) => `${m}P95`).join(', ')} (or P50, P90, P99), e.g. --slo ttftMsP95=500`

/** Thrown for a bad --slo value; the message is one line naming the flag and the fix. */
export class SloSpecError extends Error {
  override name = 'SloSpecError'
}

/** Parses one `--slo` value. Throws SloSpecError (one line: the flag, what is wrong, the accepted form). */
export function parseSloSpec(spec: string): SweepSlo {
  const bad = (why: string) => new SloSpecError(`--slo "${spec}": ${why}; use ${FORMS}`)
  const eq = spec.indexOf('=')
  if (eq < 0) throw bad('missing "="')
  const name = spec.slice(0, eq).trim()
  const valueText = spec.slice(eq + 1).trim()
  const m = /^([a-zA-Z0-9]+?)P(\d+)$/.exec(name)
  const metric = m?.[1] as SloMetric | undefined
  const percentile = Number(m?.[2]) as SloPercentile
  if (metric === undefined || !(SLO_METRICS as readonly string[]).includes(metric))
    throw bad(`unknown metric "${name}"`)
  if (!(SLO_PERCENTILES as readonly number[]).includes(percentile))
    throw bad(`unsupported percentile P${m?.[2]}`)
  const maxMs = Number(valueText)
  if (valueText === '' || !Number.isFinite(maxMs) || maxMs <= 0)
    throw bad(`the bound must be a number of milliseconds > 0, got "${valueText}"`)
  return { name, metric, percentile, maxMs }
}

/** Several --slo values; a metric given twice is an error (which bound would hold?). */
export function parseSloSpecs(specs: readonly string[]): SweepSlo[] {
  if (specs.length === 0) throw new SloSpecError(`--slo: give at least one bound; use ${FORMS}`)
  const slos = specs.map(parseSloSpec)
  const seen = new Set<string>()
  for (const s of slos) {
    if (seen.has(s.name)) throw new SloSpecError(`--slo ${s.name} is given twice; keep one bound per name`)
    seen.add(s.name)
  }
  return slos
}

/** The value of an SLO's percentile in a run's metrics; undefined when the run has no such samples. */
export function sloValue(metrics: RunMetrics | undefined, slo: SweepSlo): number | undefined {
  const d: Distribution | undefined = metrics?.[slo.metric]
  if (d === undefined || d.n === 0) return undefined
  return d[`p${slo.percentile}`]
}

/**
 * The per-request goodput SLO (harness/metrics: a request is good when within every bound) from the sweep's
 * bounds, for the figure beside the percentiles: the tightest bound per metric; chunkGapsMs has none.
 */
export function goodputSlo(slos: readonly SweepSlo[]): Slo | undefined {
  const out: Slo = {}
  for (const s of slos) {
    if (s.metric === 'chunkGapsMs') continue
    out[s.metric] = Math.min(out[s.metric] ?? Number.POSITIVE_INFINITY, s.maxMs)
  }
  return Object.keys(out).length > 0 ? out : undefined
}
