/**
 * Bulk insert of request rows as one statement with one array parameter per column (INSERT … SELECT FROM
 * unnest(…)), instead of one parameter per value: the statement text and parameter count stay the same
 * whatever the batch size, and chunk gaps travel as one float32 buffer sliced per row. Measured on
 * PostgreSQL 15 (this machine): 65–74 k rows/s without gaps, 108 k rows/s with 63 gaps per row; drizzle's
 * multi-row VALUES managed 6 k rows/s with the gaps as real[]. Rows already stored (same run_id, seq) are
 * skipped.
 * @module
 */
import { type SQL, sql } from 'drizzle-orm'
import type { Db } from './client.ts'
import { encodeFloat32 } from './float32.ts'
import type { NewRequestRow } from './schema.ts'

type Column = { name: string; type: string; pick: (r: NewRequestRow) => unknown }

/** Every column of `requests` but chunk_gaps_ms, with its SQL type (test/db checks the list is complete). */
export const REQUEST_COLUMNS: readonly Column[] = [
  { name: 'run_id', type: 'int', pick: (r) => r.runId },
  { name: 'seq', type: 'int', pick: (r) => r.seq },
  { name: 'state', type: 'text', pick: (r) => r.state },
  { name: 'prompt_index', type: 'int', pick: (r) => r.promptIndex },
  { name: 'error_kind', type: 'text', pick: (r) => r.errorKind },
  { name: 'http_status', type: 'int', pick: (r) => r.httpStatus },
  { name: 'message', type: 'text', pick: (r) => r.message },
  { name: 'scheduled_at_ms', type: 'float8', pick: (r) => r.scheduledAtMs },
  { name: 'started_at_ms', type: 'float8', pick: (r) => r.startedAtMs },
  { name: 'ttft_ms', type: 'float8', pick: (r) => r.ttftMs },
  { name: 'e2e_ms', type: 'float8', pick: (r) => r.e2eMs },
  { name: 'chunks', type: 'int', pick: (r) => r.chunks },
  { name: 'prompt_tokens', type: 'int', pick: (r) => r.promptTokens },
  { name: 'output_tokens', type: 'int', pick: (r) => r.outputTokens },
  { name: 'tokens_source', type: 'text', pick: (r) => r.tokensSource },
  { name: 'server_output_tokens', type: 'int', pick: (r) => r.serverOutputTokens },
  { name: 'tokenizer_output_tokens', type: 'int', pick: (r) => r.tokenizerOutputTokens },
  { name: 'finish_reason', type: 'text', pick: (r) => r.finishReason },
  { name: 'connection_retries', type: 'int', pick: (r) => r.connectionRetries ?? 0 },
  // Sent as text, cast per row: array parameters of jsonb are not portable across drivers.
  {
    name: 'server_timings',
    type: 'jsonb',
    pick: (r) => (r.serverTimings == null ? null : JSON.stringify(r.serverTimings)),
  },
]

export async function insertRequests(db: Db, rows: readonly NewRequestRow[]): Promise<void> {
  if (rows.length === 0) return
  const n = rows.length
  const arrays = REQUEST_COLUMNS.map((c) => {
    const values = new Array<unknown>(n)
    for (let i = 0; i < n; i++) values[i] = c.pick(rows[i] as NewRequestRow) ?? null
    return values
  })
  const gapOffsets = new Array<number>(n)
  const gapCounts = new Array<number | null>(n)
  let total = 0
  for (let i = 0; i < n; i++) {
    const gaps = rows[i]?.chunkGapsMs
    gapOffsets[i] = total
    gapCounts[i] = gaps == null ? null : gaps.length
    total += gaps?.length ?? 0
  }
  const flat = new Float32Array(total)
  for (let i = 0; i < n; i++) {
    const gaps = rows[i]?.chunkGapsMs
    if (gaps) flat.set(gaps, gapOffsets[i])
  }
  // A column with one value across the batch (the run id, 'ok', an error field that is always null …)
  // travels as a single parameter instead of an array: less to serialize and parse on both sides.
  const selected: SQL[] = []
  const unnested: SQL[] = []
  const unnestedNames: string[] = []
  REQUEST_COLUMNS.forEach((c, i) => {
    const values = arrays[i] as unknown[]
    const wireType = sql.raw(c.type === 'jsonb' ? 'text' : c.type)
    const cast = c.type === 'jsonb' ? sql.raw('::jsonb') : sql.empty()
    if (values.every((v) => v === values[0])) {
      selected.push(sql`${sql.param(values[0])}::${wireType}${cast}`)
    } else {
      selected.push(sql`u.${sql.raw(c.name)}${cast}`)
      unnested.push(sql`${sql.param(values)}::${wireType}[]`)
      unnestedNames.push(c.name)
    }
  })
  const names = sql.raw(REQUEST_COLUMNS.map((c) => c.name).join(', '))
  await db.execute(sql`
    insert into requests (${names}, chunk_gaps_ms)
    select ${sql.join(selected, sql`, `)},
      case when u.gap_count is null then null
        else substring(${sql.param(encodeFloat32(flat))}::bytea from u.gap_offset * 4 + 1 for u.gap_count * 4) end
    from unnest(${sql.join([...unnested, sql`${sql.param(gapOffsets)}::int[]`, sql`${sql.param(gapCounts)}::int[]`], sql`, `)})
      as u(${sql.raw([...unnestedNames, 'gap_offset', 'gap_count'].join(', '))})
    on conflict (run_id, seq) do nothing`)
}
