/**
 * The history page and /api/history: one figure of one series (fingerprint) over time or commits,
 * downsampled past a point budget. Limit bands and alert / change-point markers are part of the model so
 * the chart draws them once the gate's tables hold them; until then they are empty.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { historySeries } from '../../db/queries/index.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { lttb } from '../charts/downsample.ts'
import type { HistoryMarker, LimitBandPoint } from '../charts/history.ts'
import { NotFoundError } from '../errors.ts'
import type { HistoryQuery } from '../params.ts'
import { type FingerprintSummary, fingerprintSummary } from './queries.ts'

/** Points read before downsampling: a decade of nightly runs fits many times over. */
export const MAX_HISTORY_POINTS = 100_000

export interface HistoryModelPoint {
  runId: number
  gitCommit: string | null
  gitBranch: string | null
  startedAt: Date
  value: number
  n: number
  /** 0-based position in the full (filtered) series, kept through downsampling. */
  index: number
}

export interface HistoryModel {
  query: HistoryQuery
  series: FingerprintSummary
  unit: string | null
  direction: 'higher' | 'lower' | 'none' | null
  description: string | null
  /** Points matching the filters, before downsampling. */
  totalPoints: number
  /** Oldest first; at most `query.points` unless markers force more. */
  points: HistoryModelPoint[]
  downsampled: boolean
  /** The gate's limits per run (from the alerts tables when present). */
  band: LimitBandPoint[]
  markers: HistoryMarker[]
}

export async function loadHistory(db: Db, query: HistoryQuery): Promise<HistoryModel> {
  const series = await fingerprintSummary(db, query.fingerprint)
  if (!series) throw new NotFoundError(`no completed runs with fingerprint ${query.fingerprint}`)
  const result = await historySeries(db, {
    fingerprint: query.fingerprint,
    metric: query.metric,
    limit: MAX_HISTORY_POINTS,
    ...(query.branch !== undefined ? { branch: query.branch } : {}),
    ...(query.since !== undefined ? { since: query.since } : {}),
    ...(query.until !== undefined ? { until: query.until } : {}),
  })
  const markers: HistoryMarker[] = []
  const band: LimitBandPoint[] = []
  const marked = new Set(markers.map((m) => m.runId))
  const xy = result.points.map((p, index) => ({
    x: query.x === 'time' ? p.startedAt.getTime() : index,
    y: p.value,
    point: { ...p, index },
  }))
  const kept = lttb(xy, query.points, (p) => marked.has(p.point.runId)).map((p) => p.point)
  return {
    query,
    series,
    unit: result.unit,
    direction: result.direction,
    description: metricInfo(query.metric)?.description ?? null,
    totalPoints: result.points.length,
    points: kept,
    downsampled: kept.length < result.points.length,
    band,
    markers,
  }
}
