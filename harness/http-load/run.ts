/**
 * `runHttpLoad`: one raw HTTP load with autocannon — non-streamed requests on `connections` keep-alive
 * connections (closed loop, one request in flight each), optionally under autocannon's rate budget — and
 * every response kept as a sample: its send time, latency, status and the usage the server reported.
 *
 * Latency is measured here, per request, on the run clock: from just after autocannon asked for the
 * request (setupRequest, called immediately before the bytes are written) to the complete response
 * (onResponse). Percentiles come from these samples (exact, harness/metrics/percentile.ts), not from
 * autocannon's HDR histogram (rounded buckets, and in rate mode with coordinated-omission fill-ins that
 * are no request's latency). autocannon's own counts are kept beside them as a cross-check.
 *
 * Bounded: autocannon stops after `durationS` (or `requests`, spread over the connections); with
 * `requests` set autocannon alone has no time bound, so `durationS` stops it here too. A hard guard ends the
 * run `durationS + timeoutS + 5` s after the start whatever autocannon does. Requests still in flight when
 * autocannon stops are dropped by it unanswered: counted in `unfinished`, in no rate or percentile.
 * @module
 */
import {
  type AutocannonClient,
  type AutocannonRequest,
  type AutocannonResult,
  autocannon,
} from './autocannon.ts'

/** One response, or one request that ended in a timeout or a connection error. Times: run clock, ms. */
export type HttpSample = HttpResponseSample | HttpFailureSample

/** A response, of any status. */
export interface HttpResponseSample {
  state: 'ok' | 'http-error'
  /** 0-based send order. */
  seq: number
  promptIndex: number
  /** When the request was handed to the connection, ms since the run's origin. */
  startedAt: number
  /** Complete response − startedAt, ms. */
  latencyMs: number
  status: number
  bytes: number
  /** usage.prompt_tokens / usage.completion_tokens of a 2xx JSON body, when present. */
  promptTokens?: number
  outputTokens?: number
  /** The start of a non-2xx body (for the error's message; the sink and the CLI redact it). */
  bodyExcerpt?: string
}

/** A request that got no response: a timeout or a connection error. */
export interface HttpFailureSample {
  state: 'timeout' | 'connection-error'
  seq: number
  promptIndex: number
  startedAt: number
  /** When the error was reported − startedAt, ms. */
  afterMs: number
  message: string
}

export function isResponse(s: HttpSample): s is HttpResponseSample {
  return s.state === 'ok' || s.state === 'http-error'
}

export interface HttpLoadProgress {
  /** Seconds since the start. */
  elapsedS: number
  responses: number
  errors: number
  /** Responses per second since the previous progress. */
  lastSecond: number
}

export interface HttpLoadOptions {
  /** The full request URL, e.g. http://127.0.0.1:8000/v1/chat/completions. */
  url: string
  /** Sent with every request (content-type, authorization). */
  headers: Record<string, string>
  /** The body of the `position`-th request (0-based send order) and the prompt it came from. */
  body: (position: number) => { body: string; promptIndex: number }
  connections: number
  /**
   * autocannon's overallRate: whole requests per second over all connections, ≥ 1 (autocannon refuses less
   * and paces a fraction as the next whole rate: cli/commands/load.ts parseRateFlag). Absent: as fast as answered.
   */
  ratePerS?: number
  /** Stops after this long, s. */
  durationS: number
  /** Stops after this many requests (spread over the connections). */
  requests?: number
  /** Per-request timeout, s (≥ 1): a request whose response is not complete this long after its send. */
  timeoutS: number
  signal?: AbortSignal
  /** Once a second while running. */
  onProgress?: (progress: HttpLoadProgress) => void
  /** Run clock, ms. @default performance.now */
  now?: () => number
  /** Clock value samples are relative to. @default now() at the start */
  origin?: number
}

export interface HttpLoadResult {
  /** In send order. */
  samples: HttpSample[]
  /** Requests sent but unanswered when autocannon stopped (dropped by it; in no figure). */
  unfinished: number
  /** What ended the load. */
  /** `unreachable`: UNREACHABLE_ERRORS connection errors before any response (refused, reset, DNS). */
  stoppedBy: 'duration' | 'requests' | 'signal' | 'guard' | 'unreachable'
  /** autocannon's own summary (its response count includes every status). */
  autocannon: Pick<AutocannonResult, 'errors' | 'timeouts' | 'non2xx' | 'duration' | 'statusCodeStats'> & {
    responses: number
    sent: number
  }
}

/** The error of a request whose connection the server closed before answering it. */
export const CLOSED_MESSAGE = 'connection closed by the server before the response'
/** Characters of a non-2xx body kept for the error message. */
const BODY_EXCERPT_CHARS = 200
/** The hard guard's slack beyond durationS + timeoutS, s (autocannon checks its stop flag once a second). */
const GUARD_SLACK_S = 5
/**
 * Connection errors before the first response after which the endpoint is taken as unreachable and the
 * load stops: autocannon retries a refused connection at once, ~500 attempts a second on loopback, each an
 * error row, for the whole duration otherwise.
 */
export const UNREACHABLE_ERRORS = 100

interface Pending {
  seq: number
  promptIndex: number
  startedAt: number
  /** The autocannon connection (Client) that sent it. */
  client: object | undefined
}

export function runHttpLoad(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const now = o.now ?? (() => performance.now())
  const origin = o.origin ?? now()
  const url = new URL(o.url)
  const samples: HttpSample[] = []
  // In flight, oldest first (Map keeps insertion order), keyed by autocannon's per-request context.
  const pending = new Map<object, Pending>()
  let sent = 0
  let responses = 0
  let errors = 0
  let connectionErrors = 0
  let stoppedBy: HttpLoadResult['stoppedBy'] = o.requests !== undefined ? 'requests' : 'duration'

  // Which connection a request belongs to (see setupClient below): the client whose 'request' event came
  // just before the build, or, for a connection's first request (built in its constructor), the client
  // setupClient is called with right after.
  let building: object | undefined
  let lastBuilt: Pending | undefined
  let failing: object | undefined
  const setupRequest = (request: AutocannonRequest, context: Record<string, unknown>) => {
    const seq = sent++
    const { body, promptIndex } = o.body(seq)
    request.body = body
    lastBuilt = { seq, promptIndex, startedAt: now() - origin, client: building }
    building = undefined
    pending.set(context, lastBuilt)
    return request
  }
  /**
   * autocannon reports a timeout or connection error without its request (tracker 'reqError'). Each
   * connection's own 'request' (emitted just before it builds and sends the next request), 'connError' and
   * 'timeout' events (autocannon 9.0.0 lib/httpClient.js; listeners added here run before autocannon's own,
   * which emits 'reqError') tie the error to the connection, and so to that connection's oldest waiting
   * request. Charged to the oldest request of all instead, a reset on one connection took a slow request
   * of another, whose response then went uncounted (test/io/http-load/reset.test.ts).
   */
  const setupClient = (client: AutocannonClient) => {
    if (lastBuilt !== undefined) lastBuilt.client = client
    client.on('request', () => {
      building = client
    })
    client.on('connError', () => {
      failing = client
    })
    client.on('timeout', () => {
      failing = client
    })
  }
  const onResponse = (status: number, body: string, context: Record<string, unknown>) => {
    const done = now() - origin
    const p = pending.get(context)
    if (p === undefined) return
    pending.delete(context)
    closedBefore(p)
    responses++
    const ok = status >= 200 && status < 300
    if (!ok) errors++
    samples.push({
      state: ok ? 'ok' : 'http-error',
      seq: p.seq,
      promptIndex: p.promptIndex,
      startedAt: p.startedAt,
      latencyMs: done - p.startedAt,
      status,
      bytes: Buffer.byteLength(body),
      ...(ok ? usageOf(body) : { bodyExcerpt: body.slice(0, BODY_EXCERPT_CHARS) }),
    })
  }

  /**
   * Requests of `p`'s connection sent before it and still waiting: with one request in flight per
   * connection they can no longer be answered. autocannon reconnects when the server closes a connection
   * (FIN) and sends the next request without reporting the one the close lost; each is an error here,
   * "closed before the response", noticed when the request after it was sent.
   */
  const closedBefore = (p: Pending) => {
    if (p.client === undefined) return
    for (const [context, q] of pending) {
      if (q.client !== p.client || q.seq >= p.seq) continue
      pending.delete(context)
      errors++
      samples.push({
        state: 'connection-error',
        seq: q.seq,
        promptIndex: q.promptIndex,
        startedAt: q.startedAt,
        afterMs: p.startedAt - q.startedAt,
        message: CLOSED_MESSAGE,
      })
    }
  }

  return new Promise((resolve, reject) => {
    let settled = false
    let instance: ReturnType<typeof autocannon> | undefined
    const started = now()
    const finish = (result: AutocannonResult | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(durationStop)
      clearTimeout(guard)
      o.signal?.removeEventListener('abort', onAbort)
      // Each connection's newest waiting request was in flight at the stop; any older one was lost to a close.
      const newest = new Map<object, Pending>()
      for (const q of pending.values())
        if (q.client !== undefined && q.seq > (newest.get(q.client)?.seq ?? -1)) newest.set(q.client, q)
      for (const q of newest.values()) closedBefore(q)
      samples.sort((a, b) => a.seq - b.seq)
      resolve({
        samples,
        unfinished: pending.size,
        stoppedBy,
        autocannon: {
          responses: result?.requests.total ?? 0,
          sent: result?.requests.sent ?? 0,
          errors: result?.errors ?? 0,
          timeouts: result?.timeouts ?? 0,
          non2xx: result?.non2xx ?? 0,
          duration: result?.duration ?? (now() - started) / 1000,
          statusCodeStats: result?.statusCodeStats ?? {},
        },
      })
    }
    const onAbort = () => {
      stoppedBy = 'signal'
      instance?.stop()
    }
    // With `requests`, autocannon has no time bound of its own.
    const durationStop = setTimeout(() => {
      if (o.requests !== undefined) stoppedBy = 'duration'
      instance?.stop()
    }, o.durationS * 1000)
    const guard = setTimeout(
      () => {
        stoppedBy = 'guard'
        instance?.stop()
        finish(undefined)
      },
      (o.durationS + o.timeoutS + GUARD_SLACK_S) * 1000,
    )
    try {
      instance = autocannon(
        {
          url: url.origin,
          connections: o.requests !== undefined ? Math.min(o.connections, o.requests) : o.connections,
          duration: o.durationS,
          ...(o.requests !== undefined ? { amount: o.requests } : {}),
          ...(o.ratePerS !== undefined ? { overallRate: o.ratePerS } : {}),
          timeout: o.timeoutS,
          setupClient,
          requests: [
            {
              method: 'POST',
              path: `${url.pathname}${url.search}`,
              headers: o.headers,
              setupRequest,
              onResponse,
            },
          ],
        },
        (err, result) => {
          if (err) {
            if (!settled) {
              settled = true
              clearTimeout(durationStop)
              clearTimeout(guard)
              reject(err)
            }
            return
          }
          finish(result)
        },
      )
    } catch (err) {
      clearTimeout(durationStop)
      clearTimeout(guard)
      reject(err)
      return
    }
    // A timeout or connection error: the oldest waiting request of the connection it happened on
    // (setupClient above).
    instance.on('reqError', (error) => {
      const at = now() - origin
      let oldest: [object, Pending] | undefined
      for (const entry of pending)
        if (entry[1].client === failing) {
          oldest = entry
          break
        }
      failing = undefined
      // Not tied to a connection (never seen): the oldest request of all.
      oldest ??= pending.entries().next().value as [object, Pending] | undefined
      if (oldest === undefined) return
      pending.delete(oldest[0])
      // Stopped as unreachable: autocannon retries until its next tick (≤ 1 s); those retries are the same
      // failure again, not more requests of the load.
      if (stoppedBy === 'unreachable') return
      errors++
      const timeout = error.message === 'request timed out'
      if (!timeout && responses === 0 && ++connectionErrors >= UNREACHABLE_ERRORS) {
        stoppedBy = 'unreachable'
        instance?.stop()
      }
      const code = (error as Error & { code?: string }).code
      samples.push({
        state: timeout ? 'timeout' : 'connection-error',
        seq: oldest[1].seq,
        promptIndex: oldest[1].promptIndex,
        startedAt: oldest[1].startedAt,
        afterMs: at - oldest[1].startedAt,
        message: timeout ? `no response within ${o.timeoutS} s` : `request failed: ${code ?? error.message}`,
      })
    })
    let lastResponses = 0
    let lastTickAt = started
    instance.on('tick', () => {
      // autocannon ticks once a second and once more at its stop, right after a regular tick: no line for
      // that one.
      const at = now()
      if (at - lastTickAt < 500) return
      o.onProgress?.({
        elapsedS: (at - started) / 1000,
        responses,
        errors,
        lastSecond: ((responses - lastResponses) * 1000) / (at - lastTickAt),
      })
      lastResponses = responses
      lastTickAt = at
    })
    if (o.signal?.aborted) onAbort()
    else o.signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** usage.prompt_tokens and usage.completion_tokens of an OpenAI JSON body, when it has them. */
export function usageOf(body: string): { promptTokens?: number; outputTokens?: number } {
  // Only the usage object is wanted: skip parsing bodies that have none.
  if (!body.includes('"usage"')) return {}
  try {
    const usage = (JSON.parse(body) as { usage?: Record<string, unknown> }).usage
    const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined)
    const promptTokens = count(usage?.prompt_tokens)
    const outputTokens = count(usage?.completion_tokens)
    return {
      ...(promptTokens !== undefined ? { promptTokens } : {}),
      ...(outputTokens !== undefined ? { outputTokens } : {}),
    }
  } catch {
    return {}
  }
}
