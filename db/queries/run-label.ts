/**
 * The one write of the read side: a run's free-text label (`POST /api/runs/:id/label`), shown on the run
 * and in run lists; not part of the fingerprint, so relabelling never splits a series.
 * @module
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { runs } from '../schema.ts'

/** Sets (or with null clears) a run's label; false when the run does not exist. */
export async function setRunLabel(db: Db, runId: number, label: string | null): Promise<boolean> {
  const updated = await db.update(runs).set({ label }).where(eq(runs.id, runId)).returning({ id: runs.id })
  return updated.length > 0
}
