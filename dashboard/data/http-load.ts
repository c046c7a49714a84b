/**
 * The series a `bench load` run's page charts (runs.load_kind 'http-load'): the latency CDF of its 2xx
 * responses (requests.e2e_ms, computed in SQL at the run page's CDF grid, as run-series.ts does for TTFT).
 * A non-streamed run has no TTFT, TPOT or token timeline, so this is its only per-request chart.
 * @module
 */
import { sql } from 'drizzle-orm'
import { type Db, selectRows } from '../../db/client.ts'
import { cdfFromGrid, cdfGrid } from '../../db/figures/cdf-grid.ts'
import { CDF_POINTS } from './run-series.ts'

export interface HttpLoadSeries {
  /** (e2eMs, fraction of 2xx responses ≤ it). */
  e2eCdf: { x: number; y: number }[]
}

export async function httpLoadSeries(db: Db, runId: number): Promise<HttpLoadSeries> {
  const grid = cdfGrid(CDF_POINTS)
  const [row] = await selectRows<{ n: number; p: number[] | null }>(
    db,
    sql`select count(e2e_ms)::int as n,
          percentile_disc(${sql.param(grid)}::float8[]) within group (order by e2e_ms) as p
        from requests where run_id = ${runId} and state = 'ok' and e2e_ms is not null`,
  )
  return { e2eCdf: cdfFromGrid(row?.n ?? 0, grid, row?.p ?? []) }
}
