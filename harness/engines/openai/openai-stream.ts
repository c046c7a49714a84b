/**
 * The lean streaming request (clients 'http1' and 'undici'): a transport sends the request and hands over
 * the body as stamped reads (body-queue.ts), our SSE parser splits them in place (sse.ts), and
 * ChunkReader's template fast path reads each chunk from its bytes instead of one JSON.parse per chunk. It
 * keeps per-chunk work to what a measurement needs, so the client saturates far later than the openai SDK.
 *
 * Two ways to consume it. `pushEvents()` (EventPusher, engine.ts; what the runner uses) hands each event
 * to a callback as the body's reads are decoded, in the transport's wake-up, and settles one promise per
 * request: a content chunk then costs no promise, iterator result, closure or event object (one token
 * event per stream is refilled), and the only strings made are the content itself. Iteration (`for
 * await`) is a hand-written async iterator over the same core, one resolved promise and one event object
 * per chunk, with no await chain; an async generator costs several microtask hops per chunk.
 * `npm run bench:client` measures both the CPU and the heap bytes per chunk.
 * @module
 */
import { monotonicMs, wallMs } from '../../clock.ts'
import { RequestError } from '../../errors.ts'
import type { EventPusher, StreamEvent } from '../engine.ts'
import { BODY_END, type BodyRead } from './body-queue.ts'
import { connectionRetriesOf, markConnectionRetries } from './connection-retry.ts'
import { SENT_AT_HEADER } from './openai-body.ts'
import {
  assertComplete,
  ChunkReader,
  createDoneEvent,
  errorMessageFromText,
  type TokenEvent,
} from './openai-chunks.ts'
import { type AbortSource, describeError, RequestScope } from './openai-scope.ts'
import { SseParser, type SseSink } from './sse.ts'

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
  /** Add SENT_AT_HEADER, stamped just before the request is handed to the transport. */
  sendTimeHeader?: boolean
}

/**
 * One streaming request, sent when iteration (or pushEvents) starts. Failures before the response headers
 * (refused connection, reset) are 'http' without a status; after them (cut connection, malformed chunk,
 * in-stream error) 'stream'. Like a generator it is single-use, and expects one `next()` at a time (as
 * `for await`).
 */
export function streamLean(
  options: LeanStreamOptions,
  body: Record<string, unknown>,
  signal: AbortSignal,
): AsyncIterableIterator<StreamEvent> & EventPusher {
  return new LeanStream(options, body, signal)
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }
/** The SSE data `[DONE]`, byte by byte. */
const DONE_SENTINEL = Buffer.from('[DONE]')

class LeanStream implements AsyncIterableIterator<StreamEvent>, EventPusher, SseSink {
  readonly #options: LeanStreamOptions
  readonly #body: Record<string, unknown>
  readonly #callerSignal: AbortSignal
  #mode: 'unused' | 'iterate' | 'push' = 'unused'
  #phase: 'idle' | 'streaming' | 'finished' = 'idle'
  #scope: RequestScope | undefined
  #response: TransportResponse | undefined
  readonly #sse = new SseParser()
  readonly #chunks = new ChunkReader()
  /** When the read being decoded came off the socket (performance.timeOrigin-based ms); a double field. */
  #readAtMs = 0.5
  /** When the request went to the transport (same clock); given to the first token, then cleared. */
  #sentAtMs: number | undefined
  /** The stream failed: what the consumer gets once the events before the failure are handed over. */
  #failed = false
  #failure: unknown
  /** The push consumer threw: its own error, passed on as is. */
  #consumerThrew = false

  /** Push mode: the consumer, its promise, and the token event refilled for each plain content chunk. */
  #onEvent: ((event: StreamEvent) => void) | undefined
  #settle: { resolve: () => void; reject: (error: unknown) => void } | undefined
  readonly #token: TokenEvent = { type: 'token', text: '', tokens: 0, atMs: 0.5 }

  /** Iteration: decoded events not yet taken (from #queueHead on), and the pending next(). */
  readonly #queue: StreamEvent[] = []
  #queueHead = 0
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

  pushEvents(onEvent: (event: StreamEvent) => void): Promise<void> {
    if (this.#mode !== 'unused')
      return Promise.reject(new Error('a lean stream is consumed once: by iteration or by pushEvents()'))
    this.#mode = 'push'
    this.#onEvent = onEvent
    return new Promise((resolve, reject) => {
      this.#settle = { resolve, reject }
      this.#open().then(this.#onReadable, (error: unknown) => {
        this.#settle = undefined
        reject(this.#fail(error, classifyBeforeResponse))
      })
    })
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.#mode === 'unused') {
      this.#mode = 'iterate'
      return this.#first()
    }
    if (this.#mode === 'push')
      return Promise.reject(new Error('a lean stream is consumed once: by iteration or by pushEvents()'))
    // Cut off (abort, timeout) since the last next(): the events already decoded are not handed over.
    const scope = this.#scope
    if (scope !== undefined && (this.#queueHead < this.#queue.length || this.#phase === 'streaming')) {
      try {
        scope.throwIfCut()
      } catch (error) {
        this.#dropQueue()
        return Promise.reject(this.#fail(error, classifyInStream))
      }
    }
    if (this.#queueHead === this.#queue.length && !this.#failed && this.#phase === 'streaming') this.#pump()
    const ready = this.#take()
    if (ready !== undefined) return Promise.resolve(ready)
    if (this.#failed) return Promise.reject(this.#takeFailure())
    if (this.#phase === 'finished') return Promise.resolve(DONE)
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
      this.#response!.notify(this.#onReadable)
    })
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
   * Decodes what the body holds so far, handing the events over (push: to the consumer; iteration: to the
   * queue). True when the stream is over: the done event handed over, or failed (#failed).
   */
  #pump(): boolean {
    if (this.#phase !== 'streaming') return true
    const scope = this.#scope!
    const response = this.#response!
    try {
      for (;;) {
        scope.throwIfCut()
        const read: BodyRead | typeof BODY_END | undefined = response.poll()
        if (read === undefined) return false
        if (read === BODY_END) {
          this.#sse.flush(this)
          this.#end()
          return true
        }
        this.#readAtMs = read.atMs
        this.#sse.push(read.bytes, read.start, read.end, this)
      }
    } catch (error) {
      this.#failed = true
      this.#failure = this.#consumerThrew ? error : this.#fail(error, classifyInStream)
      // Cut off (abort, timeout): nothing more is handed over, not even events already decoded.
      if (scope.cut) this.#dropQueue()
      this.#close()
      return true
    }
  }

  /** The transport has more (or the response head arrived, in push mode). */
  readonly #onReadable = (): void => {
    if (this.#mode === 'push') {
      if (!this.#pump()) {
        this.#response!.notify(this.#onReadable)
        return
      }
      const settle = this.#settle
      this.#settle = undefined
      if (this.#failed) settle?.reject(this.#takeFailure())
      else settle?.resolve()
      return
    }
    const waiter = this.#waiter
    if (waiter === undefined) return
    const over = this.#pump()
    const ready = this.#take()
    if (ready === undefined && !over) {
      this.#response!.notify(this.#onReadable)
      return
    }
    this.#waiter = undefined
    if (ready !== undefined) waiter.resolve(ready)
    else if (this.#failed) waiter.reject(this.#takeFailure())
    else waiter.resolve(DONE)
  }

  /** SseSink: one event of the body. Throws (unclassified) on a failure the stream must end with. */
  event(type: string, bytes: Buffer, start: number, end: number): void {
    const chunks = this.#chunks
    // After [DONE] the body is still read to its end, to keep the connection, but nothing counts.
    if (chunks.state.sawDone) return
    if (type !== 'message') {
      if (type === 'error') {
        const message = errorMessageFromText(bytes.toString('utf8', start, end))
        throw new RequestError('stream', `server error in stream: ${message}`)
      }
      return
    }
    if (end - start === DONE_SENTINEL.length && DONE_SENTINEL.equals(bytes.subarray(start, end))) {
      chunks.state.sawDone = true
      return
    }
    if (!chunks.readBytes(bytes, start, end)) return
    // A push consumer that aborts gets no further event, even of the same read.
    if (this.#scope!.cut) this.#scope!.throwIfCut()
    const sentAtMs = this.#sentAtMs
    if (this.#mode === 'push' && chunks.logprobs === undefined && sentAtMs === undefined) {
      const token = this.#token
      token.text = chunks.text
      token.tokens = chunks.tokens
      token.atMs = this.#readAtMs
      this.#deliver(token)
      return
    }
    const token: TokenEvent = {
      type: 'token',
      text: chunks.text,
      tokens: chunks.tokens,
      atMs: this.#readAtMs,
    }
    if (chunks.logprobs !== undefined) token.logprobs = chunks.logprobs
    if (sentAtMs !== undefined) {
      token.sentAtMs = sentAtMs
      this.#sentAtMs = undefined
    }
    this.#deliver(token)
  }

  /** The body ended: the done event, or the failure of a stream the server never finished. */
  #end(): void {
    const state = this.#chunks.state
    assertComplete(state)
    const done = createDoneEvent(state)
    const retries = this.#response!.connectionRetries
    if (retries > 0) done.connectionRetries = retries
    this.#close()
    this.#deliver(done)
  }

  #deliver(event: StreamEvent): void {
    if (this.#mode === 'push') {
      try {
        this.#onEvent!(event)
      } catch (error) {
        this.#consumerThrew = true
        throw error
      }
    } else this.#queue.push(event)
  }

  #dropQueue(): void {
    this.#queue.length = 0
    this.#queueHead = 0
  }

  /** The next queued event (iteration), or undefined. */
  #take(): IteratorResult<StreamEvent> | undefined {
    const queue = this.#queue
    if (this.#queueHead === queue.length) return undefined
    const event = queue[this.#queueHead]!
    queue[this.#queueHead++] = undefined as unknown as StreamEvent
    if (this.#queueHead === queue.length) {
      queue.length = 0
      this.#queueHead = 0
    }
    return { done: false, value: event }
  }

  /** The failure, handed over once; later calls see a finished stream. */
  #takeFailure(): unknown {
    const failure = this.#failure
    this.#failed = false
    this.#failure = undefined
    return failure
  }

  async #open(): Promise<void> {
    const signal = this.#callerSignal
    if (signal.aborted) {
      this.#phase = 'finished'
      throw signal.reason
    }
    const scope = new RequestScope(signal)
    this.#scope = scope
    this.#phase = 'streaming'
    const body = JSON.stringify(this.#body)
    const headers = this.#options.sendTimeHeader
      ? { ...this.#options.headers, [SENT_AT_HEADER]: monotonicMs().toFixed(3) }
      : this.#options.headers
    this.#sentAtMs = wallMs()
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
