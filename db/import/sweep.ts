/**
 * The sweep of an imported step run (a bench-run document's `sweep`): found or created in this database,
 * so that the steps of one `bench sweep`, pushed or imported one by one, meet again under one sweeps row.
 * A sweep is the same sweep when its invocation, start time, endpoint, model, scenario and target are
 * (the source's id is not: it differs in every database). A document whose sweep has finished completes a
 * stored one still running (steps pushed while the sweep ran, the last one after it ended).
 * @module
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { BenchRunDocument } from '../bench-run-document.ts'
import type { Db } from '../client.ts'
import { canonicalJson, sha256Hex } from '../identity.ts'
import type { Redactor } from '../redact.ts'
import { runs, sweeps } from '../schema.ts'

type SweepDocument = NonNullable<BenchRunDocument['sweep']>

/** What makes two documents' sweeps one sweep, whichever database exported them. */
export function sweepKey(sweep: SweepDocument): string {
  return sha256Hex(
    canonicalJson({
      invocationId: sweep.invocationId,
      startedAt: new Date(sweep.startedAt).toISOString(),
      baseUrl: sweep.baseUrl,
      model: sweep.model,
      scenarioName: sweep.scenarioName,
      targetName: sweep.targetName,
    }),
  )
}

/** The id of the document's sweep here: found (completed if the document's has ended) or created. */
export async function upsertSweep(tx: Db, sweep: SweepDocument, redact: Redactor): Promise<number> {
  // Two steps of one sweep pushed at once: the second waits, then finds the first one's row.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bench-sweep:${sweepKey(sweep)}`}))`)
  const startedAt = new Date(sweep.startedAt)
  const finishedAt = sweep.finishedAt === null ? null : new Date(sweep.finishedAt)
  const baseUrl = redact.text(sweep.baseUrl)
  const [existing] = await tx
    .select({ id: sweeps.id, finishedAt: sweeps.finishedAt })
    .from(sweeps)
    .where(
      and(
        sweep.invocationId === null
          ? isNull(sweeps.invocationId)
          : eq(sweeps.invocationId, sweep.invocationId),
        eq(sweeps.startedAt, startedAt),
        eq(sweeps.baseUrl, baseUrl),
        eq(sweeps.model, sweep.model),
        eq(sweeps.scenarioName, sweep.scenarioName),
        eq(sweeps.targetName, sweep.targetName),
      ),
    )
    .limit(1)
  const outcome = {
    state: sweep.state,
    end: sweep.end,
    kneeRatePerS: sweep.kneeRatePerS,
    firstFailingRatePerS: sweep.firstFailingRatePerS,
    finishedAt,
  }
  if (existing) {
    if (existing.finishedAt === null && finishedAt !== null)
      await tx.update(sweeps).set(outcome).where(eq(sweeps.id, existing.id))
    return existing.id
  }
  const [row] = await tx
    .insert(sweeps)
    .values({
      invocationId: sweep.invocationId,
      scenarioName: sweep.scenarioName,
      targetName: sweep.targetName,
      baseUrl,
      model: sweep.model,
      arrivals: sweep.arrivals,
      slo: redact.value(sweep.slo),
      options: redact.value(sweep.options),
      label: sweep.label === null ? null : redact.text(sweep.label),
      startedAt,
      ...outcome,
    })
    .returning({ id: sweeps.id })
  if (!row) throw new Error('inserting an imported sweep returned no id')
  return row.id
}

/** Deletes the sweep when no run is tied to it any more (an ingest of its only step that failed). */
export async function dropEmptySweep(db: Db, sweepId: number): Promise<void> {
  await db
    .delete(sweeps)
    .where(
      and(eq(sweeps.id, sweepId), sql`not exists (select 1 from ${runs} where ${runs.sweepId} = ${sweepId})`),
    )
}
