/**
 * `bench export`: one run as JSON (run, variant, environment, metrics, an accuracy run's items, requests)
 * or CSV (one row per request, columns named as METRICS.md; an accuracy run: one row per item,
 * ITEM_CSV_COLUMNS). Requests are read and written page by page, so a run of any size
 * exports in bounded memory. tpotMs is computed per request (METRICS.md); chunk gaps, stored as float32,
 * are printed with the fewest digits that read back as the same float32. The JSON document is versioned
 * (`format: "bench-run"`, `version`): it is also what `bench import`, `bench push` and `POST /api/runs` take
 * to store the run in another database (db/import/bench-run.ts). Its shape is db/bench-run-document.ts's
 * schema: each part written here is type-checked against it (`satisfies Writes<…>`), so the export cannot
 * write a field the schema does not know or leave out one it requires.
 *
 * Everything written passes through the redactor (harness/redact.ts), with this machine's environment and
 * the run's scenario and engine options as context: the database holds redacted rows already, but a run
 * imported from elsewhere, or stored before a secret was known here, must not carry a key out of it.
 * @module
 */
import { eq } from 'drizzle-orm'
import { createRedactor, type Redactor } from '../harness/redact.ts'
import { listAccuracyItems, logliksToJson } from './accuracy-items.ts'
import {
  BENCH_RUN_FORMAT,
  BENCH_RUN_VERSION,
  type BenchRunDocumentIn,
  type NotRead,
  type Writes,
} from './bench-run-document.ts'
import type { Db } from './client.ts'
import {
  getRunDetail,
  listRunRequests,
  type RequestCounts,
  type RequestDetail,
} from './queries/run-detail.ts'
import { runs, sweeps } from './schema.ts'
import { readServerMetrics } from './server-metrics.ts'

export type ExportFormat = 'json' | 'csv'

export interface ExportOptions {
  format: ExportFormat
  /** Receives the output in order; awaited, so a slow file applies back-pressure. */
  write: (chunk: string) => void | Promise<void>
  /** Requests read per query. @default 5000 */
  pageSize?: number
  /** Where secret values are looked up. @default process.env */
  env?: NodeJS.ProcessEnv
}

export class RunNotFoundError extends Error {
  override name = 'RunNotFoundError'
  constructor(readonly runId: number) {
    super(`run ${runId} does not exist`)
  }
}

/** CSV columns, one per request field (tpotMs computed; chunkGapsMs space-separated; serverTimings JSON). */
export const CSV_COLUMNS = [
  'runId',
  'seq',
  'state',
  'promptIndex',
  'errorKind',
  'httpStatus',
  'message',
  'scheduledAtMs',
  'startedAtMs',
  'ttftMs',
  'tpotMs',
  'e2eMs',
  'chunks',
  'promptTokens',
  'outputTokens',
  'tokensSource',
  'serverOutputTokens',
  'tokenizerOutputTokens',
  'finishReason',
  'serverTimings',
  'connectionRetries',
  'chunkGapsMs',
] as const satisfies readonly (keyof RequestDetail)[]

/** CSV columns of an accuracy run, one row per item (logliks space-separated, -Infinity as text). */
export const ITEM_CSV_COLUMNS = [
  'runId',
  'seq',
  'itemId',
  'subject',
  'itemIndex',
  'answer',
  'predicted',
  'correct',
  'predictedNorm',
  'logliks',
  'generated',
  'startedAtMs',
  'durationMs',
  'errorKind',
  'message',
] as const

/**
 * Writes the run; returns how many requests and accuracy items were written. Throws RunNotFoundError for
 * an unknown id.
 */
export async function exportRun(
  db: Db,
  runId: number,
  options: ExportOptions,
): Promise<{ requests: number; items: number }> {
  const [detail, [row], itemRows, serverMetrics] = await Promise.all([
    getRunDetail(db, runId),
    db.select().from(runs).where(eq(runs.id, runId)),
    listAccuracyItems(db, runId),
    readServerMetrics(db, runId),
  ])
  const items = itemRows.map((r) => ({ ...r, logliks: logliksToJson(r.logliks) }))
  if (!detail || !row) throw new RunNotFoundError(runId)
  // A sweep step carries its sweep whole (the importer ties the steps together again by it).
  const [sweepRow] =
    row.sweepId === null ? [] : await db.select().from(sweeps).where(eq(sweeps.id, row.sweepId))
  // Which process on which machine wrote it is for this database's liveness check only (db/liveness.ts).
  const { writerPid: _pid, writerHost: _host, ...columns } = row
  // The column is untyped jsonb; what the runner stores there is the scenario's load object.
  const run = { ...columns, load: columns.load as Record<string, unknown> }
  const redact = createRedactor(options.env ?? process.env, [run.scenario, run.engineOptions])
  const pageSize = options.pageSize ?? 5000
  let written = 0
  const eachPage = async (fn: (rows: RequestDetail[]) => Promise<void>) => {
    for (let offset = 0; ; offset += pageSize) {
      const rows = await listRunRequests(db, runId, { limit: pageSize, offset })
      if (rows.length > 0) await fn(rows)
      written += rows.length
      if (rows.length < pageSize) return
    }
  }
  if (options.format === 'json') {
    type Doc = BenchRunDocumentIn
    type Variant = NonNullable<Doc['variant']>
    const head = {
      format: BENCH_RUN_FORMAT,
      version: BENCH_RUN_VERSION,
      run: run satisfies Writes<typeof run, Doc['run'], NotRead['run']>,
      variant: detail.variant satisfies Writes<
        typeof detail.variant & {},
        Variant,
        NotRead['variant']
      > | null,
      variantLineage: detail.variantLineage satisfies Writes<
        (typeof detail.variantLineage)[number],
        Variant,
        NotRead['variant']
      >[],
      environment: detail.environment satisfies Writes<
        typeof detail.environment & {},
        NonNullable<Doc['environment']>,
        NotRead['environment']
      > | null,
      metrics: detail.metrics satisfies Writes<
        (typeof detail.metrics)[number],
        Doc['metrics'][number],
        NotRead['metric']
      >[],
      requestCounts: detail.requests satisfies Writes<RequestCounts, NonNullable<Doc['requestCounts']>>,
      ...(sweepRow !== undefined ? { sweep: sweepDocument(sweepRow) } : {}),
      // An accuracy run's items (none for a load run); -Infinity and NaN scores as text (JSON has neither).
      ...(items.length > 0
        ? {
            items: items satisfies Writes<
              (typeof items)[number],
              NonNullable<Doc['items']>[number],
              NotRead['item']
            >[],
          }
        : {}),
      ...(serverMetrics !== undefined
        ? {
            serverMetrics: serverMetrics satisfies Writes<
              typeof serverMetrics,
              NonNullable<Doc['serverMetrics']>
            >,
          }
        : {}),
    } as const
    head satisfies Writes<typeof head, Omit<Doc, 'requests'>>
    const text = JSON.stringify(redact.value(head), null, 2)
    await options.write(`${text.slice(0, -2)},\n  "requests": [`)
    let first = true
    await eachPage(async (rows) => {
      let chunk = ''
      for (const r of rows) {
        chunk += `${first ? '' : ','}\n    ${requestJson(r, redact)}`
        first = false
      }
      await options.write(chunk)
    })
    await options.write(written > 0 ? '\n  ]\n}\n' : ']\n}\n')
    return { requests: written, items: items.length }
  }
  if (itemRows.length > 0) {
    // An accuracy run has items, not requests: its CSV is one row per item.
    await options.write(`${ITEM_CSV_COLUMNS.join(',')}\n`)
    await options.write(
      items.map((r) => `${ITEM_CSV_COLUMNS.map((c) => itemCell(r[c], c, redact)).join(',')}\n`).join(''),
    )
    return { requests: 0, items: items.length }
  }
  await options.write(`${CSV_COLUMNS.join(',')}\n`)
  await eachPage(async (rows) => {
    await options.write(
      rows.map((r) => `${CSV_COLUMNS.map((c) => csvCell(c, r, redact)).join(',')}\n`).join(''),
    )
  })
  return { requests: written, items: 0 }
}

/** The sweeps row as the document carries it; its SLO is the jsonb the CLI wrote (harness/sweep/slo.ts). */
function sweepDocument(row: typeof sweeps.$inferSelect) {
  const sweep = { ...row, slo: row.slo as NonNullable<BenchRunDocumentIn['sweep']>['slo'] }
  return sweep satisfies Writes<typeof sweep, NonNullable<BenchRunDocumentIn['sweep']>>
}

function itemCell(v: unknown, column: (typeof ITEM_CSV_COLUMNS)[number], redact: Redactor): string {
  if (v === null || v === undefined) return ''
  if (column === 'logliks') return (v as (number | string)[]).join(' ')
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return quote(redact.text(String(v)))
}

function requestJson(r: RequestDetail, redact: Redactor): string {
  // Gaps in their shortest float32 form, spliced in as raw JSON; the rest through JSON.stringify (which
  // also turns the NaN send times of imported requests into null).
  r satisfies Writes<RequestDetail, BenchRunDocumentIn['requests'][number], NotRead['request']>
  const { chunkGapsMs, ...rest } = r
  const gaps = chunkGapsMs === null ? 'null' : `[${chunkGapsMs.map(float32Text).join(',')}]`
  return `${JSON.stringify(redactRow(rest, redact)).slice(0, -1)},"chunkGapsMs":${gaps}}`
}

/** The row with its strings and objects (serverTimings) redacted: a shallow pass, ~3× cheaper than a deep walk. */
function redactRow<T extends object>(row: T, redact: Redactor): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row))
    out[k] =
      typeof v === 'string' ? redact.text(v) : v !== null && typeof v === 'object' ? redact.value(v) : v
  return out as T
}

function csvCell(column: (typeof CSV_COLUMNS)[number], r: RequestDetail, redact: Redactor): string {
  const v = r[column]
  if (v === null || v === undefined) return ''
  if (column === 'chunkGapsMs') return (v as number[]).map(float32Text).join(' ')
  if (column === 'serverTimings') return quote(JSON.stringify(redact.value(v)))
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : ''
  return quote(redact.text(String(v)))
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** Shortest decimal that parses back to the same float32 (≤ 9 significant digits). */
export function float32Text(value: number): string {
  if (!Number.isFinite(value)) return 'null'
  const target = Math.fround(value)
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(target.toPrecision(digits)))
    if (Math.fround(Number(text)) === target) return text
  }
  return String(Number(target.toPrecision(9)))
}
