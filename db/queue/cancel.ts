/**
 * `bench matrix cancel <id>`: the matrix's jobs that no worker holds are failed for good in
 * graphile-worker's table (permanently_fail_jobs: attempts = max_attempts, never claimed again) and marked
 * `dead` with the reason in ours, in one transaction. A job a worker is running finishes (its run is
 * ordinary); a job claimed in the same instant as the cancel may still run once.
 * @module
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { matrixJobs } from '../schema.ts'

export interface Cancelled {
  /** Jobs that will not run. */
  cancelled: number
  /** Jobs running now: they finish. */
  running: number
}

export async function cancelMatrix(db: Db, matrixId: number, reason = 'cancelled'): Promise<Cancelled> {
  return db.transaction(async (tx) => {
    const dropped = await tx
      .update(matrixJobs)
      .set({ state: 'dead', lastError: reason, finishedAt: sql`now()` })
      .where(and(eq(matrixJobs.matrixId, matrixId), inArray(matrixJobs.state, ['queued', 'retrying'])))
      .returning({ queueJobId: matrixJobs.queueJobId })
    const ids = dropped.flatMap((r) => (r.queueJobId === null ? [] : [r.queueJobId]))
    if (ids.length > 0)
      await tx.execute(
        sql`select count(*) from graphile_worker.permanently_fail_jobs(${`{${ids.join(',')}}`}::bigint[], ${reason})`,
      )
    const running = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(matrixJobs)
      .where(and(eq(matrixJobs.matrixId, matrixId), eq(matrixJobs.state, 'running')))
    return { cancelled: dropped.length, running: Number(running[0]?.n ?? 0) }
  })
}
