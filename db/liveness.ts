/**
 * Liveness of running runs. Each run row records the pid and host of the process writing it, and a sink
 * refreshes `heartbeat_at` (database clock) of its running runs every HEARTBEAT_INTERVAL_MS. A run still
 * `running` is marked `interrupted` — its flushed outcomes stay as they are —
 * - at once when its writer ran on this host and that pid no longer exists (killed, crashed);
 * - otherwise when its heartbeat is older than the stale threshold: a writer on another host, or a row
 *   written before the pid and host were recorded.
 * A reused pid looks alive: that run then waits for the heartbeat threshold, never the other way round.
 * @module
 */
import os from 'node:os'
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm'
import type { Db } from './client.ts'
import { runs } from './schema.ts'

export const HEARTBEAT_INTERVAL_MS = 1_000
/** Ten missed heartbeats: far beyond a GC pause or a slow flush, short enough to see a crash soon. */
export const STALE_RUN_AFTER_MS = 10_000

/** What the sink records in a new run row: this process, on this host. */
export function runWriter(): { writerPid: number; writerHost: string } {
  return { writerPid: process.pid, writerHost: os.hostname() }
}

/**
 * Marks running runs interrupted whose writer on this host is gone, then those with a stale heartbeat
 * (finished_at = last heartbeat); returns their ids. Run at every open (createDb), and by long-lived
 * readers before they list runs.
 */
export async function markInterruptedRuns(
  db: Db,
  staleAfterMs: number = STALE_RUN_AFTER_MS,
): Promise<number[]> {
  const gone = await markRunsOfGoneWriters(db)
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
  return [...gone, ...marked.map((r) => r.id)]
}

/** Running runs written on this host by a process that no longer exists, marked interrupted; their ids. */
async function markRunsOfGoneWriters(db: Db, host: string = os.hostname()): Promise<number[]> {
  const running = await db
    .select({ id: runs.id, pid: runs.writerPid })
    .from(runs)
    .where(and(eq(runs.state, 'running'), eq(runs.writerHost, host), isNotNull(runs.writerPid)))
  const gone = running.filter((r) => r.pid !== null && !processExists(r.pid)).map((r) => r.id)
  if (gone.length === 0) return []
  const marked = await db
    .update(runs)
    .set({
      state: 'interrupted',
      finishedAt: sql`${runs.heartbeatAt}`,
      error: sql`coalesce(${runs.error}, 'the writing process (pid ' || ${runs.writerPid} || ' on ' || ${runs.writerHost} || ') ended without finishing the run: killed or crashed')`,
    })
    // Still running: the writer may have finished it between the select and now.
    .where(and(inArray(runs.id, gone), eq(runs.state, 'running')))
    .returning({ id: runs.id })
  return marked.map((r) => r.id)
}

/** False only when there is provably no such process here (ESRCH); EPERM means it exists. */
function processExists(pid: number): boolean {
  // 0 and negative pids would signal process groups: not a pid we recorded, so not provably gone.
  if (!Number.isInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
