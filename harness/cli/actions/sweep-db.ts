/**
 * What `bench sweep` needs of the database, in one module it imports only when results go there: the run
 * sink, and the `sweeps` row that ties the step runs together (runs.sweep_id, runs.sweep_step).
 * @module
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../../../db/client.ts'
import { runs, sweeps } from '../../../db/schema.ts'

export { createDb } from '../../../db/client.ts'
export { createPostgresSink } from '../../../db/sink.ts'

export type NewSweep = Omit<typeof sweeps.$inferInsert, 'id' | 'state' | 'startedAt' | 'finishedAt'>

/** Creates the sweep's row (state running); its id. */
export async function insertSweep(db: Db, sweep: NewSweep): Promise<number> {
  const [row] = await db
    .insert(sweeps)
    .values({ ...sweep, state: 'running' })
    .returning({ id: sweeps.id })
  return row!.id
}

/** Marks a run as step `step` of sweep `sweepId`. */
export async function tagStepRun(db: Db, runId: number, sweepId: number, step: number): Promise<void> {
  await db.update(runs).set({ sweepId, sweepStep: step }).where(eq(runs.id, runId))
}

/** Records how the sweep ended. */
export async function finishSweep(
  db: Db,
  id: number,
  result: {
    state: 'completed' | 'failed' | 'interrupted'
    end: string
    kneeRatePerS?: number
    firstFailingRatePerS?: number
  },
): Promise<void> {
  await db
    .update(sweeps)
    .set({
      state: result.state,
      end: result.end,
      kneeRatePerS: result.kneeRatePerS ?? null,
      firstFailingRatePerS: result.firstFailingRatePerS ?? null,
      finishedAt: new Date(),
    })
    .where(eq(sweeps.id, id))
}
