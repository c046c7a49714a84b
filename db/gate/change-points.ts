/**
 * The nightly change-point job: for every series (fingerprint × gated metric) with enough completed runs
 * ('run' role only, all branches unless one is named), detect change points with harness/regression
 * (E-divisive means + t-test, Otava-style) and replace that series' stored change points.
 * @module
 */
import { and, asc, eq, gte, inArray, sql } from 'drizzle-orm'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { type ChangePointOptions, detectChangePoints } from '../../harness/regression/index.ts'
import type { Db } from '../client.ts'
import { changePoints, runMetrics, runs } from '../schema.ts'

export interface ChangePointJobOptions {
  /** Only runs started at or after this time. */
  since?: Date
  /** Only these metrics; default every metric with a better direction. */
  metrics?: readonly string[]
  /** Only runs of this branch (e.g. main). @default every branch */
  branch?: string
  /** Series with fewer points are skipped (and their stored change points kept). @default 8 */
  minPoints?: number
  detector?: ChangePointOptions
}

export interface SeriesResult {
  fingerprint: string
  metric: string
  points: number
  changePoints: { runId: number; index: number; changePct: number; pValue: number }[]
}

export async function computeChangePoints(db: Db, o: ChangePointJobOptions = {}): Promise<SeriesResult[]> {
  const minPoints = o.minPoints ?? 8
  const rows = await db
    .select({
      fingerprint: runs.fingerprint,
      runId: runs.id,
      name: runMetrics.name,
      value: runMetrics.value,
      direction: runMetrics.direction,
    })
    .from(runs)
    .innerJoin(runMetrics, eq(runMetrics.runId, runs.id))
    .where(
      and(
        eq(runs.state, 'completed'),
        eq(runs.role, 'run'),
        o.since !== undefined ? gte(runs.startedAt, o.since) : undefined,
        o.branch !== undefined ? eq(runs.gitBranch, o.branch) : undefined,
        o.metrics !== undefined && o.metrics.length > 0
          ? inArray(runMetrics.name, [...o.metrics])
          : sql`${runMetrics.direction} <> 'none'`,
      ),
    )
    .orderBy(asc(runs.startedAt), asc(runs.id))
  const series = new Map<
    string,
    { fingerprint: string; metric: string; runIds: number[]; values: number[] }
  >()
  for (const r of rows) {
    if (!Number.isFinite(r.value)) continue
    if (o.metrics === undefined && (metricInfo(r.name)?.direction ?? r.direction) === 'none') continue
    const key = `${r.fingerprint}\u0000${r.name}`
    const s = series.get(key) ?? { fingerprint: r.fingerprint, metric: r.name, runIds: [], values: [] }
    series.set(key, s)
    s.runIds.push(r.runId)
    s.values.push(r.value)
  }
  const results: SeriesResult[] = []
  for (const s of series.values()) {
    if (s.values.length < minPoints) continue
    const found = detectChangePoints(s.values, o.detector)
    const stored = found.flatMap((c) => {
      const runId = s.runIds[c.index]
      return runId === undefined
        ? []
        : [
            {
              fingerprint: s.fingerprint,
              metric: s.metric,
              runId,
              pointIndex: c.index,
              changePct: c.changePct,
              magnitude: c.magnitude,
              pValue: c.pValue,
              meanBefore: c.before.mean,
              meanAfter: c.after.mean,
            },
          ]
    })
    await db.transaction(async (tx) => {
      await tx
        .delete(changePoints)
        .where(and(eq(changePoints.fingerprint, s.fingerprint), eq(changePoints.metric, s.metric)))
      if (stored.length > 0) await tx.insert(changePoints).values(stored)
    })
    results.push({
      fingerprint: s.fingerprint,
      metric: s.metric,
      points: s.values.length,
      changePoints: stored.map((c) => ({
        runId: c.runId,
        index: c.pointIndex,
        changePct: c.changePct,
        pValue: c.pValue,
      })),
    })
  }
  return results
}
