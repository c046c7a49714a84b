/**
 * What an HTTP load's samples (run.ts) become: request outcomes for the `requests` table, metric rows for
 * `run_metrics` under the catalogue's names (so the run page, the leaderboard and exports read them as
 * any run's), and the error-rate verdict `bench run --max-error-rate` gives. Pure.
 *
 * Figures (harness/METRICS.md definitions): `e2eMs` = complete response − send, over 2xx responses
 * (exact percentiles of the samples, linear interpolation); `windowMs` = first send → last response or
 * error; `requestsPerS` = 2xx responses / window; `outputTokensPerS` = Σ usage.completion_tokens / window,
 * only when every 2xx response reported usage; `errorRate` = errors / attempted (non-2xx, timeouts and
 * connection errors are errors); `httpStatus/<code>` = responses with that status (2xx included);
 * `unfinishedRequests` = requests autocannon dropped unanswered at its stop (in no other figure).
 * No TTFT, TPOT or chunk figures: a non-streamed response arrives whole.
 * @module
 */
import {
  DISTRIBUTION_STATS,
  errorKindMetricName,
  METRIC_CATALOGUE,
  STAT_FIELDS,
  statInfo,
} from '../metrics/catalogue.ts'
import { checkErrorRate, type ErrorRateCheck } from '../metrics/error-rate.ts'
import { distribution } from '../metrics/percentile.ts'
import type { Distribution, MetricRow } from '../metrics/types.ts'
import type { ErrorOutcome, OkOutcome, RequestOutcome } from '../results.ts'
import { type HttpLoadResult, type HttpResponseSample, type HttpSample, isResponse } from './run.ts'

export interface HttpLoadSummary {
  attempted: number
  ok: number
  errors: number
  /** Responses by HTTP status, every status. */
  statusCounts: Record<string, number>
  /** Latency of 2xx responses, ms. */
  e2eMs?: Distribution
  windowMs: number
  requestsPerS: number
  outputTokensPerS?: number
  unfinished: number
  errorRate: ErrorRateCheck
}

/**
 * A sample as the `requests` row it is stored as. A 2xx response is an `ok` outcome without TTFT, chunks
 * or chunk gaps (stored as null: a non-streamed answer has none); a non-2xx one an `http` error with its
 * status and the start of its body; a timeout `timeout`; a connection error `http` without status.
 */
export function toOutcome(s: HttpSample): RequestOutcome {
  const base = { seq: s.seq, promptIndex: s.promptIndex, scheduledAt: s.startedAt, startedAt: s.startedAt }
  if (isResponse(s) && s.state === 'ok') {
    const outcome = {
      ...base,
      state: 'ok',
      e2eMs: s.latencyMs,
      ...(s.promptTokens !== undefined ? { promptTokens: s.promptTokens } : {}),
      ...(s.outputTokens !== undefined ? { outputTokens: s.outputTokens, tokensSource: 'server' } : {}),
    }
    // OkOutcome's TTFT, chunks and gaps are a streamed response's: absent here and null in the row
    // (db/request-rows.ts maps every absent field to null; the bench-run document has them optional).
    return outcome as unknown as OkOutcome
  }
  const error: ErrorOutcome['error'] = isResponse(s)
    ? {
        kind: 'http',
        status: s.status,
        message: `HTTP ${s.status}${s.bodyExcerpt ? `: ${s.bodyExcerpt}` : ''}`,
      }
    : { kind: s.state === 'timeout' ? 'timeout' : 'http', message: s.message }
  return {
    ...base,
    state: 'error',
    error,
    ...(isResponse(s) ? { e2eMs: s.latencyMs } : {}),
  }
}

export function summarizeHttpLoad(result: HttpLoadResult, maxErrorRate: number): HttpLoadSummary {
  const { samples } = result
  const okSamples = samples.filter((s): s is HttpResponseSample => s.state === 'ok')
  const statusCounts: Record<string, number> = {}
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (const s of samples) {
    first = Math.min(first, s.startedAt)
    last = Math.max(last, s.startedAt + (isResponse(s) ? s.latencyMs : s.afterMs))
    if (isResponse(s)) statusCounts[String(s.status)] = (statusCounts[String(s.status)] ?? 0) + 1
  }
  const windowMs = samples.length > 0 ? last - first : 0
  const perS = (x: number) => (windowMs > 0 ? x / (windowMs / 1000) : 0)
  const e2eMs = distribution(okSamples.map((s) => s.latencyMs))
  const withUsage = okSamples.filter((s) => s.outputTokens !== undefined)
  const outputTokens = withUsage.reduce((sum, s) => sum + (s.outputTokens ?? 0), 0)
  const errorRate = checkErrorRate(samples.map(toOutcome), maxErrorRate)
  return {
    attempted: samples.length,
    ok: okSamples.length,
    errors: samples.length - okSamples.length,
    statusCounts,
    ...(e2eMs !== undefined ? { e2eMs } : {}),
    windowMs,
    requestsPerS: perS(okSamples.length),
    // A partial sum would understate the rate: only when every 2xx response reported usage.
    ...(okSamples.length > 0 && withUsage.length === okSamples.length
      ? { outputTokensPerS: perS(outputTokens) }
      : {}),
    unfinished: result.unfinished,
    errorRate,
  }
}

/** The run's metric rows: catalogue names where one fits, `httpStatus/<code>` and `unfinishedRequests`. */
export function httpLoadMetricRows(s: HttpLoadSummary): MetricRow[] {
  const rows: MetricRow[] = []
  const scalar = (name: keyof typeof METRIC_CATALOGUE, value: number, n: number) => {
    const { unit, direction } = METRIC_CATALOGUE[name]
    rows.push({ name, value, unit, direction, n })
  }
  scalar('attempted', s.attempted, s.attempted)
  scalar('ok', s.ok, s.attempted)
  scalar('errors', s.errors, s.attempted)
  scalar('errorRate', s.errorRate.errorRate, s.attempted)
  scalar('windowMs', s.windowMs, s.attempted)
  scalar('requestsPerS', s.requestsPerS, s.ok)
  if (s.outputTokensPerS !== undefined) scalar('outputTokensPerS', s.outputTokensPerS, s.ok)
  const byKind = new Map<string, number>()
  for (const e of s.errorRate.errorCounts) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + e.count)
  for (const [kind, count] of byKind)
    scalar(errorKindMetricName(kind as Parameters<typeof errorKindMetricName>[0]), count, s.attempted)
  if (s.e2eMs)
    for (const stat of DISTRIBUTION_STATS) {
      const { unit, direction } = statInfo('e2eMs', stat)
      rows.push({ name: `e2eMs${stat}`, value: s.e2eMs[STAT_FIELDS[stat]], unit, direction, n: s.e2eMs.n })
    }
  for (const [status, count] of Object.entries(s.statusCounts).sort(([a], [b]) => Number(a) - Number(b)))
    rows.push({
      name: `${HTTP_STATUS_METRIC}${status}`,
      value: count,
      unit: 'count',
      direction: 'none',
      n: s.attempted,
    })
  rows.push({
    name: 'unfinishedRequests',
    value: s.unfinished,
    unit: 'count',
    direction: 'none',
    n: s.attempted + s.unfinished,
  })
  return rows
}

/** Prefix of the per-status count rows: `httpStatus/200`, `httpStatus/429`. */
export const HTTP_STATUS_METRIC = 'httpStatus/'
