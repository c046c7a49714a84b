/**
 * The history page and /api/history: one figure of one series (fingerprint) over time or commits, one
 * line per git branch (the default branch alone unless asked; confirmation re-runs left out unless
 * asked: scope.ts), each downsampled past its share of the point budget, with what the gate stored about it: the limit band of each gated run
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
import { metricsOf } from '../../db/queries/metrics-of.ts'
import { type FingerprintSummary, fingerprintBranches, fingerprintSummary } from '../../db/queries/pickers.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { lttb } from '../charts/downsample.ts'
import type { HistoryMarker } from '../charts/history.ts'
import { NotFoundError } from '../errors.ts'
import type { HistoryQuery } from '../params.ts'
import {
  type BranchView,
  branchView,
  FLAG_METRICS,
  fallBackToEveryBranch,
  mayFallBack,
  type RunFlag,
  runFlags,
  scopeOptions,
} from './scope.ts'

/** Points read before downsampling: a decade of nightly runs fits many times over. */
const MAX_HISTORY_POINTS = 100_000

export interface HistoryModelPoint extends HistoryPoint {
  /** 0-based position in the full (filtered) series, every line together, kept through downsampling. */
  index: number
  /** The line (HistoryLine.key) the point is drawn on. */
  line: string
  /** The run's flags (client-saturated, errors over 1 %; scope.ts), shown in the points table. */
  flags: RunFlag[]
}

/**
 * One line of the chart: the runs of one git branch (and role, when confirmation re-runs are shown), so a
 * pull request's runs never join the default branch's line.
 */
export interface HistoryLine {
  /** `main`, `pr-42`, `(no branch)`, `main · confirm`: the legend's text. */
  key: string
  branch: string | null
  role: 'run' | 'confirm'
  /** Points of the line before downsampling. */
  totalPoints: number
}

/** The legend text of runs that recorded no git branch. */
export const NO_BRANCH = '(no branch)'

function lineKey(branch: string | null, role: 'run' | 'confirm'): string {
  return `${branch ?? NO_BRANCH}${role === 'confirm' ? ' · confirm' : ''}`
}

export interface HistoryModel {
  query: HistoryQuery
  /** Which branch and run roles the points come from (scope.ts). */
  view: BranchView
  /** The lines drawn: the default branch first, then runs without a branch, then the others by name. */
  lines: HistoryLine[]
  /** Branches with completed runs of the series, by name (the branch picker). */
  branches: string[]
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

/** The default branch's lines first, then runs without a branch, then the rest; confirm runs after. */
function lineRank(l: HistoryLine, view: BranchView): number {
  const branch = l.branch === view.defaultBranch ? 0 : l.branch === null ? 1 : 2
  return branch * 2 + (l.role === 'confirm' ? 1 : 0)
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Flags of each run from its stored clientSaturated and errorRate (one read for every point). */
async function runFlagsOf(db: Db, runIds: readonly number[]): Promise<Map<number, RunFlag[]>> {
  const metrics = await metricsOf(db, runIds, FLAG_METRICS)
  return new Map([...metrics].map(([id, m]) => [id, runFlags(m)]))
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
  const [series, branches] = await Promise.all([
    fingerprintSummary(db, query.fingerprint),
    fingerprintBranches(db, query.fingerprint),
  ])
  if (!series) throw new NotFoundError(`no completed runs with fingerprint ${query.fingerprint}`)
  const read = (v: BranchView) =>
    historySeries(db, {
      fingerprint: query.fingerprint,
      metric: query.metric,
      limit: MAX_HISTORY_POINTS,
      ...scopeOptions(v),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.until !== undefined ? { until: query.until } : {}),
    })
  let view = branchView(query.branch, query.role)
  let result = await read(view)
  // The series never ran on the default branch (only on a feature branch, or the default is `master`):
  // every branch, one line each, and the page says so.
  if (result.points.length === 0 && mayFallBack(view, query.branch)) {
    view = fallBackToEveryBranch(view)
    result = await read(view)
  }
  const runIds = result.points.map((p) => p.runId)
  const marks = await gateMarks(db, { fingerprint: query.fingerprint, metric: query.metric, runIds })
  const position = new Map(runIds.map((id, i) => [id, i]))
  const previousOf = (runId: number) => runIds[(position.get(runId) ?? 0) - 1] ?? null
  const markers = markersOf(marks.alerts, marks.changePoints)
  const marked = new Set(markers.map((m) => m.runId))
  const byLine = new Map<string, { x: number; y: number; point: HistoryModelPoint }[]>()
  result.points.forEach((p, index) => {
    const line = lineKey(p.gitBranch, p.role)
    const xy = {
      x: query.x === 'time' ? p.startedAt.getTime() : index,
      y: p.value,
      point: { ...p, index, line, flags: [] as RunFlag[] },
    }
    byLine.set(line, [...(byLine.get(line) ?? []), xy])
  })
  const lines = [...byLine.entries()]
    .map(([key, xy]): HistoryLine => {
      const first = xy[0]!.point
      return { key, branch: first.gitBranch, role: first.role, totalPoints: xy.length }
    })
    .sort((a, b) => lineRank(a, view) - lineRank(b, view) || compareText(a.key, b.key))
  // Each line keeps its share of the budget (at least 3: first, last and one between).
  const total = result.points.length
  const sampled = lines
    .flatMap((l) => {
      const budget = Math.max(3, Math.floor((query.points * l.totalPoints) / Math.max(1, total)))
      return lttb(byLine.get(l.key)!, budget, (p) => marked.has(p.point.runId)).map((p) => p.point)
    })
    .sort((a, b) => a.index - b.index)
  // Flags of the points kept only: a long series reads them for a few hundred runs, not 100 k.
  const flagsOf = await runFlagsOf(
    db,
    sampled.map((p) => p.runId),
  )
  const kept = sampled.map((p) => ({ ...p, flags: flagsOf.get(p.runId) ?? [] }))
  return {
    query,
    view,
    lines,
    branches,
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
