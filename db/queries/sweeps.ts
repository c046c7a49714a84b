/**
 * `bench sweep` results: the sweeps newest first with their step counts, one sweep's row, and its steps —
 * the runs tied to it (runs.sweep_id, runs.sweep_step), in the order run, with the figures a sweep chart
 * draws. What is judged from them (pass or fail per step) is dashboard/data/sweeps.ts.
 * @module
 */
import { asc, count, desc, eq, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { markInterruptedRuns } from '../liveness.ts'
import { type Run, runs, sweeps } from '../schema.ts'
import { type MetricValues, metricsOf } from './metrics-of.ts'

export type SweepRow = typeof sweeps.$inferSelect

export interface SweepListItem extends SweepRow {
  /** Runs tied to the sweep (its steps so far). */
  steps: number
  /** State of its last step's run (null without steps): an interrupted one under a running sweep means its process died. */
  lastStepState: Run['state'] | null
}

/** Most sweeps one list returns. */
const MAX_SWEEP_LIST = 500

/** Sweeps newest first (started_at, then id), each with its number of step runs. */
export async function listSweeps(
  db: Db,
  page: { limit?: number; offset?: number } = {},
): Promise<SweepListItem[]> {
  await markInterruptedRuns(db).catch(() => {})
  const limit = Math.min(Math.max(0, Math.trunc(page.limit ?? 50)), MAX_SWEEP_LIST)
  const stepCounts = db
    .select({ sweepId: runs.sweepId, steps: count().as('steps') })
    .from(runs)
    .where(sql`${runs.sweepId} is not null`)
    .groupBy(runs.sweepId)
    .as('step_counts')
  const rows = await db
    .select({
      sweep: sweeps,
      steps: stepCounts.steps,
      lastStepState: sql<
        Run['state'] | null
      >`(select ${runs.state} from ${runs} where ${runs.sweepId} = ${sweeps.id} order by ${runs.sweepStep} desc, ${runs.id} desc limit 1)`,
    })
    .from(sweeps)
    .leftJoin(stepCounts, eq(stepCounts.sweepId, sweeps.id))
    .orderBy(desc(sweeps.startedAt), desc(sweeps.id))
    .limit(limit)
    .offset(Math.max(0, Math.trunc(page.offset ?? 0)))
  return rows.map((r) => ({ ...r.sweep, steps: Number(r.steps ?? 0), lastStepState: r.lastStepState }))
}

export async function getSweep(db: Db, id: number): Promise<SweepRow | undefined> {
  const [row] = await db.select().from(sweeps).where(eq(sweeps.id, id))
  return row
}

export interface SweepStepRun {
  runId: number
  /** 0-based, in the order run. */
  step: number
  state: Run['state']
  /** Why a failed or interrupted run ended so (e.g. `stopped early: over-saturated …`). */
  error: string | null
  /** The load as run; a step's offered rate is its `ratePerS`. */
  load: unknown
  loadKind: string
  startedAt: Date
  finishedAt: Date | null
  /** The figures asked for that the run has. */
  metrics: MetricValues
}

/** The sweep's step runs by step, with the figures named (run_metrics names, e.g. `ttftMsP95`). */
export async function sweepSteps(db: Db, id: number, names: readonly string[]): Promise<SweepStepRun[]> {
  // A killed sweep's last step reads as interrupted, as on the runs list.
  await markInterruptedRuns(db).catch(() => {})
  const rows = await db
    .select({
      runId: runs.id,
      step: runs.sweepStep,
      state: runs.state,
      error: runs.error,
      load: runs.load,
      loadKind: runs.loadKind,
      startedAt: runs.startedAt,
      finishedAt: runs.finishedAt,
    })
    .from(runs)
    .where(eq(runs.sweepId, id))
    .orderBy(asc(runs.sweepStep), asc(runs.id))
  const metrics = await metricsOf(
    db,
    rows.map((r) => r.runId),
    names,
  )
  return rows.map((r) => ({ ...r, step: r.step ?? 0, metrics: metrics.get(r.runId) ?? {} }))
}
