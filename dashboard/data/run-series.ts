/**
 * The series a run page charts: TTFT and TPOT CDFs at up to CDF_POINTS ranks (every rank when the run has
 * no more requests than that, so small runs get the exact empirical CDF) and output tokens per second,
 * from db/queries/run-series.ts (computed in SQL) shaped for the charts.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { cdfFromGrid, cdfGrid } from '../../db/figures/cdf-grid.ts'
import { runPercentiles, runTokenBuckets, type TokenBucketRow } from '../../db/queries/run-series.ts'
import { mergeBuckets, type TokenBucket } from '../charts/tokens-over-time.ts'

/** Points per CDF line. */
export const CDF_POINTS = 200

export interface RunSeries {
  ttftCdf: { x: number; y: number }[]
  tpotCdf: { x: number; y: number }[]
  outputTokensPerSecond: TokenBucket[]
}

export async function runSeries(db: Db, runId: number): Promise<RunSeries> {
  const grid = cdfGrid(CDF_POINTS)
  const percentiles = await runPercentiles(db, runId, grid)
  const buckets = await runTokenBuckets(db, runId)
  return {
    ttftCdf: cdfFromGrid(percentiles.ttftN, grid, percentiles.ttftMs),
    tpotCdf: cdfFromGrid(percentiles.tpotN, grid, percentiles.tpotMs),
    // Seconds merged past MAX_TOKEN_BARS: a run of hours would otherwise ship thousands of bars.
    outputTokensPerSecond: mergeBuckets(toBuckets(buckets)),
  }
}

/**
 * Every second from 0 (the first send) to the last token, empty ones included; the last one partial
 * unless it is full, with the seconds it covers (its tokens are divided by them: tokens-over-time.ts).
 */
export function toBuckets(rows: readonly TokenBucketRow[]): TokenBucket[] {
  const last = rows.at(-1)
  if (!last) return []
  const endMs = last.endMs
  // A token exactly on the boundary that ends the run belongs to the second it closes.
  const count = Math.max(1, Math.ceil(endMs / 1000))
  const buckets: TokenBucket[] = Array.from({ length: count }, (_, i) => {
    const partial = i === count - 1 && endMs < count * 1000
    return {
      startS: i,
      tokens: 0,
      partial,
      ...(partial ? { coveredS: Math.max(0, endMs - i * 1000) / 1000 } : {}),
    }
  })
  for (const r of rows) buckets[Math.min(count - 1, r.b)]!.tokens += r.tokens
  return buckets
}
