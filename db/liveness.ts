/**
 * Liveness of running runs. A sink refreshes `heartbeat_at` (database clock) of its running runs every
 * HEARTBEAT_INTERVAL_MS; a run still `running` whose heartbeat is older than the stale threshold belongs to
 * a process that was killed or lost, and is marked `interrupted` — its flushed outcomes stay as they are.
 * @module
 */
import { and, eq, sql } from 'drizzle-orm'
import type { Db } from './client.ts'
import { runs } from './schema.ts'

export const HEARTBEAT_INTERVAL_MS = 1_000
/** Ten missed heartbeats: far beyond a GC pause or a slow flush, short enough to see a crash soon. */
export const STALE_RUN_AFTER_MS = 10_000

/** Marks stale running runs interrupted (finished_at = last heartbeat); returns their ids. */
export async function markInterruptedRuns(
  db: Db,
  staleAfterMs: number = STALE_RUN_AFTER_MS,
): Promise<number[]> {
  const staleSeconds = staleAfterMs / 1000
  const marked = await db
    .update(runs)
    .set({
      state: 'interrupted',
      finishedAt: sql`${runs.heartbeatAt}`,
      error: sql`coalesce(${runs.error}, ${`no heartbeat for over ${staleSeconds} s: the writing process was killed or lost`})`,
    })
    .where(
      and(
        eq(runs.state, 'running'),
        sql`${runs.heartbeatAt} < now() - make_interval(secs => ${staleSeconds}::double precision)`,
      ),
    )
    .returning({ id: runs.id })
  return marked.map((r) => r.id)
}
