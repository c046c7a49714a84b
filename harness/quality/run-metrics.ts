/**
 * What a quality run stores (run_metrics rows, names and units as harness/metrics/catalogue.ts
 * QUALITY_METRICS): from a QualitySummary, or only the token count when there are too few for statistics.
 * @module
 */
import type { MetricRow } from '../metrics/types.ts'
import type { QualitySummary } from './summary.ts'

/**
 * @param options.topK k of the top-k lists when the figures come from an endpoint (stored as `qualityTopK`,
 *   which marks the run approximate; summary.approximate without it is an error, so the mark is never lost)
 */
export function qualityMetricRows(summary: QualitySummary, options: { topK?: number } = {}): MetricRow[] {
  const n = summary.count
  const rows: MetricRow[] = [{ name: 'qualityTokens', value: n, unit: 'count', direction: 'none', n }]
  if (summary.approximate && options.topK === undefined)
    throw new RangeError('approximate quality figures need their k (options.topK) to be stored as such')
  if (options.topK !== undefined)
    rows.push({ name: 'qualityTopK', value: options.topK, unit: 'count', direction: 'none', n })
  if (summary.state !== 'ok') return rows
  const row = (name: string, value: number, unit: string, direction: MetricRow['direction']) => {
    if (Number.isFinite(value)) rows.push({ name, value, unit, direction, n })
  }
  row('klDivergence', summary.klDivergence.mean, 'nats', 'lower')
  row('klDivergenceSe', summary.klDivergence.se, 'nats', 'none')
  row('klDivergenceMedian', summary.klDivergence.median, 'nats', 'lower')
  row('klDivergenceP99', summary.klDivergence.p99, 'nats', 'lower')
  row('klDivergenceMax', summary.klDivergence.max, 'nats', 'lower')
  row('top1Agreement', summary.top1Agreement.p, 'ratio', 'higher')
  row('top1AgreementSe', summary.top1Agreement.se, 'ratio', 'none')
  row('deltaPMean', summary.deltaP.mean, 'ratio', 'none')
  row('deltaPRms', summary.deltaP.rms, 'ratio', 'lower')
  row('lnPplRatio', summary.lnPplRatio.mean, 'nats', 'lower')
  row('lnPplRatioSe', summary.lnPplRatio.se, 'nats', 'none')
  return rows
}
