/**
 * The one mapping between an accuracy item as the harness scored it (ItemOutcome, harness/results.ts) and
 * its `accuracy_items` row, both ways, and the bulk insert every writer uses (the sink, its journal replay,
 * `bench import`). Strings (generated text, error message) pass through the Redactor, as request messages
 * do. Rows already stored (same run_id, seq) are skipped, so a batch written twice changes nothing.
 * @module
 */
import { asc, eq } from 'drizzle-orm'
import type { ItemErrorKind, ItemOutcome } from '../harness/results.ts'
import type { Db } from './client.ts'
import type { Redactor } from './redact.ts'
import { type AccuracyItemRow, accuracyItems, type NewAccuracyItemRow } from './schema.ts'

/** A log-likelihood as JSON carries it: a number, or `-Infinity` / `Infinity` / `NaN` as text. */
export type JsonLoglik = number | '-Infinity' | 'Infinity' | 'NaN'

/**
 * Log-likelihoods for JSON (journal, export): JSON has no -Infinity (an endpoint's choice absent from its
 * top-k) or NaN (kept with the item that failed on it), which JSON.stringify would write as null.
 */
export function logliksToJson(values: readonly number[] | null | undefined): JsonLoglik[] | null {
  return values == null ? null : values.map((v) => (Number.isFinite(v) ? v : (String(v) as JsonLoglik)))
}

/** The numbers logliksToJson wrote. */
export function logliksFromJson(values: readonly JsonLoglik[] | null | undefined): number[] | null {
  return values == null ? null : values.map((v) => (typeof v === 'number' ? v : Number(v)))
}

/** Rows per INSERT: 15 parameters each, well under PostgreSQL's 65 535 per statement. */
export const ITEM_BATCH = 2_000

/** An item row as a document or outcome gives it: every column but run_id. */
export type ItemFields = Omit<NewAccuracyItemRow, 'runId'>

/** The stored row of an item (redacted strings, integer indexes). */
export function itemRow(runId: number, f: ItemFields, redact: Redactor): NewAccuracyItemRow {
  return {
    runId,
    seq: f.seq,
    itemId: f.itemId,
    subject: f.subject,
    itemIndex: f.itemIndex,
    answer: f.answer,
    predicted: f.predicted ?? null,
    correct: f.correct ?? null,
    predictedNorm: f.predictedNorm ?? null,
    logliks: f.logliks ?? null,
    generated: f.generated == null ? null : redact.text(f.generated),
    startedAtMs: f.startedAtMs,
    durationMs: f.durationMs,
    errorKind: f.errorKind ?? null,
    message: f.message == null ? null : redact.text(f.message),
  }
}

/** The `accuracy_items` row of one scored item. */
export function toItemRow(runId: number, o: ItemOutcome, redact: Redactor): NewAccuracyItemRow {
  return itemRow(
    runId,
    {
      seq: o.seq,
      itemId: o.itemId,
      subject: o.subject,
      itemIndex: o.itemIndex,
      answer: o.answer,
      predicted: o.predicted,
      correct: o.correct,
      predictedNorm: o.predictedNorm ?? null,
      logliks: o.logliks ?? null,
      generated: o.generated ?? null,
      startedAtMs: o.startedAt,
      durationMs: o.durationMs,
      errorKind: o.error?.kind ?? null,
      message: o.error?.message ?? null,
    },
    redact,
  )
}

/** The ItemOutcome a stored row describes (what paired comparisons and tests read back). */
export function fromItemRow(row: AccuracyItemRow): ItemOutcome {
  return {
    seq: row.seq,
    itemId: row.itemId,
    subject: row.subject,
    itemIndex: row.itemIndex,
    answer: row.answer,
    predicted: row.predicted,
    correct: row.correct,
    // Set on the scored items of an mmlu-continuation run only.
    ...(row.predictedNorm !== null ? { predictedNorm: row.predictedNorm } : {}),
    ...(row.logliks !== null ? { logliks: row.logliks } : {}),
    ...(row.generated !== null ? { generated: row.generated } : {}),
    startedAt: row.startedAtMs,
    durationMs: row.durationMs,
    ...(row.errorKind !== null
      ? { error: { kind: row.errorKind as ItemErrorKind, message: row.message ?? '' } }
      : {}),
  }
}

/** Inserts rows in batches of ITEM_BATCH; rows already there (run_id, seq) are skipped. */
export async function insertAccuracyItems(db: Db, rows: readonly NewAccuracyItemRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ITEM_BATCH)
    await db
      .insert(accuracyItems)
      .values(rows.slice(i, i + ITEM_BATCH))
      .onConflictDoNothing({ target: [accuracyItems.runId, accuracyItems.seq] })
}

/** A run's item rows in seq order. */
export async function listAccuracyItems(db: Db, runId: number): Promise<AccuracyItemRow[]> {
  return db.select().from(accuracyItems).where(eq(accuracyItems.runId, runId)).orderBy(asc(accuracyItems.seq))
}
