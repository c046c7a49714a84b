/**
 * The reference client: the official openai package (v6), no retries (a retry would hide a failure inside
 * a long latency), logging off, and the same chunk interpretation as the lean client. The caller's signal
 * bounds the whole request (request.ts owns the timeout); the SDK's own `timeout`, which would only cover
 * the wait for response headers, is set out of the way (SDK_NO_TIMEOUT_MS).
 * @module
 */
import OpenAI from 'openai'
import { Client, fetch as undiciFetch } from 'undici'
import { monotonicMs, wallMs } from '../../clock.ts'
import { RequestError } from '../../errors.ts'
import type { StreamEvent } from '../engine.ts'
import { lostOnReusedConnection, markConnectionRetries } from './connection-retry.ts'
import { type OpenAIApi, SENT_AT_HEADER } from './openai-body.ts'
import {
  assertComplete,
  createChunkState,
  createDoneEvent,
  errorMessage,
  readChunk,
} from './openai-chunks.ts'
import { describeError, RequestScope } from './openai-scope.ts'
import { SseParser, type SseSink } from './sse.ts'

export interface SdkClientOptions {
  baseUrl: string
  apiKey?: string
  headers?: Record<string, string>
}

/** The SDK's per-request timeout, set to setTimeout's maximum (~24.8 days): the caller's signal rules. */
const SDK_NO_TIMEOUT_MS = 2 ** 31 - 1

export function createSdkClient(options: SdkClientOptions): OpenAI {
  return new OpenAI({
    baseURL: options.baseUrl,
    // The SDK insists on a key; without one the Authorization header is removed below, so a key from the
    // environment (OPENAI_API_KEY) is never sent to a server it was not meant for.
    apiKey: options.apiKey ?? 'no-key',
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    fetch: fetchRetryingLostRequests(new URL(options.baseUrl).origin),
    timeout: SDK_NO_TIMEOUT_MS,
    logLevel: 'off',
    defaultHeaders: { ...options.headers, ...(options.apiKey === undefined ? { Authorization: null } : {}) },
  })
}

/** Responses to requests sent a second time by fetchRetryingLostRequests. */
const RETRIED = new WeakSet<Response>()

/**
 * Key of the per-request object streamWithSdk hands to its fetch through the SDK's `fetchOptions` (the
 * SDK spreads them into fetch's init, symbol keys included): the fetch stamps tSend there, at the moment
 * the SDK hands the request over, rather than before the SDK has built it (headers, body, URL: ~0.1 ms and
 * more on a cold path, which the lean clients keep out of TTFT the same way).
 */
const SEND = Symbol('bench sdk send')

interface SdkSend {
  /** Add SENT_AT_HEADER (the monotonic clock) as the request is handed over. */
  sendTimeHeader: boolean
  /** performance.timeOrigin-based ms, set by the fetch: tSend of the first attempt. */
  sentAtMs?: number
  /**
   * When the body read that completed each SSE event the SDK will yield came off the connection, in order
   * (same clock): the body is read as it arrives and split by our own SSE parser on the side, so tokens are
   * stamped at arrival as with the lean clients, not after the SDK's own decoding (~1–2 ms on the first).
   */
  eventAtMs: number[]
}

/** The SDK yields one chunk per SSE event whose data is not `[DONE]` (its Stream in core/streaming). */
class EventStamps implements SseSink {
  readonly #parser = new SseParser()
  readonly #stamps: number[]
  #atMs = 0.5

  constructor(stamps: number[]) {
    this.#stamps = stamps
  }

  read(bytes: Uint8Array, atMs: number): void {
    this.#atMs = atMs
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#parser.push(buffer, 0, buffer.length, this)
  }

  end(): void {
    this.#parser.flush(this)
  }

  event(_type: string, bytes: Buffer, start: number, end: number): void {
    if (bytes.toString('latin1', start, Math.min(end, start + 6)) !== '[DONE]') this.#stamps.push(this.#atMs)
  }
}

/**
 * The response with its body read as it arrives (stamping each read, see SdkSend.eventAtMs) and handed on
 * unchanged. Only for requests streamWithSdk sent, and only when the response is an event stream.
 */
function stampArrivals(response: Response, send: SdkSend | undefined): Response {
  const body = response.body
  if (send === undefined || body === null || !response.headers.get('content-type')?.includes('event-stream'))
    return response
  const stamps = new EventStamps(send.eventAtMs)
  const reader = body.getReader()
  const stamped = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          stamps.read(value, wallMs())
          controller.enqueue(value)
        }
        stamps.end()
        controller.close()
      } catch (error) {
        controller.error(error)
      }
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return new Response(stamped, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
}

/** Stamps the request's tSend (and its SENT_AT_HEADER) as fetch receives it. */
function stampSend(init: RequestInit | undefined): void {
  const send = (init as Record<symbol, SdkSend | undefined> | undefined)?.[SEND]
  if (send === undefined) return
  if (send.sendTimeHeader) {
    const value = monotonicMs().toFixed(3)
    const headers = init?.headers
    if (headers instanceof Headers) headers.set(SENT_AT_HEADER, value)
    else if (Array.isArray(headers)) headers.push([SENT_AT_HEADER, value])
    else if (headers !== undefined) (headers as Record<string, string>)[SENT_AT_HEADER] = value
  }
  send.sentAtMs = wallMs()
}

/**
 * Node's fetch with the lean clients' rule for a request lost to a kept-alive connection that the server
 * closed (connection-retry.ts; llama-server closes after every streamed response, and fetch lost 1 of 60
 * at concurrency 4 against it): sent once more on a one-off connection (undici's own fetch over a `Client`
 * of its own, closed once the response is done). Everything else, HTTP errors included, is the SDK's as
 * before (`maxRetries: 0`: the SDK's own retries back off for seconds and also retry 429/5xx).
 */
function fetchRetryingLostRequests(origin: string): typeof fetch {
  return async (input, init) => {
    stampSend(init)
    const send = (init as Record<symbol, SdkSend | undefined> | undefined)?.[SEND]
    try {
      return stampArrivals(await fetch(input, init), send)
    } catch (error) {
      if (init?.signal?.aborted || !lostOnReusedConnection((error as { cause?: unknown }).cause)) throw error
      const fresh = new Client(origin, { pipelining: 1 })
      // close() lets the request (and its body) finish first.
      const release = () => void fresh.close().catch(() => {})
      try {
        const response = (await undiciFetch(input as string, {
          ...(init as object),
          dispatcher: fresh,
        })) as unknown as Response
        const stamped = stampArrivals(response, send)
        RETRIED.add(stamped)
        release()
        return stamped
      } catch (retryError) {
        release()
        markConnectionRetries(retryError, 1)
        throw retryError
      }
    }
  }
}

/** Same contract as streamWithUndici. The SDK hides `[DONE]`, so only a finish_reason completes a stream. */
export async function* streamWithSdk(
  client: OpenAI,
  api: OpenAIApi,
  body: Record<string, unknown>,
  signal: AbortSignal,
  sendTimeHeader = false,
): AsyncGenerator<StreamEvent> {
  if (signal.aborted) throw signal.reason
  const scope = new RequestScope(signal)
  try {
    let stream: AsyncIterable<unknown>
    let connectionRetries = 0
    // tSend: stamped by the fetch as the SDK hands the request over (stampSend).
    const send: SdkSend = { sendTimeHeader, eventAtMs: [] }
    let sentAtMs: number | undefined
    try {
      const requestOptions = {
        signal: scope.signal,
        timeout: SDK_NO_TIMEOUT_MS,
        // Typed as the SDK's own (its RequestInit comes from a different undici types copy than ours).
        fetchOptions: { [SEND]: send } as OpenAI.RequestOptions['fetchOptions'],
      }
      // The body carries server-specific fields (top_k, min_tokens, extraBody) the SDK types do not know.
      const { data, response } = await (api === 'chat'
        ? client.chat.completions
            .create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming, requestOptions)
            .withResponse()
        : client.completions
            .create(body as unknown as OpenAI.CompletionCreateParamsStreaming, requestOptions)
            .withResponse())
      stream = data
      sentAtMs = send.sentAtMs
      if (RETRIED.has(response)) connectionRetries = 1
    } catch (error) {
      throw scope.settle(error, classifyBeforeResponse)
    }
    const state = createChunkState()
    try {
      let eventIndex = 0
      for await (const chunk of stream) {
        // The SDK keeps handing out chunks it had already decoded when the signal fired.
        if (scope.cut) break
        const atMs = send.eventAtMs[eventIndex++]
        const token = readChunk(chunk, state)
        if (token === undefined) continue
        if (atMs !== undefined) token.atMs = atMs
        if (sentAtMs !== undefined) {
          token.sentAtMs = sentAtMs
          sentAtMs = undefined
        }
        yield token
      }
    } catch (error) {
      const failure = scope.settle(error, classifyInStream)
      if (failure instanceof RequestError) markConnectionRetries(failure, connectionRetries)
      throw failure
    }
    // The SDK's stream ends quietly when its signal aborts.
    scope.throwIfCut()
    assertComplete(state)
    const done = createDoneEvent(state)
    if (connectionRetries > 0) done.connectionRetries = connectionRetries
    yield done
  } finally {
    scope.dispose()
  }
}

function classifyBeforeResponse(error: unknown): RequestError {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new RequestError('timeout', 'no response headers within the timeout', undefined, { cause: error })
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    const message = errorMessage({ error: error.error }, error.message)
    return new RequestError('http', `HTTP ${error.status}: ${message}`, error.status, { cause: error })
  }
  return new RequestError('http', `request failed: ${describeError(error)}`, undefined, { cause: error })
}

function classifyInStream(error: unknown): RequestError {
  if (error instanceof OpenAI.APIError) {
    // An `{"error": …}` chunk or an `event: error` message; the SDK gives it no status.
    return new RequestError(
      'stream',
      `server error in stream: ${errorMessage({ error: error.error }, error.message)}`,
      undefined,
      {
        cause: error,
      },
    )
  }
  if (error instanceof SyntaxError) {
    return new RequestError('stream', `malformed chunk (not JSON): ${error.message}`, undefined, {
      cause: error,
    })
  }
  return new RequestError('stream', `connection dropped mid-stream: ${describeError(error)}`, undefined, {
    cause: error,
  })
}
