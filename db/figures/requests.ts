/**
 * Figures of stored requests, pure: METRICS.md tpotMs of one request row, the tally of a run's requests
 * by how they ended, and the per-request samples a two-run significance test needs.
 * @module
 */

/** The columns of a stored request these figures read (a `requests` row has them all). */
export interface StoredTimes {
  state: 'ok' | 'error'
  ttftMs: number | null
  e2eMs: number | null
  outputTokens: number | null
}

/**
 * METRICS.md tpotMs of a stored request: (e2eMs − ttftMs) / (outputTokens − 1), ms, for ok requests with
 * ≥ 2 output tokens and both times stored; null otherwise (errors, one token, a missing column) and when
 * the result is not finite.
 */
export function requestTpotMs(r: StoredTimes): number | null {
  if (r.state !== 'ok' || r.ttftMs === null || r.e2eMs === null || r.outputTokens === null) return null
  if (!(r.outputTokens >= 2)) return null
  const tpot = (r.e2eMs - r.ttftMs) / (r.outputTokens - 1)
  return Number.isFinite(tpot) ? tpot : null
}

export interface RequestCounts {
  total: number
  ok: number
  /** Error outcomes other than aborted ones (what the run's errorRate counts). */
  errors: number
  /** Error outcomes per kind (timeout, http, stream, engine, crash), aborted ones not. */
  errorsByKind: Record<string, number>
  /** Requests an interrupt aborted: stored, in `total`, but not errors (METRICS.md errorRate). */
  aborted: number
}

/**
 * Counts of a run's requests from (state, errorKind) groups of `n` rows each (a GROUP BY's rows). An error
 * row without a kind (imported from a tool that does not say) counts as `unknown`. Aborted requests are
 * counted apart, as the run's errorRate leaves them out.
 */
export function tallyRequests(
  groups: readonly { state: 'ok' | 'error'; errorKind: string | null; n: number }[],
): RequestCounts {
  const counts: RequestCounts = { total: 0, ok: 0, errors: 0, errorsByKind: {}, aborted: 0 }
  for (const g of groups) {
    counts.total += g.n
    if (g.state === 'ok') counts.ok += g.n
    else if (g.errorKind === 'aborted') counts.aborted += g.n
    else {
      counts.errors += g.n
      const kind = g.errorKind ?? 'unknown'
      counts.errorsByKind[kind] = (counts.errorsByKind[kind] ?? 0) + g.n
    }
  }
  return counts
}

/** Per-request samples of a run's ok requests, in seq order. */
export interface RequestSamples {
  /** Ok requests. */
  ok: number
  /** Error outcomes (not in the samples). */
  errors: number
  ttftMs: number[]
  /** Only requests with ≥ 2 output tokens have one, so it may be shorter than ttftMs. */
  tpotMs: number[]
  e2eMs: number[]
  /** Every gap of every ok request, pooled (only with `chunkGaps: true`). */
  chunkGapsMs?: number[]
}

/**
 * The samples of `okRows` (ok requests in seq order): a time where stored, a tpotMs where defined
 * (requestTpotMs), and with `chunkGaps` every gap of every request pooled in order.
 */
export function requestSamplesOf(
  okRows: readonly (Omit<StoredTimes, 'state'> & { chunkGapsMs?: readonly number[] | null })[],
  errors: number,
  chunkGaps: boolean,
): RequestSamples {
  const samples: RequestSamples = { ok: okRows.length, errors, ttftMs: [], tpotMs: [], e2eMs: [] }
  const gaps: number[] = []
  for (const r of okRows) {
    if (r.ttftMs !== null) samples.ttftMs.push(r.ttftMs)
    if (r.e2eMs !== null) samples.e2eMs.push(r.e2eMs)
    const tpot = requestTpotMs({ state: 'ok', ...r })
    if (tpot !== null) samples.tpotMs.push(tpot)
    if (r.chunkGapsMs) for (const g of r.chunkGapsMs) gaps.push(g)
  }
  if (chunkGaps) samples.chunkGapsMs = gaps
  return samples
}
