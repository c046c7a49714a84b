/**
 * Read side of the results database, the same on PostgreSQL and PGlite: run lists, run detail,
 * leaderboard, history series and two-run comparisons. One file per query family.
 * @module
 */
export {
  type ComparedRun,
  type CompareOptions,
  compareRuns,
  type MetricComparison,
  type RequestSamples,
  type RunComparison,
  requestSamples,
} from './compare.ts'
export { type DimensionSource, describeStoredLoad, differingDimensions, runDimensions } from './dimensions.ts'
export { type HistoryOptions, type HistoryPoint, type HistorySeries, historySeries } from './history.ts'
export { type LeaderboardOptions, type LeaderboardRow, leaderboard } from './leaderboard.ts'
export { HEADLINE_METRICS, type HeadlineMetric, type MetricValues, metricsOf } from './metrics-of.ts'
export {
  getRunDetail,
  listRunRequests,
  MAX_REQUEST_PAGE,
  type RequestCounts,
  type RequestDetail,
  type RequestPage,
  type RunDetail,
  requestCounts,
  requestTpotMs,
} from './run-detail.ts'
export { LIST_METRICS, listRuns, MAX_LIST_LIMIT, type RunFilter, type RunListItem } from './runs.ts'
