/**
 * One run in full: its row, variant (with the variants it derives from), environment, every summary
 * metric, how its requests ended; and its requests page by page with chunk gaps decoded.
 * @module
 */
import { asc, count, eq, getTableColumns, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type RequestCounts, requestTpotMs, tallyRequests } from '../figures/requests.ts'
import {
  type Environment,
  environments,
  type ImportedSource,
  type RequestRow,
  type Run,
  type RunMetricRow,
  requests,
  runMetrics,
  runs,
  type Variant,
  variants,
} from '../schema.ts'

export type { RequestCounts }

/**
 * Load kinds whose runs store no request rows by design (harness/results.ts RunSpec; `llama-bench`: an
 * imported llama-bench file, db/import/llama-bench.ts): micro tasks, scored items, scored tokens, checklist
 * verdicts, pp/tg tests. Their request count (0) says nothing; pages and `bench runs show` leave it out.
 */
const WITHOUT_REQUEST_ROWS: ReadonlySet<string> = new Set([
  'micro',
  'accuracy',
  'quality',
  'checklist',
  'llama-bench',
])

/** Whether runs of this load kind (runs.load_kind) store request rows: load steps and `bench load` do. */
export function storesRequestRows(loadKind: string): boolean {
  return !WITHOUT_REQUEST_ROWS.has(loadKind)
}

export interface RunDetail {
  /** The run row; of an imported run's source, everything but the (possibly large) document. */
  run: Omit<Run, 'imported'> & { imported: Omit<ImportedSource, 'document'> | null }
  variant: Variant | null
  /** The variants `variant` derives from, nearest first (quantized → base …). */
  variantLineage: Variant[]
  environment: Environment | null
  /** Every stored summary figure, by name. */
  metrics: RunMetricRow[]
  requests: RequestCounts
}

const { imported: _document, ...runColumns } = getTableColumns(runs)

export async function getRunDetail(db: Db, runId: number): Promise<RunDetail | undefined> {
  const [row] = await db
    .select({
      ...runColumns,
      imported: sql<Omit<ImportedSource, 'document'> | null>`${runs.imported} - 'document'`,
    })
    .from(runs)
    .where(eq(runs.id, runId))
  if (!row) return undefined
  const [environment, metrics, counts, lineage] = await Promise.all([
    row.environmentId === null
      ? undefined
      : db
          .select()
          .from(environments)
          .where(eq(environments.id, row.environmentId))
          .then((r) => r[0]),
    db.select().from(runMetrics).where(eq(runMetrics.runId, runId)).orderBy(asc(runMetrics.name)),
    requestCounts(db, runId),
    variantLineage(db, row.variantId),
  ])
  return {
    run: row,
    variant: lineage[0] ?? null,
    variantLineage: lineage.slice(1),
    environment: environment ?? null,
    metrics,
    requests: counts,
  }
}

export async function requestCounts(db: Db, runId: number): Promise<RequestCounts> {
  const rows = await db
    .select({ state: requests.state, errorKind: requests.errorKind, n: count() })
    .from(requests)
    .where(eq(requests.runId, runId))
    .groupBy(requests.state, requests.errorKind)
  return tallyRequests(rows)
}

/** The variant and its ancestors, nearest first; a cycle (impossible by construction) stops the walk. */
async function variantLineage(db: Db, variantId: number | null): Promise<Variant[]> {
  const lineage: Variant[] = []
  const seen = new Set<number>()
  for (let id = variantId; id !== null && !seen.has(id); ) {
    seen.add(id)
    const [v] = await db.select().from(variants).where(eq(variants.id, id))
    if (!v) break
    lineage.push(v)
    id = v.parentId
  }
  return lineage
}

export interface RequestDetail extends RequestRow {
  /** (e2eMs − ttftMs) / (outputTokens − 1) for ok requests with ≥ 2 output tokens (METRICS.md), else null. */
  tpotMs: number | null
}

export interface RequestPage {
  /** Requests to return, in seq order. @default 100 */
  limit?: number
  /** Requests to skip. @default 0 */
  offset?: number
  /** Only requests in this state. */
  state?: RequestRow['state']
  /** Decode and return chunk gaps (null otherwise). @default true */
  chunkGaps?: boolean
}

const MAX_REQUEST_PAGE = 100_000

export async function listRunRequests(
  db: Db,
  runId: number,
  page: RequestPage = {},
): Promise<RequestDetail[]> {
  const { chunkGapsMs, ...others } = getTableColumns(requests)
  const rows = await db
    .select({
      ...others,
      chunkGapsMs: page.chunkGaps === false ? sql<number[] | null>`null` : chunkGapsMs,
    })
    .from(requests)
    .where(
      page.state === undefined
        ? eq(requests.runId, runId)
        : sql`${requests.runId} = ${runId} and ${requests.state} = ${page.state}`,
    )
    .orderBy(asc(requests.seq))
    .limit(Math.min(Math.max(0, Math.trunc(page.limit ?? 100)), MAX_REQUEST_PAGE))
    .offset(Math.max(0, Math.trunc(page.offset ?? 0)))
  return rows.map((r) => ({ ...r, tpotMs: requestTpotMs(r) }))
}

/** Whether a run with this id exists (one primary-key probe). */
export async function runExists(db: Db, runId: number): Promise<boolean> {
  const rows = await db.select({ id: runs.id }).from(runs).where(eq(runs.id, runId)).limit(1)
  return rows.length > 0
}

/** Error outcomes of one kind and HTTP status (null: no status, e.g. a timeout before any response). */
export interface ErrorGroup {
  /** timeout · http · stream · engine · crash; `unknown` for an imported error without one. */
  kind: string
  httpStatus: number | null
  n: number
}

/**
 * A run's errors by kind and HTTP status (429 and 500 are different problems), most frequent first;
 * aborted requests are not errors (METRICS.md errorRate) and are left out, as in RequestCounts.
 */
export async function errorGroups(db: Db, runId: number): Promise<ErrorGroup[]> {
  const rows = await db
    .select({ kind: requests.errorKind, httpStatus: requests.httpStatus, n: count() })
    .from(requests)
    .where(
      sql`${requests.runId} = ${runId} and ${requests.state} = 'error' and ${requests.errorKind} is distinct from 'aborted'`,
    )
    .groupBy(requests.errorKind, requests.httpStatus)
  return rows
    .map((r) => ({ kind: r.kind ?? 'unknown', httpStatus: r.httpStatus, n: r.n }))
    .sort(
      (a, b) =>
        b.n - a.n ||
        (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
        (a.httpStatus ?? -1) - (b.httpStatus ?? -1),
    )
}
