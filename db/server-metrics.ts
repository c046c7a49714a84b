/**
 * A run's server metrics (harness/server-metrics) in the database: run_server_scrapes (whether /metrics
 * could be read, and why not) and run_server_metrics (one row per series). Written by the sink once per
 * run before its finish (journaled with the run while the database is away, db/journal.ts), read by the
 * run page, carried by export and import.
 * @module
 */
import { asc, eq } from 'drizzle-orm'
import type { ServerMetricRow, ServerMetricsRecord } from '../harness/server-metrics/session.ts'
import type { Db } from './client.ts'
import type { Redactor } from './redact.ts'
import { runServerMetrics, runServerScrapes } from './schema.ts'

/** Rows per INSERT (11 parameters each: well under PostgreSQL's 65,535). */
const BATCH = 500

/** A double column takes a finite number; NaN and ±Inf (a gauge may serve them) are stored as null. */
const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null)

/**
 * The record as it is stored, and journaled (the journal is an output too): every string through the
 * redactor as the JSON-lines sink writes it (url, reason, names, label values; a label under a
 * credential-like key becomes `[redacted]`), and NaN/±Inf as null (a double column takes finite numbers,
 * JSON has no others). Without a redactor only the numbers change.
 */
export function storedServerMetrics(record: ServerMetricsRecord, redact?: Redactor): ServerMetricsRecord {
  const clean = redact ? redact.value(record) : record
  return {
    ...clean,
    rows: clean.rows.map((r) => ({
      ...r,
      before: finite(r.before),
      after: finite(r.after),
      delta: finite(r.delta),
      sumDelta: finite(r.sumDelta),
      max: finite(r.max),
    })),
  }
}

/**
 * Stores a run's record (storedServerMetrics) in one transaction; a second call for the same run keeps the
 * first: the scrape row's key is the run (ON CONFLICT DO NOTHING) and the series are written only with a
 * new scrape row, so replaying a journal twice changes nothing.
 */
export async function insertServerMetrics(
  db: Db,
  runId: number,
  record: ServerMetricsRecord,
  redact?: Redactor,
): Promise<void> {
  const clean = storedServerMetrics(record, redact)
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(runServerScrapes)
      .values({
        runId,
        url: clean.url,
        state: clean.state,
        reason: clean.reason ?? null,
        samples: clean.samples,
      })
      .onConflictDoNothing()
      .returning({ runId: runServerScrapes.runId })
    if (inserted.length === 0) return
    for (let i = 0; i < clean.rows.length; i += BATCH)
      await tx.insert(runServerMetrics).values(
        clean.rows.slice(i, i + BATCH).map((r, j) => ({
          runId,
          seq: i + j,
          name: r.name,
          labels: r.labels,
          kind: r.kind,
          before: r.before,
          after: r.after,
          delta: r.delta,
          sumDelta: r.sumDelta,
          max: r.max,
        })),
      )
  })
}

/** A run's record as stored, or undefined when the run read no server metrics (native, off, older runs). */
export async function readServerMetrics(db: Db, runId: number): Promise<ServerMetricsRecord | undefined> {
  const [scrape] = await db.select().from(runServerScrapes).where(eq(runServerScrapes.runId, runId))
  if (scrape === undefined) return undefined
  const rows = await db
    .select()
    .from(runServerMetrics)
    .where(eq(runServerMetrics.runId, runId))
    .orderBy(asc(runServerMetrics.seq))
  return {
    url: scrape.url,
    state: scrape.state,
    ...(scrape.reason !== null ? { reason: scrape.reason } : {}),
    samples: scrape.samples,
    rows: rows.map(
      (r): ServerMetricRow => ({
        name: r.name,
        labels: r.labels,
        kind: r.kind,
        before: r.before,
        after: r.after,
        delta: r.delta,
        sumDelta: r.sumDelta,
        max: r.max,
      }),
    ),
  }
}
