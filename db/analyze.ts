/**
 * Planner statistics. PGlite runs no autovacuum, so a table it has never analyzed reads as empty
 * (pg_class.reltuples = -1) however many rows it holds, and the planner picks plans for a handful of rows:
 * on a run of 9,194 requests run-series' per-run aggregate was re-run once per row (loops = 1,383, 2 s;
 * 230 ms once analyzed; issue 14). PostgreSQL's autovacuum gets there too, but only after its threshold
 * and nap time, so a page opened right after a large run met the same plan.
 *
 * - `analyzeAfterBulkWrite`: after a write of many rows (a run's finish in the sink, an import, an
 *   ingest). ANALYZE samples 30 k rows whatever the table size, yet reads them from all over it (0.4 s
 *   for `requests` on PGlite at 140 k rows, measured; more on larger tables), so when the caller says
 *   how many rows it wrote, `requests` is analyzed only past autovacuum's own rule (10 % of the rows the
 *   statistics know, or none known).
 * - `analyzeIfMissing`: at start-up, ANALYZE the tables whose statistics were never gathered.
 * Neither throws: statistics are an optimisation, and a failure here must not fail the write before it.
 * @module
 */
import { sql } from 'drizzle-orm'
import { type Db, selectRows } from './client.ts'

/** Tables whose row counts grow with runs, in the order they are analyzed. */
const ANALYZED_TABLES = ['requests', 'run_metrics', 'runs'] as const

/** Fewer request rows than this written: the statistics already there are good enough. */
const BULK_WRITE_ROWS = 1_000
/** Rows written, as a share of those the statistics know, past which `requests` is analyzed again. */
const ANALYZE_SCALE_FACTOR = 0.1

/**
 * ANALYZE after a bulk write; returns whether it ran. `requestRows`: request rows written, when known —
 * then only `requests`, and only when they are many against what its statistics know (a run's finish in
 * the sink, an import, an ingest); unknown, every table of ANALYZED_TABLES.
 */
export async function analyzeAfterBulkWrite(db: Db, requestRows?: number): Promise<boolean> {
  if (requestRows === undefined) return analyze(db, ANALYZED_TABLES)
  if (requestRows < BULK_WRITE_ROWS) return false
  try {
    const [row] = await selectRows<{ n: number }>(
      db,
      sql`select c.reltuples::float8 as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = current_schema() and c.relname = 'requests' and c.relkind = 'r'`,
    )
    const known = Number(row?.n ?? -1)
    if (known >= 0 && requestRows < ANALYZE_SCALE_FACTOR * known) return false
  } catch {
    return false
  }
  return analyze(db, ['requests'])
}

/**
 * ANALYZE each table of ANALYZED_TABLES that has no statistics (never analyzed:
 * reltuples < 0, PostgreSQL 14+), returning the tables analyzed. Cheap when there is nothing to do: one
 * catalog read.
 */
export async function analyzeIfMissing(db: Db): Promise<string[]> {
  let missing: string[]
  try {
    const rows = await selectRows<{ name: string }>(
      db,
      sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = current_schema() and c.relkind = 'r' and c.reltuples < 0
            and c.relname in (${sql.join(
              ANALYZED_TABLES.map((t) => sql`${t}`),
              sql`, `,
            )})`,
    )
    missing = ANALYZED_TABLES.filter((t) => rows.some((r) => r.name === t))
  } catch {
    return []
  }
  if (missing.length === 0) return []
  return (await analyze(db, missing)) ? missing : []
}

async function analyze(db: Db, tables: readonly string[]): Promise<boolean> {
  try {
    // Table names come from ANALYZED_TABLES only; identifiers cannot be parameters.
    await db.execute(sql.raw(`analyze ${tables.join(', ')}`))
    return true
  } catch {
    return false
  }
}
