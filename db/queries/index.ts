/**
 * Read side of the results database, the same on PostgreSQL and PGlite: run lists, run detail,
 * leaderboard, history series, two-run comparisons, stored gate results (limits, alerts, change points).
 * One file per query family; what is computed from the rows read is db/figures (pure).
 * @module
 */
export {
  type AlertCount,
  type AlertListFilter,
  type AlertListItem,
  alertCounts,
  getAlertWithRun,
  listAlertsWithRuns,
} from './alert-list.ts'
export {
  type ComparedRun,
  type CompareOptions,
  compareRuns,
  type MetricComparison,
  type RequestSamples,
  type RunComparison,
} from './compare.ts'
export { type DimensionSource, describeStoredLoad, differingDimensions, runDimensions } from './dimensions.ts'
export {
  type AlertMark,
  type ChangePointMark,
  type GateMarks,
  type GateMarksOptions,
  gateMarks,
  type RunLimitMark,
} from './gate-marks.ts'
export { type HistoryOptions, type HistoryPoint, type HistorySeries, historySeries } from './history.ts'
export { type LeaderboardOptions, type LeaderboardRow, leaderboard } from './leaderboard.ts'
export { HEADLINE_METRICS, type MetricValues, metricsOf } from './metrics-of.ts'
export {
  type ProcurementCandidate,
  type ProcurementRow,
  procurementCandidates,
  procurementRows,
  scenarioSlo,
} from './procurement.ts'
export {
  getRunDetail,
  listRunRequests,
  type RequestCounts,
  type RequestDetail,
  type RequestPage,
  type RunDetail,
  requestCounts,
} from './run-detail.ts'
export { listRuns, type RunFilter, type RunListItem } from './runs.ts'
