/**
 * Two runs' stored figures side by side, pure: each figure either run has, with the relative change from
 * base to candidate, ordered for reading (the given headline figures first, then by name).
 * @module
 */
import { metricInfo } from '../../harness/metrics/catalogue.ts'

/** One stored run figure (a run_metrics row without its keys). */
export interface MetricValue {
  value: number
  unit: string
  direction: 'higher' | 'lower' | 'none'
  /** Samples behind the value. */
  n: number
}

export interface MetricComparison {
  name: string
  unit: string
  direction: 'higher' | 'lower' | 'none'
  base: number | null
  candidate: number | null
  baseN: number | null
  candidateN: number | null
  /** (candidate − base) / |base| · 100; null when either is missing or base is 0. */
  deltaPct: number | null
}

/**
 * (candidate − base) / |base| · 100, in percent: a change relative to the base's magnitude, so a
 * negative base that grows reads as an increase. Null when either side is missing or the base is 0 (no
 * relative change from nothing).
 */
export function relativeChangePct(base: number | undefined, candidate: number | undefined): number | null {
  if (base === undefined || candidate === undefined || base === 0) return null
  return ((candidate - base) / Math.abs(base)) * 100
}

/**
 * Every figure either side has, `first` (in its order) before the rest (by name, UTF-16 order). Unit and
 * direction come from the base's row, else the candidate's, else the metric catalogue ('' and 'none' for
 * a metric nobody knows).
 */
export function compareMetrics(
  base: Readonly<Record<string, MetricValue>>,
  candidate: Readonly<Record<string, MetricValue>>,
  first: readonly string[] = [],
): MetricComparison[] {
  const position = new Map<string, number>(first.map((name, i) => [name, i]))
  const rest = position.size
  const names = [...new Set([...Object.keys(base), ...Object.keys(candidate)])].sort(
    (x, y) => (position.get(x) ?? rest) - (position.get(y) ?? rest) || (x < y ? -1 : x > y ? 1 : 0),
  )
  return names.map((name): MetricComparison => {
    const bv = base[name]
    const cv = candidate[name]
    const info = metricInfo(name)
    return {
      name,
      unit: bv?.unit ?? cv?.unit ?? info?.unit ?? '',
      direction: bv?.direction ?? cv?.direction ?? info?.direction ?? 'none',
      base: bv?.value ?? null,
      candidate: cv?.value ?? null,
      baseN: bv?.n ?? null,
      candidateN: cv?.n ?? null,
      deltaPct: relativeChangePct(bv?.value, cv?.value),
    }
  })
}
