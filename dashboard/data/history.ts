/**
 * The history page and /api/history: one figure of one series (fingerprint) over time or commits,
 * downsampled past a point budget, with what the gate stored about it: the limit band of each gated run
 * (run_limits), alerts and change points as markers (runs carrying one survive downsampling), and the
 * alerts and change points again as rows for the table under the chart.
 * @module
 */
import type { Db } from '../../db/client.ts'
import {
  type AlertMark,
  type ChangePointMark,
  gateMarks,
  type HistoryPoint,
  historySeries,
  type RunLimitMark,
} from '../../db/queries/index.ts'
import { type FingerprintSummary, fingerprintSummary } from '../../db/queries/pickers.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { lttb } from '../charts/downsample.ts'
import type { HistoryMarker } from '../charts/history.ts'
import { NotFoundError } from '../errors.ts'
import type { HistoryQuery } from '../params.ts'

/** Points read before downsampling: a decade of nightly runs fits many times over. */
const MAX_HISTORY_POINTS = 100_000

export interface HistoryModelPoint extends HistoryPoint {
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
  /** The gate's limits per gated run of the series (one method per run; db/queries/gate-marks.ts). */
  band: RunLimitMark[]
  /** One per alert and per change point of the series; the chart draws those whose run is a point. */
  markers: HistoryMarker[]
  /** Alerts of the series' runs for this metric, oldest first. */
  alerts: HistoryAlert[]
  /** Change points of the series (fingerprint × metric), in run order. */
  changePoints: HistoryChangePoint[]
}

/** `previousRunId`: the run before the marked one in the (filtered) series, to compare the two. */
export interface HistoryAlert extends AlertMark {
  previousRunId: number | null
}

export interface HistoryChangePoint extends ChangePointMark {
  previousRunId: number | null
}

/** `+12.3 %`: marker labels are plain text in the chart's tooltips. */
function signedPct(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–'
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)} %`
}

function markersOf(alerts: readonly AlertMark[], changePoints: readonly ChangePointMark[]): HistoryMarker[] {
  return [
    ...alerts.map(
      (a): HistoryMarker => ({
        runId: a.runId,
        kind: 'alert',
        label: `alert #${a.id} (${a.state}): ${signedPct(a.deltaPct)}${a.pValue !== null ? `, p ${a.pValue.toPrecision(2)}` : ''}`,
      }),
    ),
    ...changePoints.map(
      (c): HistoryMarker => ({
        runId: c.runId,
        kind: 'change-point',
        label: `change point: ${signedPct(c.changePct)}, p ${c.pValue.toPrecision(2)}`,
      }),
    ),
  ]
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
  const runIds = result.points.map((p) => p.runId)
  const marks = await gateMarks(db, { fingerprint: query.fingerprint, metric: query.metric, runIds })
  const position = new Map(runIds.map((id, i) => [id, i]))
  const previousOf = (runId: number) => runIds[(position.get(runId) ?? 0) - 1] ?? null
  const markers = markersOf(marks.alerts, marks.changePoints)
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
    band: marks.limits,
    markers,
    alerts: marks.alerts.map((a) => ({ ...a, previousRunId: previousOf(a.runId) })),
    changePoints: marks.changePoints.map((c) => ({ ...c, previousRunId: previousOf(c.runId) })),
  }
}
