/**
 * What `bench gate` and `bench changepoints` stored about one series (fingerprint × metric): the limit band
 * per gated run (run_limits), the alerts opened on its runs, and its change points — what a history chart
 * draws over the points.
 * @module
 */
import { and, asc, desc, eq } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type AlertRow, alerts, changePoints, runLimits, runs } from '../schema.ts'
import { alertColumns } from './alert-list.ts'

export interface GateMarksOptions {
  fingerprint: string
  /** A run_metrics name, e.g. `ttftMsP95`. */
  metric: string
  /**
   * Only marks on these runs (the series as filtered by branch and time); every run of the fingerprint
   * when absent. Filtered here rather than in SQL, so a 100 k-point series needs no 100 k parameters.
   */
  runIds?: Iterable<number>
}

/** The decision limits of one gated run (one method; see gateMarks). */
export interface RunLimitMark {
  runId: number
  method: string
  candidate: number | null
  baseline: number | null
  lower: number | null
  upper: number | null
  /** regression · improvement · ok · insufficient-data */
  verdict: string
  pValue: number | null
  baselineN: number
  computedAt: Date
}

export type AlertMark = Pick<
  AlertRow,
  | 'id'
  | 'runId'
  | 'method'
  | 'candidate'
  | 'baseline'
  | 'lower'
  | 'upper'
  | 'deltaPct'
  | 'pValue'
  | 'reason'
  | 'state'
  | 'createdAt'
  | 'actedBy'
  | 'actedAt'
  | 'note'
>

export interface ChangePointMark {
  /** First run of the new regime. */
  runId: number
  /** Position in the series the job analysed (its branch and time window, not necessarily this view's). */
  pointIndex: number
  /** (after mean / before mean − 1) · 100. */
  changePct: number
  magnitude: number
  pValue: number
  meanBefore: number
  meanAfter: number
  computedAt: Date
}

export interface GateMarks {
  /** One row per gated run, in run start order. */
  limits: RunLimitMark[]
  /** Oldest first. */
  alerts: AlertMark[]
  /** In run start order. */
  changePoints: ChangePointMark[]
}

/**
 * The stored gate results of a series. A run gated with several methods (`bench gate --method …` run
 * twice) has several run_limits rows; the band takes the most recently computed one (ties: method name
 * ascending), i.e. what the last gate of that run decided. Alerts are listed whatever their method.
 */
export async function gateMarks(db: Db, o: GateMarksOptions): Promise<GateMarks> {
  const ofSeries = eq(runs.fingerprint, o.fingerprint)
  const [limitRows, alertRows, changeRows] = await Promise.all([
    db
      .selectDistinctOn([runs.startedAt, runLimits.runId], {
        runId: runLimits.runId,
        method: runLimits.method,
        candidate: runLimits.candidate,
        baseline: runLimits.baseline,
        lower: runLimits.lower,
        upper: runLimits.upper,
        verdict: runLimits.verdict,
        pValue: runLimits.pValue,
        baselineN: runLimits.baselineN,
        computedAt: runLimits.computedAt,
      })
      .from(runLimits)
      .innerJoin(runs, eq(runs.id, runLimits.runId))
      .where(and(ofSeries, eq(runLimits.metric, o.metric)))
      .orderBy(asc(runs.startedAt), asc(runLimits.runId), desc(runLimits.computedAt), asc(runLimits.method)),
    db
      .select(alertColumns)
      .from(alerts)
      .innerJoin(runs, eq(runs.id, alerts.runId))
      .where(and(ofSeries, eq(alerts.metric, o.metric)))
      .orderBy(asc(alerts.createdAt), asc(alerts.id)),
    db
      .select({
        runId: changePoints.runId,
        pointIndex: changePoints.pointIndex,
        changePct: changePoints.changePct,
        magnitude: changePoints.magnitude,
        pValue: changePoints.pValue,
        meanBefore: changePoints.meanBefore,
        meanAfter: changePoints.meanAfter,
        computedAt: changePoints.computedAt,
      })
      .from(changePoints)
      .innerJoin(runs, eq(runs.id, changePoints.runId))
      .where(and(eq(changePoints.fingerprint, o.fingerprint), eq(changePoints.metric, o.metric)))
      .orderBy(asc(runs.startedAt), asc(changePoints.runId)),
  ])
  if (o.runIds === undefined) return { limits: limitRows, alerts: alertRows, changePoints: changeRows }
  const wanted = new Set(o.runIds)
  const mine = <T extends { runId: number }>(rows: T[]) => rows.filter((r) => wanted.has(r.runId))
  return { limits: mine(limitRows), alerts: mine(alertRows), changePoints: mine(changeRows) }
}
