/**
 * The one mapping between a request as the harness measured it (RequestOutcome, harness/results.ts) and
 * its `requests` row (db/schema.ts): toRequestRow for the sink, fromRequestRow for readers that want the
 * outcome back (procurement's goodput), and requestRow, which every writer ends in — importers hand it
 * what their source tells (a bench-run document's request, a vLLM per-request record) and it fills the rest.
 *
 * Stored forms: strings (message, finish reason) pass through the Redactor; counts are rounded to
 * integers (a fractional count from an engine would refuse the whole batch); a send time the source does
 * not tell is NaN (vLLM files, old exports); chunk gaps are kept as float32 (db/float32.ts), so a gap reads
 * back as Math.fround of what was written; connectionRetries 0 reads back as absent (absent = 0).
 * test/db/request-rows.test.ts round-trips every outcome kind through both backends.
 * @module
 */

import type { RequestErrorKind } from '../harness/errors.ts'
import type { ErrorOutcome, OkOutcome, RequestOutcome, ServerTimings } from '../harness/results.ts'
import type { Redactor } from './redact.ts'
import type { NewRequestRow, RequestRow } from './schema.ts'

type KeyColumns = 'seq' | 'state' | 'promptIndex'

/**
 * A request as a writer knows it: every column but run_id, left out (or null) where the source does not
 * tell. Send times left out are NaN, connectionRetries 0, every other column null.
 */
export type RequestFields = Pick<NewRequestRow, KeyColumns> & {
  [K in Exclude<keyof NewRequestRow, 'runId' | KeyColumns>]?: NewRequestRow[K] | null
}

/** The stored row of `f` (the only place that lists every column). */
export function requestRow(runId: number, f: RequestFields, redact: Redactor): NewRequestRow {
  return {
    runId,
    seq: int(f.seq) ?? 0,
    state: f.state,
    promptIndex: int(f.promptIndex) ?? 0,
    errorKind: f.errorKind ?? null,
    httpStatus: int(f.httpStatus),
    message: f.message == null ? null : redact.text(f.message),
    scheduledAtMs: f.scheduledAtMs ?? Number.NaN,
    startedAtMs: f.startedAtMs ?? Number.NaN,
    ttftMs: f.ttftMs ?? null,
    e2eMs: f.e2eMs ?? null,
    chunks: int(f.chunks),
    promptTokens: int(f.promptTokens),
    outputTokens: int(f.outputTokens),
    tokensSource: f.tokensSource ?? null,
    serverOutputTokens: int(f.serverOutputTokens),
    tokenizerOutputTokens: int(f.tokenizerOutputTokens),
    finishReason: f.finishReason == null ? null : redact.text(f.finishReason),
    serverTimings: f.serverTimings ?? null,
    connectionRetries: int(f.connectionRetries) ?? 0,
    chunkGapsMs: f.chunkGapsMs ?? null,
  }
}

// One object literal, no spreads: this runs once per request and a spread made it 30× slower.
/** The `requests` row of one outcome; exported for bulk writers (test/bench) that bypass the sink. */
export function toRequestRow(runId: number, o: RequestOutcome, redact: Redactor): NewRequestRow {
  // An error keeps its partial progress (times, chunks), not token counts, finish reason or gaps.
  const ok = o.state === 'ok' ? o : undefined
  const error = o.state === 'error' ? o.error : undefined
  return requestRow(
    runId,
    {
      seq: o.seq,
      state: o.state,
      promptIndex: o.promptIndex,
      errorKind: error?.kind,
      httpStatus: error?.status,
      message: error?.message,
      scheduledAtMs: o.scheduledAt,
      startedAtMs: o.startedAt,
      ttftMs: o.ttftMs,
      e2eMs: o.e2eMs,
      chunks: o.chunks,
      promptTokens: ok?.promptTokens,
      outputTokens: ok?.outputTokens,
      tokensSource: ok?.tokensSource,
      serverOutputTokens: ok?.serverOutputTokens,
      tokenizerOutputTokens: ok?.tokenizerOutputTokens,
      finishReason: ok?.finishReason,
      serverTimings: ok?.serverTimings as Record<string, number> | undefined,
      connectionRetries: o.connectionRetries,
      chunkGapsMs: ok?.chunkGapsMs,
    },
    redact,
  )
}

type ReadColumns =
  | KeyColumns
  | 'errorKind'
  | 'httpStatus'
  | 'scheduledAtMs'
  | 'startedAtMs'
  | 'ttftMs'
  | 'e2eMs'
  | 'chunks'
  | 'promptTokens'
  | 'outputTokens'
  | 'tokensSource'

/**
 * A stored row as read: these columns always; the others when the reader selected them. One left out
 * reads as absent: an empty message, no chunk gaps ([]), no server timings or counts, no retries.
 */
export type StoredRequest = Pick<RequestRow, ReadColumns> & Partial<Omit<RequestRow, ReadColumns | 'runId'>>

/**
 * A stored row as the outcome the harness measured (the inverse of toRequestRow), or why the row cannot be
 * one: an imported request without send times, an ok request without its times or token count. An error
 * row without a kind (imported) reads as `engine`; an ok row without a token source as `chunks`.
 */
export function fromRequestRow(r: StoredRequest): RequestOutcome | string {
  if (!Number.isFinite(r.startedAtMs))
    return 'the request rows carry no send times (imported results), so the window is unknown'
  if (r.state === 'error') {
    const error: ErrorOutcome['error'] = {
      kind: (r.errorKind ?? 'engine') as RequestErrorKind,
      message: r.message ?? '',
    }
    if (r.httpStatus !== null) error.status = r.httpStatus
    const o: ErrorOutcome = {
      seq: r.seq,
      promptIndex: r.promptIndex,
      scheduledAt: r.scheduledAtMs,
      startedAt: r.startedAtMs,
      state: 'error',
      error,
    }
    if (r.ttftMs !== null) o.ttftMs = r.ttftMs
    if (r.e2eMs !== null) o.e2eMs = r.e2eMs
    if (r.chunks !== null) o.chunks = r.chunks
    if (r.connectionRetries) o.connectionRetries = r.connectionRetries
    return o
  }
  if (r.ttftMs === null || r.e2eMs === null || r.outputTokens === null)
    return `ok request ${r.seq} has no stored ttftMs, e2eMs or outputTokens`
  const o: OkOutcome = {
    seq: r.seq,
    promptIndex: r.promptIndex,
    scheduledAt: r.scheduledAtMs,
    startedAt: r.startedAtMs,
    state: 'ok',
    ttftMs: r.ttftMs,
    e2eMs: r.e2eMs,
    chunkGapsMs: r.chunkGapsMs ?? [],
    chunks: r.chunks ?? 0,
    outputTokens: r.outputTokens,
    tokensSource: r.tokensSource ?? 'chunks',
  }
  if (r.promptTokens !== null) o.promptTokens = r.promptTokens
  if (r.serverOutputTokens != null) o.serverOutputTokens = r.serverOutputTokens
  if (r.tokenizerOutputTokens != null) o.tokenizerOutputTokens = r.tokenizerOutputTokens
  if (r.finishReason != null) o.finishReason = r.finishReason
  if (r.serverTimings != null) o.serverTimings = r.serverTimings as ServerTimings
  if (r.connectionRetries) o.connectionRetries = r.connectionRetries
  return o
}

/** Integer columns get integers; null where the value is missing or not finite. */
function int(v: number | null | undefined): number | null {
  return v == null || !Number.isFinite(v) ? null : Math.round(v)
}
