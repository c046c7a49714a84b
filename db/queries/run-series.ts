/**
 * The series a run page charts, computed in SQL so a run of 100 k requests costs a few sorts and one
 * pass rather than shipping every row: TTFT and TPOT at a grid of percentile_disc fractions (the CDF is
 * db/figures/cdf-grid.ts), and output tokens per 1-s bucket. Tokens are placed as: the first at t1
 * (tSend + ttftMs), the others spread evenly over t1 → tLast, each bucket getting its share of that
 * interval.
 * @module
 */
import { type SQL, sql } from 'drizzle-orm'
import { type Db, selectRows } from '../client.ts'

/** Ok requests' TTFT and TPOT (METRICS.md, per request) at each fraction of `grid`, with their counts. */
export interface RunPercentiles {
  ttftN: number
  /** percentile_disc of ttftMs at each grid fraction; empty without samples. */
  ttftMs: (number | null)[]
  tpotN: number
  tpotMs: (number | null)[]
}

export async function runPercentiles(
  db: Db,
  runId: number,
  grid: readonly number[],
): Promise<RunPercentiles> {
  const [row] = await selectRows<{ nt: number; pt: number[] | null; np: number; pp: number[] | null }>(
    db,
    sql`select count(t)::int as nt, percentile_disc(${sql.param(grid)}::float8[]) within group (order by t) as pt,
          count(p)::int as np, percentile_disc(${sql.param(grid)}::float8[]) within group (order by p) as pp
        from (
          select ttft_ms as t,
            case when output_tokens >= 2 and e2e_ms is not null and ttft_ms is not null
              then (e2e_ms - ttft_ms) / (output_tokens - 1) end as p
          from requests where run_id = ${runId} and state = 'ok'
        ) s`,
  )
  return { ttftN: row?.nt ?? 0, ttftMs: row?.pt ?? [], tpotN: row?.np ?? 0, tpotMs: row?.pp ?? [] }
}

/** Output tokens of one 1-s bucket (`b` seconds from the run's first send); every row carries the run's end. */
export interface TokenBucketRow {
  b: number
  tokens: number
  /** The last token's time from the first send, ms. */
  endMs: number
}

/** Every second from 0 to the last token's, empty ones included, in order; none when no ok request has tokens. */
export async function runTokenBuckets(db: Db, runId: number): Promise<TokenBucketRow[]> {
  const rows = await selectRows<{ b: number; tokens: number; end_ms: number }>(db, tokenBucketsQuery(runId))
  return rows.map((r) => ({ b: Number(r.b), tokens: Number(r.tokens), endMs: Number(r.end_ms) }))
}

/**
 * Per request: its first token in the bucket of t1; the other n − 1 spread at a constant rate over
 * t1 → tLast, so the first and last buckets it touches get their partial shares and every bucket in
 * between a full second's worth, added as a running difference (+rate at the first full bucket, −rate
 * after the last). No set-returning function per request: its row estimate would push the plan's cost
 * past PostgreSQL's JIT threshold, and compiling costs more than the query.
 */
export function tokenBucketsQuery(runId: number): SQL {
  return (
    // The origin is computed once, whatever the statistics say: MATERIALIZED plus a scalar subquery (an
    // InitPlan). Joined as a plain CTE, PGlite's planner — no statistics, as it never analyzes — put the
    // aggregate on the inner side of a nested loop and ran it once per request (2 s at 9 k requests,
    // minutes at 100 k; issue 14).
    sql`with origin as materialized (select min(started_at_ms) as t0 from requests where run_id = ${runId}),
      ok as materialized (
        select t1, tl, n, floor(t1 / 1000)::int as b1, floor(tl / 1000)::int as b2,
          case when tl > t1 then (n - 1) / (tl - t1) else 0::float8 end as rate
        from (
          select q.started_at_ms + q.ttft_ms - o.t0 as t1,
            q.started_at_ms + greatest(q.e2e_ms, q.ttft_ms) - o.t0 as tl,
            q.output_tokens::float8 as n
          from requests q cross join (select (select t0 from origin) as t0) o
          where q.run_id = ${runId} and q.state = 'ok' and q.ttft_ms is not null and q.e2e_ms is not null
            and q.output_tokens > 0
        ) r
      ),
      parts as (
        select b1 as b, 1 + case when b1 = b2 then n - 1 else rate * ((b1 + 1) * 1000::float8 - t1) end as amount,
          0::float8 as delta from ok
        union all select b2, rate * (tl - b2 * 1000::float8), 0::float8 from ok where b2 > b1
        union all select b1 + 1, 0::float8, rate * 1000::float8 from ok where b2 > b1 + 1
        union all select b2, 0::float8, -rate * 1000::float8 from ok where b2 > b1 + 1
      ),
      per_bucket as materialized (select b, sum(amount) as amount, sum(delta) as delta from parts group by b)
      select k as b,
        (coalesce(per_bucket.amount, 0) + sum(coalesce(per_bucket.delta, 0)) over (order by k))::float8 as tokens,
        (select max(tl) from ok)::float8 as end_ms
      from generate_series(0, (select max(b2) from ok)) as k left join per_bucket on per_bucket.b = k
      order by k`
  )
}
