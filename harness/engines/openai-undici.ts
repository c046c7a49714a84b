/**
 * The lean streaming client (the default): undici `Pool.request()` with the body read as a stream, our SSE
 * decoder, and ChunkReader's template fast path instead of one JSON.parse per chunk. It keeps per-chunk
 * work to what a measurement needs, so the client saturates far later than the openai SDK.
 *
 * The stream is a hand-written async iterator rather than an async generator: when a read of the body
 * holds many chunks (the normal case at high rates), `next()` answers from the decoded events with one
 * resolved promise, where a generator costs several microtask hops per chunk. test/bench/client.ts
 * measured that hop cost as the largest client cost per chunk once JSON parsing was out of the way.
 *
 * Arrival times: the body is read in flowing mode, so undici emits each piece of the body synchronously
 * from the socket read that parsed it; the listener only stamps it (`atMs`, the wall-aligned clock
 * request.ts converts back) and queues it. Waking the consumer is deferred to one shared setImmediate, after
 * the event loop's poll phase: when many streams' chunks arrive together (a server decoding a batch), every
 * socket of the burst is read and stamped before any of them is decoded and recorded, so the 256th stream's
 * TTFT does not include the processing of the 255 before it.
 * @module
 */
import type { Dispatcher, Pool } from 'undici'
import { monotonicMs } from '../clock.ts'
import { RequestError } from '../errors.ts'
import type { StreamEvent } from './engine.ts'
import { SENT_AT_HEADER } from './openai-body.ts'
import {
  assertComplete,
  ChunkReader,
  createDoneEvent,
  errorMessageFromText,
  type TokenEvent,
} from './openai-chunks.ts'
import { describeError, RequestScope } from './openai-scope.ts'
import { createSseDecoder, type SseDecoder, type SseEvent } from './sse.ts'

export interface UndiciStreamOptions {
  pool: Pool
  /** Request path including the base URL's path, e.g. `/v1/chat/completions`. */
  path: string
  headers: Record<string, string>
  timeoutMs: number
  /** Add SENT_AT_HEADER, stamped just before the request is handed to undici. */
  sendTimeHeader?: boolean
}

/**
 * One streaming request, sent when iteration starts. Failures before the response headers (refused
 * connection, reset) are 'http' without a status; after them (cut connection, malformed chunk, in-stream
 * error) 'stream'. Like a generator it is single-use, and expects one `next()` at a time (as `for await`).
 */
export function streamWithUndici(
  options: UndiciStreamOptions,
  body: Record<string, unknown>,
  signal: AbortSignal,
): AsyncIterableIterator<StreamEvent> {
  return new UndiciStream(options, body, signal)
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

class UndiciStream implements AsyncIterableIterator<StreamEvent> {
  readonly #options: UndiciStreamOptions
  readonly #body: Record<string, unknown>
  readonly #callerSignal: AbortSignal
  #phase: 'idle' | 'streaming' | 'finished' = 'idle'
  #scope: RequestScope | undefined
  #response: Dispatcher.ResponseData | undefined
  #bodyQueue: BodyQueue | undefined
  /** The body was read to its end (the connection can be reused). */
  #bodyEnded = false
  readonly #decoder: SseDecoder = createSseDecoder()
  readonly #chunks = new ChunkReader()
  #events: SseEvent[] = []
  #index = 0
  /** When the bytes of #events were read from the socket (performance.timeOrigin-based ms). */
  #readAtMs = 0

  constructor(options: UndiciStreamOptions, body: Record<string, unknown>, signal: AbortSignal) {
    this.#options = options
    this.#body = body
    this.#callerSignal = signal
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.#phase === 'streaming' && this.#index < this.#events.length && !this.#scope!.cut) {
      try {
        const token = this.#interpret()
        if (token !== undefined) return Promise.resolve({ done: false, value: token })
      } catch (error) {
        return Promise.reject(this.#fail(error, classifyInStream))
      }
    }
    if (this.#phase === 'finished') return Promise.resolve(DONE)
    return this.#advance()
  }

  /** The consumer stopped early (break, or an exception in its loop body). */
  return(): Promise<IteratorResult<StreamEvent>> {
    this.#close()
    return Promise.resolve(DONE)
  }

  async #advance(): Promise<IteratorResult<StreamEvent>> {
    let classify = classifyBeforeResponse
    try {
      if (this.#phase === 'idle') await this.#open()
      classify = classifyInStream
      const scope = this.#scope!
      for (;;) {
        scope.throwIfCut()
        const token = this.#interpret()
        if (token !== undefined) return { done: false, value: token }
        if (this.#bodyEnded) {
          assertComplete(this.#chunks.state)
          const done = createDoneEvent(this.#chunks.state)
          this.#close()
          return { done: false, value: done }
        }
        const read = await this.#bodyQueue!.read()
        if (read === undefined) {
          this.#bodyEnded = true
          this.#events = this.#decoder.flush()
        } else {
          this.#events = this.#decoder.push(read.bytes)
          this.#readAtMs = read.atMs
        }
        this.#index = 0
      }
    } catch (error) {
      throw this.#fail(error, classify)
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
    const response = await this.#options.pool.request({
      path: this.#options.path,
      method: 'POST',
      headers,
      body,
      signal: scope.source,
      // The scope's timer bounds the whole request; undici's own idle timers would only add a second,
      // differently-worded timeout.
      headersTimeout: 0,
      bodyTimeout: 0,
    })
    this.#response = response
    const { statusCode } = response
    if (statusCode < 200 || statusCode > 299) {
      let text: string
      try {
        text = await response.body.text()
        this.#bodyEnded = true
      } catch (error) {
        scope.throwIfCut()
        text = `(body unreadable: ${describeError(error)})`
      }
      throw new RequestError('http', `HTTP ${statusCode}: ${errorMessageFromText(text)}`, statusCode)
    }
    const contentType = response.headers['content-type']
    if (typeof contentType === 'string' && contentType.startsWith('application/json')) {
      // A server (or proxy) that ignored `stream: true` or answered an error as a plain 200 JSON body.
      const text = await response.body.text()
      this.#bodyEnded = true
      throw new RequestError('stream', `expected an event stream, got JSON: ${errorMessageFromText(text)}`)
    }
    this.#bodyQueue = new BodyQueue(response.body)
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
    this.#close()
    return outcome
  }

  #close(): void {
    if (this.#phase === 'finished') return
    this.#phase = 'finished'
    this.#events = []
    this.#bodyQueue?.stop()
    this.#scope?.dispose()
    // A response left unread (failure, consumer stopped early) must not keep its connection busy.
    if (this.#response !== undefined && !this.#bodyEnded) this.#response.body.destroy()
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

/** Wall-aligned ms, the clock of StreamEvent `atMs`. */
const wallNowMs = () => performance.timeOrigin + performance.now()

/** Consumers to wake after the current poll phase (see the module comment). */
let wakeups: (() => void)[] = []

function wakeSoon(wake: () => void): void {
  if (wakeups.length === 0) setImmediate(wakeAll)
  wakeups.push(wake)
}

function wakeAll(): void {
  const due = wakeups
  wakeups = []
  for (const wake of due) wake()
}

interface BodyRead {
  bytes: Buffer
  /** When undici handed these bytes over, wall-aligned ms. */
  atMs: number
}

/**
 * A response body in flowing mode, as a queue of stamped reads with one reader. SSE bodies are consumed as
 * fast as they come, so pausing for back-pressure would only delay the stamps; a consumer that falls behind
 * holds the unread pieces here.
 */
class BodyQueue {
  readonly #body: Dispatcher.ResponseData['body']
  readonly #reads: BodyRead[] = []
  #ended = false
  #error: unknown
  #waiting: { resolve: (read: BodyRead | undefined) => void; reject: (error: unknown) => void } | undefined
  #wakeQueued = false

  constructor(body: Dispatcher.ResponseData['body']) {
    this.#body = body
    body.on('data', this.#onData)
    body.once('end', this.#onEnd)
    body.once('error', this.#onError)
  }

  /** The next piece of the body in order, undefined at its end; rejects with the stream's error. */
  read(): Promise<BodyRead | undefined> {
    const ready = this.#take()
    if (ready !== null) return ready
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject }
    })
  }

  /** Stops listening (the stream is being destroyed or has ended). */
  stop(): void {
    this.#body.off('data', this.#onData)
    this.#body.off('end', this.#onEnd)
    // An error after the stop (the destroy that follows) has no reader; keep a listener so it is not thrown.
    this.#body.off('error', this.#onError)
    this.#body.on('error', () => {})
    this.#waiting = undefined
  }

  /** A settled promise when something is ready, null when the reader must wait. */
  #take(): Promise<BodyRead | undefined> | null {
    const read = this.#reads.shift()
    if (read !== undefined) return Promise.resolve(read)
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve(undefined)
    return null
  }

  readonly #onData = (bytes: Buffer) => {
    this.#reads.push({ bytes, atMs: wallNowMs() })
    this.#wake()
  }

  readonly #onEnd = () => {
    this.#ended = true
    this.#wake()
  }

  readonly #onError = (error: unknown) => {
    this.#error = error ?? new Error('the response body failed')
    this.#wake()
  }

  #wake(): void {
    if (this.#waiting === undefined || this.#wakeQueued) return
    this.#wakeQueued = true
    wakeSoon(() => {
      this.#wakeQueued = false
      const waiting = this.#waiting
      const ready = waiting && this.#take()
      if (!waiting || !ready) return
      this.#waiting = undefined
      ready.then(waiting.resolve, waiting.reject)
    })
  }
}
