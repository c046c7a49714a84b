/**
 * A bench-run document (db/import/bench-run.ts) stored as it streams in: `POST /api/runs` with a 100 k-
 * request run no longer holds the body, its parse and its rows at once (issue 14: RSS +800 MB, other
 * requests blocked for 5.8 s).
 *
 * - The body is split with db/import/json-stream.ts; every member but `requests` is collected (the head,
 *   a few kB), and each request is checked on its own as it arrives (the same zod schema).
 * - Once the head is complete (`bench export` writes `requests` last) and valid, the run row is staged:
 *   state `running`, its heartbeat kept fresh, so readers see a run still arriving (and never cache it)
 *   and a process killed mid-ingest leaves a run that reads as interrupted. Requests go in batches of
 *   INGEST_BATCH rows, each its own statement, yielding to the event loop between batches, so other pages
 *   are served meanwhile (one long transaction would hold PGlite's only connection for seconds).
 * - At the end: the checks that need the whole document (requestCounts.total, duplicate seqs), then the
 *   metrics, an accuracy run's items (held with the head: `bench export` writes them before `requests`)
 *   and the run's own state, finish time and error in one transaction. Any problem or failure
 *   deletes the staged run (its requests go with it, ON DELETE CASCADE): nothing half-stored stays.
 * - A run staged by a process that died (interrupted, with STAGING_ERROR) is replaced by the next push.
 * @module
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { eq, sql } from 'drizzle-orm'
import type { z } from 'zod'
import { insertAccuracyItems, itemRow, logliksFromJson } from '../accuracy-items.ts'
import { analyzeAfterBulkWrite } from '../analyze.ts'
import { type BenchRunDocument, documentSchema, requestSchema } from '../bench-run-document.ts'
import type { Db } from '../client.ts'
import { insertRequests } from '../insert-requests.ts'
import { HEARTBEAT_INTERVAL_MS } from '../liveness.ts'
import { requestRow } from '../request-rows.ts'
import { type NewRequestRow, runMetrics, runs } from '../schema.ts'
import { insertServerMetrics } from '../server-metrics.ts'
import {
  BenchRunError,
  consistencyProblems,
  existingRun,
  insertRunRow,
  lockRunKey,
  MAX_PROBLEMS,
  type PreparedBenchRun,
  parseBenchRun,
  prepareBenchRun,
  type StoreBenchRunOptions,
  type StoredBenchRun,
  serverMetricsRecord,
} from './bench-run.ts'
import { JsonObjectStream, JsonStreamError } from './json-stream.ts'
import { dropEmptySweep } from './sweep.ts'
import { issueLines } from './zod-issues.ts'

/** Request rows per INSERT while streaming: short statements, so a page's query waits behind one at most. */
export const INGEST_BATCH = 250

/** runs.error of a run whose requests are still arriving; a run left so by a dead process is replaced. */
export const STAGING_ERROR = 'ingest in progress: the run document is still arriving'

/** Members the head must have before requests can be stored (variantLineage, requestCounts optional). */
const HEAD_KEYS = ['format', 'version', 'run', 'variant', 'environment', 'metrics'] as const

export interface StreamBenchRunOptions extends StoreBenchRunOptions {
  /** Rows per INSERT. @default INGEST_BATCH */
  batchSize?: number
}

/** The body was not valid JSON (or not one object); `at` is the byte offset. */
export class BenchRunSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message)
    this.name = 'BenchRunSyntaxError'
  }
}

type RequestIn = z.infer<typeof requestSchema>

/**
 * Stores the document read from `chunks`. Throws BenchRunError (problems by path), BenchRunSyntaxError,
 * or whatever reading `chunks` or the database threw; in every case nothing of the run stays stored.
 */
export async function streamBenchRun(
  db: Db,
  chunks: AsyncIterable<Uint8Array>,
  options: StreamBenchRunOptions,
): Promise<StoredBenchRun> {
  const batchSize = options.batchSize ?? INGEST_BATCH
  const splitter = new JsonObjectStream('requests')
  const head: Record<string, unknown> = {}
  const problems: string[] = []
  const seqs = new Set<number>()
  let pending: RequestIn[] = []
  let count = 0
  let staged:
    | { id: number; prep: PreparedBenchRun; doc: BenchRunDocument; heartbeat: NodeJS.Timeout }
    | undefined

  const headReady = () => HEAD_KEYS.every((k) => k in head)
  const stage = async () => {
    const doc = parseHead(head)
    const prep = prepareBenchRun(doc, options)
    const outcome = await db.transaction(async (tx) => {
      await lockRunKey(tx, prep.key)
      const existing = await existingRun(tx, doc.run, prep.startedAt)
      if (existing?.state === 'interrupted' && existing.error === STAGING_ERROR)
        await tx.delete(runs).where(eq(runs.id, existing.id))
      else if (existing) return { existing: existing.id }
      return {
        id: await insertRunRow(tx, doc, prep, options, {
          state: 'running',
          error: STAGING_ERROR,
          finishedAt: null,
        }),
      }
    })
    if ('existing' in outcome) return outcome.existing
    const id = outcome.id as number
    // A slow sender must not let the staged run read as interrupted (db/liveness.ts).
    const heartbeat = setInterval(() => {
      db.update(runs)
        .set({ heartbeatAt: sql`now()` })
        .where(eq(runs.id, id))
        .catch(() => {})
    }, HEARTBEAT_INTERVAL_MS)
    heartbeat.unref()
    staged = { id, prep, doc, heartbeat }
    return undefined
  }
  const flush = async () => {
    if (!staged || problems.length > 0 || pending.length === 0) return
    const { id, prep } = staged
    const rows: NewRequestRow[] = pending.map((r) => requestRow(id, r, prep.redact))
    pending = []
    await insertRequests(db, rows)
    // Other requests' turn (their queries, their responses) before the next batch.
    await yieldToEventLoop()
  }

  try {
    for await (const chunk of chunks) {
      let events: ReturnType<JsonObjectStream['push']>
      try {
        events = splitter.push(chunk)
      } catch (err) {
        if (err instanceof JsonStreamError) throw new BenchRunSyntaxError(err.message, err.at)
        throw err
      }
      for (const event of events) {
        if (event.kind === 'member') {
          head[event.key] = event.value
          continue
        }
        count++
        const parsed = requestSchema.safeParse(event.value)
        if (!parsed.success) problems.push(...issueLines(parsed.error, `requests[${event.index}]`))
        else {
          if (seqs.has(parsed.data.seq))
            problems.push(
              `requests[${event.index}].seq: ${parsed.data.seq} appears more than once; each request needs its own seq`,
            )
          seqs.add(parsed.data.seq)
          if (problems.length === 0) pending.push(parsed.data)
        }
        if (problems.length >= MAX_PROBLEMS)
          throw new BenchRunError([
            ...problems.slice(0, MAX_PROBLEMS),
            `(reading stopped at request ${event.index}: fix these and send again)`,
          ])
      }
      if (pending.length >= batchSize && headReady()) {
        if (!staged) {
          const existing = await stage()
          if (existing !== undefined) return alreadyHere(existing, head)
        }
        await flush()
      }
    }
    try {
      splitter.end()
    } catch (err) {
      if (err instanceof JsonStreamError) throw new BenchRunSyntaxError(err.message, err.at)
      throw err
    }
    if (!staged) {
      // Small documents (or a head that came after the requests): the whole check at once, as
      // parseBenchRun does it; the rows are those held in `pending`.
      if (problems.length > 0) {
        // The head's problems first, as parseBenchRun lists them (requestCounts is checked once rows are).
        const headCheck = documentSchema.safeParse({ ...head, requests: [] })
        const all = [...(headCheck.success ? [] : issueLines(headCheck.error)), ...problems]
        throw new BenchRunError(
          all.length > MAX_PROBLEMS
            ? [...all.slice(0, MAX_PROBLEMS), `and ${all.length - MAX_PROBLEMS} more`]
            : all,
        )
      }
      parseBenchRun(splitter.sawArray ? { ...head, requests: pending } : head)
      const existing = await stage()
      if (existing !== undefined) return alreadyHere(existing, head)
    }
    const run = staged as NonNullable<typeof staged>
    // What needs the whole document: the same checks as parseBenchRun, with the rows counted, not held.
    const total = (head.requestCounts as { total?: unknown } | undefined)?.total
    if (typeof total === 'number' && total !== count)
      problems.push(
        `requests: ${count} rows, but requestCounts.total says ${total}: the document was cut short; export the run again`,
      )
    problems.push(...consistencyProblems({ ...run.doc, requests: [], requestCounts: undefined }))
    if (problems.length > 0) throw new BenchRunError(problems.slice(0, MAX_PROBLEMS))
    await flush()
    clearInterval(run.heartbeat)
    const { doc, prep } = run
    await db.transaction(async (tx) => {
      if (doc.metrics.length > 0)
        await tx.insert(runMetrics).values(doc.metrics.map((m) => ({ ...m, runId: run.id })))
      await insertAccuracyItems(
        tx,
        doc.items.map((item) =>
          itemRow(run.id, { ...item, logliks: logliksFromJson(item.logliks) }, prep.redact),
        ),
      )
      if (doc.serverMetrics !== null)
        await insertServerMetrics(tx, run.id, serverMetricsRecord(doc.serverMetrics), prep.redact)
      await tx
        .update(runs)
        .set({
          state: doc.run.state,
          error: doc.run.error === null ? null : prep.redact.text(doc.run.error),
          finishedAt: prep.finishedAt,
          heartbeatAt: prep.finishedAt ?? prep.startedAt,
        })
        .where(eq(runs.id, run.id))
    })
    await analyzeAfterBulkWrite(db, count)
    return {
      state: 'imported',
      id: run.id,
      ...prep.summary,
      metrics: doc.metrics.length,
      requests: count,
      notes: prep.notes,
    }
  } catch (err) {
    if (staged) {
      clearInterval(staged.heartbeat)
      const { id } = staged
      const deleted = await db
        .delete(runs)
        .where(eq(runs.id, id))
        .returning({ sweepId: runs.sweepId })
        .catch(() => [])
      // A sweep created for this step alone goes with it.
      const sweepId = deleted[0]?.sweepId
      if (sweepId != null) await dropEmptySweep(db, sweepId).catch(() => {})
    }
    throw err
  }
}

/** The head (every member but the requests) validated as a document without rows. */
function parseHead(head: Record<string, unknown>): BenchRunDocument {
  const parsed = documentSchema.safeParse({ ...head, requests: [] })
  if (!parsed.success) {
    const problems = issueLines(parsed.error)
    throw new BenchRunError(
      problems.length > MAX_PROBLEMS
        ? [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more`]
        : problems,
    )
  }
  return parsed.data
}

function alreadyHere(id: number, head: Record<string, unknown>): StoredBenchRun {
  const run = head.run as { scenarioName: string; targetName: string; fingerprint: string }
  return {
    state: 'already-imported',
    id,
    scenarioName: run.scenarioName,
    targetName: run.targetName,
    fingerprint: run.fingerprint,
    metrics: 0,
    requests: 0,
    notes: [],
  }
}
