/**
 * Alerts with the run each was opened on (scenario, target, fingerprint, commit), newest first, and the
 * number of alerts per metric and state. The lifecycle writes are db/gate/alerts.ts.
 * @module
 */
import { and, count, desc, eq } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type AlertRow, type alertStates, alerts, runs } from '../schema.ts'

type AlertState = (typeof alertStates)[number]

/** Most alerts one list returns. */
const MAX_ALERT_LIST = 500

export interface AlertListFilter {
  state?: AlertState
  metric?: string
  /** @default 100, at most MAX_ALERT_LIST */
  limit?: number
}

export interface AlertListItem extends AlertRow {
  scenarioName: string
  targetName: string
  /** The series (with `metric`) the alert belongs to. */
  fingerprint: string
  loadIndex: number
  gitCommit: string | null
  gitBranch: string | null
  runStartedAt: Date
}

/** Every column of an alert, as the list and the history's markers select it. */
export const alertColumns = {
  id: alerts.id,
  runId: alerts.runId,
  metric: alerts.metric,
  method: alerts.method,
  candidate: alerts.candidate,
  baseline: alerts.baseline,
  lower: alerts.lower,
  upper: alerts.upper,
  deltaPct: alerts.deltaPct,
  pValue: alerts.pValue,
  reason: alerts.reason,
  state: alerts.state,
  createdAt: alerts.createdAt,
  actedBy: alerts.actedBy,
  actedAt: alerts.actedAt,
  note: alerts.note,
}

const listColumns = {
  ...alertColumns,
  scenarioName: runs.scenarioName,
  targetName: runs.targetName,
  fingerprint: runs.fingerprint,
  loadIndex: runs.loadIndex,
  gitCommit: runs.gitCommit,
  gitBranch: runs.gitBranch,
  runStartedAt: runs.startedAt,
}

/** Newest first (creation time, then id). */
export async function listAlertsWithRuns(db: Db, filter: AlertListFilter = {}): Promise<AlertListItem[]> {
  const limit = Math.min(MAX_ALERT_LIST, Math.max(0, Math.trunc(filter.limit ?? 100)))
  return db
    .select(listColumns)
    .from(alerts)
    .innerJoin(runs, eq(runs.id, alerts.runId))
    .where(
      and(
        filter.state !== undefined ? eq(alerts.state, filter.state) : undefined,
        filter.metric !== undefined ? eq(alerts.metric, filter.metric) : undefined,
      ),
    )
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(limit)
}

/** One alert with its run; undefined when there is no such alert. */
export async function getAlertWithRun(db: Db, id: number): Promise<AlertListItem | undefined> {
  const [row] = await db
    .select(listColumns)
    .from(alerts)
    .innerJoin(runs, eq(runs.id, alerts.runId))
    .where(eq(alerts.id, id))
  return row
}

export interface AlertCount {
  metric: string
  state: AlertState
  count: number
}

/** Alerts per metric and state (every alert, whatever a list shows), by metric then state. */
export async function alertCounts(db: Db): Promise<AlertCount[]> {
  return db
    .select({ metric: alerts.metric, state: alerts.state, count: count() })
    .from(alerts)
    .groupBy(alerts.metric, alerts.state)
    .orderBy(alerts.metric, alerts.state)
}
