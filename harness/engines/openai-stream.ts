/**
 * The lean streaming request (clients 'http1' and 'undici'): a transport sends the request and hands over
 * the body as stamped reads (body-queue.ts), our SSE decoder splits them, and ChunkReader's template fast
 * path reads each chunk instead of one JSON.parse per chunk. It keeps per-chunk work to what a
 * measurement needs, so the client saturates far later than the openai SDK.
 *
 * The stream is a hand-written async iterator rather than an async generator: when a read of the body
 * holds many chunks (the normal case at high rates), `next()` answers from the decoded events with one
 * resolved promise, where a generator costs several microtask hops per chunk. test/bench/client.ts
 * measured that hop cost as the largest client cost per chunk once JSON parsing was out of the way.
 * @module
 */
import { monotonicMs } from '../clock.ts'
import { RequestError } from '../errors.ts'
import { BODY_END, type BodyRead, wallNowMs } from './body-queue.ts'
import { connectionRetriesOf, markConnectionRetries } from './connection-retry.ts'
import type { StreamEvent } from './engine.ts'
import { SENT_AT_HEADER } from './openai-body.ts'
import {
  assertComplete,
  ChunkReader,
  createDoneEvent,
  errorMessageFromText,
  type TokenEvent,
} from './openai-chunks.ts'
import { type AbortSource, describeError, RequestScope } from './openai-scope.ts'
import { createSseDecoder, type SseDecoder, type SseEvent } from './sse.ts'

/** How a lean stream reaches the server: our HTTP/1.1 client (http1/) or undici (openai-undici.ts). */
export interface StreamTransport {
  /** Sends a POST; resolves at the response head. Rejects with the transport's own errors. */
  post(
    path: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSource,
  ): Promise<TransportResponse>
}

export interface TransportResponse {
  statusCode: number
  contentType: string | undefined
  /**
   * The next piece of the body, stamped when it was read from the socket; BODY_END at its end; undefined
   * when nothing has arrived yet. Throws the transport's error.
   */
  poll(): BodyRead | typeof BODY_END | undefined
  /** Calls `reader` once, after the event loop's poll phase, when poll() has something new. */
  notify(reader: () => void): void
  /** The whole body as text, instead of read() (error bodies). */
  text(): Promise<string>
  /** No more reading. A body not read to its end must not keep its connection busy. */
  close(): void
  /** Times the request was resent on a fresh connection before this response (connection-retry.ts). */
  connectionRetries: number
}

export interface LeanStreamOptions {
  transport: StreamTransport
  /** Request path including the base URL's path, e.g. `/v1/chat/completions`. */
  path: string
  headers: Record<string, string>
  timeoutMs: number
  /** Add SENT_AT_HEADER, stamped just before the request is handed to the transport. */
  sendTimeHeader?: boolean
}

/**
 * One streaming request, sent when iteration starts. Failures before the response headers (refused
 * connection, reset) are 'http' without a status; after them (cut connection, malformed chunk, in-stream
 * error) 'stream'. Like a generator it is single-use, and expects one `next()` at a time (as `for await`).
 */
export function streamLean(
  options: LeanStreamOptions,
  body: Record<string, unknown>,
  signal: AbortSignal,
): AsyncIterableIterator<StreamEvent> {
  return new LeanStream(options, body, signal)
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }
/** #step(): nothing to hand over until more of the body arrives. */
const PENDING = Symbol('pending')

class LeanStream implements AsyncIterableIterator<StreamEvent> {
  readonly #options: LeanStreamOptions
  readonly #body: Record<string, unknown>
  readonly #callerSignal: AbortSignal
  #phase: 'idle' | 'streaming' | 'finished' = 'idle'
  #scope: RequestScope | undefined
  #response: TransportResponse | undefined
  /** The transport has handed over the whole body (what is left are its decoded events). */
  #bodyEnded = false
  readonly #decoder: SseDecoder = createSseDecoder()
  readonly #chunks = new ChunkReader()
  #events: SseEvent[] = []
  #index = 0
  /** When the bytes of #events were read from the socket (performance.timeOrigin-based ms). */
  #readAtMs = 0
  /** When the request went to the transport (same clock); given to the first token, then cleared. */
  #sentAtMs: number | undefined
  /** The consumer's pending next(), while the body has nothing for it. */
  #waiter:
    | { resolve: (result: IteratorResult<StreamEvent>) => void; reject: (error: unknown) => void }
    | undefined

  constructor(options: LeanStreamOptions, body: Record<string, unknown>, signal: AbortSignal) {
    this.#options = options
    this.#body = body
    this.#callerSignal = signal
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.#phase === 'streaming') {
      try {
        const result = this.#step()
        if (result !== PENDING) return Promise.resolve(result)
      } catch (error) {
        return Promise.reject(this.#fail(error, classifyInStream))
      }
      return new Promise((resolve, reject) => {
        this.#waiter = { resolve, reject }
        this.#response!.notify(this.#onReadable)
      })
    }
    if (this.#phase === 'finished') return Promise.resolve(DONE)
    return this.#first()
  }

  /** The consumer stopped early (break, or an exception in its loop body). */
  return(): Promise<IteratorResult<StreamEvent>> {
    this.#close()
    return Promise.resolve(DONE)
  }

  async #first(): Promise<IteratorResult<StreamEvent>> {
    try {
      await this.#open()
    } catch (error) {
      throw this.#fail(error, classifyBeforeResponse)
    }
    return this.next()
  }

  /**
   * Hands over what the body has so far: the next token, the done event at the body's end, or PENDING
   * when more must arrive first. Synchronous, so a waiting consumer is answered from the transport's
   * wake-up with one promise per chunk and no await chain. Throws (unclassified) on failure.
   */
  #step(): IteratorResult<StreamEvent> | typeof PENDING {
    const scope = this.#scope!
    const response = this.#response!
    for (;;) {
      scope.throwIfCut()
      const token = this.#interpret()
      if (token !== undefined) return { done: false, value: token }
      if (this.#bodyEnded) {
        assertComplete(this.#chunks.state)
        const done = createDoneEvent(this.#chunks.state)
        if (response.connectionRetries > 0) done.connectionRetries = response.connectionRetries
        this.#close()
        return { done: false, value: done }
      }
      const read = response.poll()
      if (read === undefined) return PENDING
      if (read === BODY_END) {
        this.#bodyEnded = true
        this.#events = this.#decoder.flush()
      } else {
        this.#events = this.#decoder.push(read.bytes)
        this.#readAtMs = read.atMs
      }
      this.#index = 0
    }
  }

  /** The transport has more for a waiting consumer. */
  readonly #onReadable = (): void => {
    const waiter = this.#waiter
    if (waiter === undefined) return
    this.#waiter = undefined
    try {
      const result = this.#step()
      if (result === PENDING) {
        this.#waiter = waiter
        this.#response!.notify(this.#onReadable)
      } else waiter.resolve(result)
    } catch (error) {
      waiter.reject(this.#fail(error, classifyInStream))
    }
  }

  async #open(): Promise<void> {
    const signal = this.#callerSignal
    if (signal.aborted) {
      this.#phase = 'finished'
      throw signal.reason
    }
    const scope = new RequestScope(signal, this.#options.timeoutMs)
    this.#scope = scope
    this.#phase = 'streaming'
    const body = JSON.stringify(this.#body)
    const headers = this.#options.sendTimeHeader
      ? { ...this.#options.headers, [SENT_AT_HEADER]: monotonicMs().toFixed(3) }
      : this.#options.headers
    this.#sentAtMs = wallNowMs()
    const response = await this.#options.transport.post(this.#options.path, headers, body, scope.source)
    this.#response = response
    const { statusCode } = response
    if (statusCode < 200 || statusCode > 299) {
      let text: string
      try {
        text = await response.text()
      } catch (error) {
        scope.throwIfCut()
        text = `(body unreadable: ${describeError(error)})`
      }
      throw new RequestError('http', `HTTP ${statusCode}: ${errorMessageFromText(text)}`, statusCode)
    }
    if (response.contentType?.startsWith('application/json')) {
      // A server (or proxy) that ignored `stream: true` or answered an error as a plain 200 JSON body.
      const text = await response.text()
      throw new RequestError('stream', `expected an event stream, got JSON: ${errorMessageFromText(text)}`)
    }
  }

  /** The next content chunk among the decoded events, folding the others into the chunk state. */
  #interpret(): TokenEvent | undefined {
    const events = this.#events
    const state = this.#chunks.state
    while (this.#index < events.length) {
      const event = events[this.#index++]!
      // After [DONE] the body is still read to its end, to keep the connection, but nothing counts.
      if (state.sawDone) continue
      if (event.type !== 'message') {
        if (event.type === 'error') {
          throw new RequestError('stream', `server error in stream: ${errorMessageFromText(event.data)}`)
        }
        continue
      }
      if (event.data === '[DONE]') state.sawDone = true
      else {
        const token = this.#chunks.read(event.data)
        if (token !== undefined) {
          token.atMs = this.#readAtMs
          if (this.#sentAtMs !== undefined) {
            token.sentAtMs = this.#sentAtMs
            this.#sentAtMs = undefined
          }
          return token
        }
      }
    }
    return undefined
  }

  /** Ends the request after a failure and returns what the consumer must see. */
  #fail(error: unknown, classify: (error: unknown) => RequestError): unknown {
    const scope = this.#scope
    const outcome = scope === undefined ? error : scope.settle(error, classify)
    // Only our own error: an abort reason is the caller's object, shared by every request it cut.
    if (outcome instanceof RequestError)
      markConnectionRetries(outcome, this.#response?.connectionRetries ?? connectionRetriesOf(error))
    this.#close()
    return outcome
  }

  #close(): void {
    if (this.#phase === 'finished') return
    this.#phase = 'finished'
    this.#events = []
    this.#scope?.dispose()
    this.#response?.close()
  }
}

function classifyBeforeResponse(error: unknown): RequestError {
  return new RequestError('http', `request failed: ${describeError(error)}`, undefined, { cause: error })
}

function classifyInStream(error: unknown): RequestError {
  return new RequestError('stream', `connection dropped mid-stream: ${describeError(error)}`, undefined, {
    cause: error,
  })
}
