/**
 * The production checklist's items and their verdicts, as pure functions of measured numbers (the
 * measuring is checklist.ts): each item is PASS, WARN or FAIL with the value it saw, the threshold it was
 * judged against and a note saying why. Tested with given numbers (test/unit/checklist/).
 * @module
 */

export type Verdict = 'PASS' | 'WARN' | 'FAIL'

/** Item ids, in the order printed; stored as metric rows `checklist/<id>`. */
export const CHECKLIST_ITEMS = [
  'ttft-p50',
  'ttft-p95',
  'ttft-p99',
  'decode-tok-s',
  'qps',
  'error-rate',
  'health',
  'auth',
  'rate-limit',
  'streaming',
  'usage',
  'tls',
] as const
export type ChecklistItemId = (typeof CHECKLIST_ITEMS)[number]

export interface ChecklistItem {
  id: ChecklistItemId
  verdict: Verdict
  /** The measured value in words (`412.3 ms`, `HTTP 401`); '—' when nothing was measured. */
  value: string
  /** The measured number, when the item has one (stored beside the verdict). */
  number?: number
  /** Unit of `number` ('ms', 'tokens/s', 'requests/s', 'ratio', 'count'). */
  unit?: string
  /** What it was judged against in words (`≤ 500 ms`); '—' when informational. */
  threshold: string
  note: string
}

/** Stored value of a verdict (`checklist/<item>`): 1 pass, 0.5 warn, 0 fail. */
export function verdictScore(verdict: Verdict): number {
  return verdict === 'PASS' ? 1 : verdict === 'WARN' ? 0.5 : 0
}

const ms = (v: number) => `${v.toFixed(1)} ms`

/** TTFT percentile `p` (ms) of the concurrent load against its bound (ms). */
export function judgeTtft(
  id: 'ttft-p50' | 'ttft-p95' | 'ttft-p99',
  valueMs: number | undefined,
  maxMs: number | undefined,
  concurrency: number,
): ChecklistItem {
  const at = `at concurrency ${concurrency}`
  if (valueMs === undefined)
    return { id, verdict: 'FAIL', value: '—', threshold: bound(maxMs, ' ms'), note: 'no successful request' }
  const base = { id, value: ms(valueMs), number: valueMs, unit: 'ms', threshold: bound(maxMs, ' ms') }
  if (maxMs === undefined) return { ...base, verdict: 'PASS', note: `${at}; informational (no threshold)` }
  return valueMs <= maxMs
    ? { ...base, verdict: 'PASS', note: at }
    : { ...base, verdict: 'FAIL', note: `${at}: ${ms(valueMs)} > ${maxMs} ms` }
}

/** Per-stream decode speed (median tokens/s after the first token) against its floor. */
export function judgeDecode(
  tokensPerS: number | undefined,
  minTokensPerS: number | undefined,
  concurrency: number,
): ChecklistItem {
  const id: ChecklistItemId = 'decode-tok-s'
  const threshold = minTokensPerS === undefined ? '—' : `≥ ${minTokensPerS} tokens/s`
  if (tokensPerS === undefined)
    return { id, verdict: 'FAIL', value: '—', threshold, note: 'no request with 2 or more output tokens' }
  const base = {
    id,
    value: `${tokensPerS.toFixed(1)} tokens/s`,
    number: tokensPerS,
    unit: 'tokens/s',
    threshold,
  }
  const per = `median per stream at concurrency ${concurrency}`
  if (minTokensPerS === undefined) return { ...base, verdict: 'PASS', note: `${per}; informational` }
  return tokensPerS >= minTokensPerS
    ? { ...base, verdict: 'PASS', note: per }
    : { ...base, verdict: 'FAIL', note: `${per}: below ${minTokensPerS} tokens/s` }
}

/** Completed requests per second of the concurrent load against an optional floor. */
export function judgeQps(
  requestsPerS: number | undefined,
  minQps: number | undefined,
  concurrency: number,
): ChecklistItem {
  const id: ChecklistItemId = 'qps'
  const threshold = minQps === undefined ? '—' : `≥ ${minQps} requests/s`
  if (requestsPerS === undefined || requestsPerS === 0)
    return {
      id,
      verdict: 'FAIL',
      value: '0 requests/s',
      number: 0,
      unit: 'requests/s',
      threshold,
      note: 'no request completed',
    }
  const base = {
    id,
    value: `${requestsPerS.toFixed(2)} requests/s`,
    number: requestsPerS,
    unit: 'requests/s',
    threshold,
  }
  const at = `at concurrency ${concurrency}`
  if (minQps === undefined)
    return { ...base, verdict: 'PASS', note: `${at}; informational (--min-qps sets a floor)` }
  return requestsPerS >= minQps
    ? { ...base, verdict: 'PASS', note: at }
    : { ...base, verdict: 'FAIL', note: `${at}: below ${minQps} requests/s` }
}

/** Errors / attempted over the whole load (sequential and concurrent), with the errors by status. */
export function judgeErrorRate(
  errors: number,
  attempted: number,
  maxErrorRate: number,
  byStatus: string,
  /** Why the load never sent a request (the engine did not start), when it did not. */
  startError?: string,
): ChecklistItem {
  const id: ChecklistItemId = 'error-rate'
  const threshold = `≤ ${pct(maxErrorRate)}`
  if (attempted === 0)
    return {
      id,
      verdict: 'FAIL',
      value: '—',
      threshold,
      note: `no request was sent: ${startError ?? 'the load did not start'}`,
    }
  const rate = errors / attempted
  const base = {
    id,
    value: `${pct(rate)} (${errors} of ${attempted})`,
    number: rate,
    unit: 'ratio',
    threshold,
  }
  return rate <= maxErrorRate
    ? { ...base, verdict: 'PASS', note: errors === 0 ? 'no errors' : byStatus }
    : { ...base, verdict: 'FAIL', note: byStatus }
}

/** One probe of a health route: the path asked and what came back (status, or why nothing did). */
export interface HealthProbe {
  path: string
  status?: number
  error?: string
}

/** Health: the first probe answering 2xx passes (`/health` first, then `<base>/models`). */
export function judgeHealth(probes: readonly HealthProbe[]): ChecklistItem {
  const id: ChecklistItemId = 'health'
  const threshold = 'HTTP 2xx'
  const ok = probes.find((p) => p.status !== undefined && p.status >= 200 && p.status < 300)
  const seen = probes.map(
    (p) => `${p.path} ${p.status !== undefined ? `HTTP ${p.status}` : (p.error ?? 'no answer')}`,
  )
  if (ok !== undefined)
    return { id, verdict: 'PASS', value: `${ok.path} HTTP ${ok.status}`, threshold, note: seen.join('; ') }
  return { id, verdict: 'FAIL', value: '—', threshold, note: `no health route answered: ${seen.join('; ')}` }
}

/** What a generation request WITHOUT an API key got: a status, or a transport error. */
export interface AuthProbe {
  status?: number
  error?: string
}

/** Auth enforced: 401/403 without a key passes; 2xx fails (anyone can call it); anything else warns. */
export function judgeAuth(probe: AuthProbe, keyGiven: boolean): ChecklistItem {
  const id: ChecklistItemId = 'auth'
  const threshold = 'HTTP 401 or 403 without a key'
  if (probe.status === 401 || probe.status === 403)
    return {
      id,
      verdict: 'PASS',
      value: `HTTP ${probe.status}`,
      threshold,
      note: keyGiven
        ? 'a request without the key is refused'
        : 'a request without a key is refused (the load needs one: --api-key-env NAME)',
    }
  if (probe.status !== undefined && probe.status >= 200 && probe.status < 300)
    return {
      id,
      verdict: 'FAIL',
      value: `HTTP ${probe.status}`,
      threshold,
      note: 'anyone can call this endpoint: a request without an API key was served',
    }
  return {
    id,
    verdict: 'WARN',
    value: probe.status !== undefined ? `HTTP ${probe.status}` : '—',
    threshold,
    note: `a request without a key was neither served nor refused as unauthorized (${probe.status !== undefined ? `HTTP ${probe.status}` : (probe.error ?? 'no answer')})`,
  }
}

/** The bounded burst: how many requests it sent, over how long, and when the first 429 came. */
export interface BurstResult {
  /** Requests the burst may send at most. */
  maxRequests: number
  /** Requests sent (ok, error or aborted at the stop). */
  sent: number
  /** 1-based index (in send order) of the first 429; absent when none came. */
  first429At?: number
  durationMs: number
  /** Other errors by status (`http 401 ×3`), when any. */
  otherErrors?: string
  /** Why the burst sent nothing (the engine did not start), when it did not. */
  startError?: string
}

/** Rate limiting present: a 429 within the burst passes; none warns (saying the burst's size). */
export function judgeRateLimit(burst: BurstResult): ChecklistItem {
  const id: ChecklistItemId = 'rate-limit'
  const threshold = `HTTP 429 within ${burst.maxRequests} requests`
  const secs = `${(burst.durationMs / 1000).toFixed(1)} s`
  if (burst.sent === 0)
    return {
      id,
      verdict: 'WARN',
      value: '—',
      threshold,
      note: `not measured: the burst sent no request (${burst.startError ?? 'it did not start'})`,
    }
  if (burst.first429At !== undefined)
    return {
      id,
      verdict: 'PASS',
      value: `429 at request ${burst.first429At}`,
      number: burst.first429At,
      unit: 'count',
      threshold,
      note: `a burst of ${burst.sent} requests in ${secs} met the limit`,
    }
  return {
    id,
    verdict: 'WARN',
    value: 'no 429',
    threshold,
    note: `no rate limit seen: a burst of ${burst.sent} requests in ${secs} got no 429${burst.otherErrors ? ` (errors: ${burst.otherErrors})` : ''}`,
  }
}

/** One successful streamed request: its content chunks and the time from the first to the last, ms. */
export interface StreamSample {
  chunks: number
  spreadMs: number
}

/** Streaming works: the median request had ≥ 2 content chunks spread over ≥ 1 ms (not one buffered piece). */
export function judgeStreaming(samples: readonly StreamSample[]): ChecklistItem {
  const id: ChecklistItemId = 'streaming'
  const threshold = '≥ 2 content chunks, ≥ 1 ms apart'
  if (samples.length === 0)
    return { id, verdict: 'FAIL', value: '—', threshold, note: 'no successful streamed request' }
  const chunks = median(samples.map((s) => s.chunks))
  const spread = median(samples.map((s) => s.spreadMs))
  const value = `${chunks} chunks over ${ms(spread)}`
  const base = { id, value, number: chunks, unit: 'count', threshold }
  if (chunks < 2)
    return {
      ...base,
      verdict: 'FAIL',
      note: 'the answer arrived in one chunk: the stream is not incremental',
    }
  if (spread < 1)
    return { ...base, verdict: 'FAIL', note: 'every chunk arrived at once: the stream is buffered somewhere' }
  return { ...base, verdict: 'PASS', note: `median of ${samples.length} streamed requests` }
}

/** Usage reported: the share of successful streamed requests whose stream carried `usage`. */
export function judgeUsage(withUsage: number, ok: number): ChecklistItem {
  const id: ChecklistItemId = 'usage'
  const threshold = 'usage in every stream'
  if (ok === 0) return { id, verdict: 'FAIL', value: '—', threshold, note: 'no successful streamed request' }
  const value = `${withUsage} of ${ok}`
  const base = { id, value, number: withUsage / ok, unit: 'ratio', threshold }
  if (withUsage === ok)
    return { ...base, verdict: 'PASS', note: 'token counts from the server (stream_options.include_usage)' }
  return {
    ...base,
    verdict: 'WARN',
    note:
      withUsage === 0
        ? 'no stream reported usage: clients cannot count tokens from the server'
        : 'some streams reported no usage',
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** TLS when the URL is https: http is exempt for a loopback host and a warning for any other. */
export function judgeTls(url: URL): ChecklistItem {
  const id: ChecklistItemId = 'tls'
  const threshold = 'https (loopback exempt)'
  if (url.protocol === 'https:')
    return { id, verdict: 'PASS', value: 'https', threshold, note: 'the request completed over TLS' }
  if (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.'))
    return { id, verdict: 'PASS', value: 'http', threshold, note: `exempt: ${url.hostname} is loopback` }
  return {
    id,
    verdict: 'WARN',
    value: 'http',
    threshold,
    note: `plain http to ${url.hostname}: prompts, answers and the API key travel unencrypted`,
  }
}

function bound(max: number | undefined, unit: string): string {
  return max === undefined ? '—' : `≤ ${max}${unit}`
}

function pct(ratio: number): string {
  return `${Number((ratio * 100).toFixed(2))} %`
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
