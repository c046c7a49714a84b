/**
 * Gate results kept for charts and people: per-run limit bands (run_limits) and alerts with their
 * lifecycle. The state changes are here so the CLI and the dashboard share them.
 * @module
 */
import { and, desc, eq, sql } from 'drizzle-orm'
import type { Verdict } from '../../harness/regression/index.ts'
import type { Db } from '../client.ts'
import { type AlertRow, alertStates, alerts, runLimits } from '../schema.ts'

export type AlertState = (typeof alertStates)[number]
export { alertStates }

export interface GatedMetric {
  runId: number
  metric: string
  verdict: Verdict
}

/** Upserts one run_limits row per (run, metric, method). */
export async function saveRunLimits(db: Db, rows: readonly GatedMetric[]): Promise<void> {
  for (const { runId, metric, verdict: v } of rows) {
    const values = {
      candidate: v.candidate ?? null,
      baseline: v.baselineValue ?? null,
      lower: v.lowerLimit ?? null,
      upper: v.upperLimit ?? null,
      verdict: v.verdict,
      pValue: v.pValue ?? null,
      baselineN: v.baseline?.n ?? 0,
      computedAt: sql`now()`,
    }
    await db
      .insert(runLimits)
      .values({ runId, metric, method: v.method, ...values })
      .onConflictDoUpdate({ target: [runLimits.runId, runLimits.metric, runLimits.method], set: values })
  }
}

/** Opens an active alert per regression; returns their ids. */
export async function createAlerts(db: Db, rows: readonly GatedMetric[]): Promise<number[]> {
  const regressions = rows.filter((r) => r.verdict.verdict === 'regression')
  if (regressions.length === 0) return []
  const inserted = await db
    .insert(alerts)
    .values(
      regressions.map(({ runId, metric, verdict: v }) => ({
        runId,
        metric,
        method: v.method,
        candidate: v.candidate ?? null,
        baseline: v.baselineValue ?? null,
        lower: v.lowerLimit ?? null,
        upper: v.upperLimit ?? null,
        deltaPct: v.deltaPct ?? null,
        pValue: v.pValue ?? null,
        reason: v.reason,
      })),
    )
    .returning({ id: alerts.id })
  return inserted.map((r) => r.id)
}

export interface AlertFilter {
  state?: AlertState
  runId?: number
  /** @default 100 */
  limit?: number
}

/** Newest first. */
export async function listAlerts(db: Db, filter: AlertFilter = {}): Promise<AlertRow[]> {
  return db
    .select()
    .from(alerts)
    .where(
      and(
        filter.state !== undefined ? eq(alerts.state, filter.state) : undefined,
        filter.runId !== undefined ? eq(alerts.runId, filter.runId) : undefined,
      ),
    )
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(Math.max(0, Math.trunc(filter.limit ?? 100)))
}

export interface AlertAction {
  /** Who acted (a user name, or 'cli'). */
  by?: string
  note?: string
}

/** active → acknowledged (a real regression someone owns). Undefined when no such alert. */
export function acknowledgeAlert(db: Db, id: number, act: AlertAction = {}): Promise<AlertRow | undefined> {
  return setAlertState(db, id, 'acknowledged', act)
}

/** → dismissed (noise, or intended). Undefined when no such alert. */
export function dismissAlert(db: Db, id: number, act: AlertAction = {}): Promise<AlertRow | undefined> {
  return setAlertState(db, id, 'dismissed', act)
}

async function setAlertState(
  db: Db,
  id: number,
  state: AlertState,
  act: AlertAction,
): Promise<AlertRow | undefined> {
  const rows = await db
    .update(alerts)
    .set({ state, actedBy: act.by ?? null, actedAt: sql`now()`, note: act.note ?? null })
    .where(eq(alerts.id, id))
    .returning()
  return rows[0]
}
