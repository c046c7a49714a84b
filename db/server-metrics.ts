/**
 * A run's server metrics (harness/server-metrics) in the database: run_server_scrapes (whether /metrics
 * could be read, and why not) and run_server_metrics (one row per series). Written by the sink once per
 * run before its finish, read by the run page, carried by export and import.
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

/** Stores a run's record; a second call for the same run keeps the first (ON CONFLICT DO NOTHING). */
export async function insertServerMetrics(
  db: Db,
  runId: number,
  record: ServerMetricsRecord,
  redact?: Redactor,
): Promise<void> {
  const text = (s: string) => (redact ? redact.text(s) : s)
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(runServerScrapes)
      .values({
        runId,
        url: text(record.url),
        state: record.state,
        reason: record.reason === undefined ? null : text(record.reason),
        samples: record.samples,
      })
      .onConflictDoNothing()
      .returning({ runId: runServerScrapes.runId })
    if (inserted.length === 0) return
    for (let i = 0; i < record.rows.length; i += BATCH)
      await tx.insert(runServerMetrics).values(
        record.rows.slice(i, i + BATCH).map((r, j) => ({
          runId,
          seq: i + j,
          name: r.name,
          labels: r.labels,
          kind: r.kind,
          before: finite(r.before),
          after: finite(r.after),
          delta: finite(r.delta),
          sumDelta: finite(r.sumDelta),
          max: finite(r.max),
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
