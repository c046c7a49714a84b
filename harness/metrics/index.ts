/**
 * Pure metric computations over request outcomes (METRICS.md). Nothing here does I/O.
 * @module
 */
export {
  DISTRIBUTION_METRICS,
  DISTRIBUTION_STATS,
  type DistributionMetricName,
  type DistributionStat,
  ERROR_KIND_METRICS,
  type ErrorKindMetricName,
  errorKindMetricName,
  METRIC_CATALOGUE,
  type MetricDirection,
  type MetricInfo,
  type MetricName,
  type MetricUnit,
  metricInfo,
  type ResolvedMetricInfo,
  SCALAR_METRICS,
  type ScalarMetricName,
  STAT_FIELDS,
  statInfo,
} from './catalogue.ts'
export {
  checkErrorRate,
  countErrors,
  type ErrorCount,
  type ErrorRateCheck,
  errorLabel,
  formatErrorCounts,
  isAborted,
} from './error-rate.ts'
export { flattenMetrics } from './flatten.ts'
export { createLatencyHistogram, decodeLatencyHistogram, LatencyHistogram } from './histogram.ts'
export { distribution, percentile, percentileOfHistogram, type RankedHistogram } from './percentile.ts'
export {
  decodeTokensPerS,
  e2eSchedMs,
  prefillTokensPerS,
  type RequestMetrics,
  requestMetrics,
  scheduleLagMs,
  tokensPerChunk,
  tpotMs,
  ttftSchedMs,
} from './request.ts'
export {
  DEFAULT_SATURATION_THRESHOLDS,
  meetsSlo,
  peakOutputTokensPerS,
  type SaturationThresholds,
  type SummarizeRunOptions,
  summarizeRun,
} from './run.ts'
export type { Distribution, MetricRow, RunMetrics, Slo } from './types.ts'
