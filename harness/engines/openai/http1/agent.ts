/**
 * A minimal HTTP/1.1 client for one origin: keep-alive connections over node:net / node:tls, one request
 * at a time per connection, response bodies pushed into a BodyQueue stamped at the socket read.
 *
 * Why not undici: at hundreds of concurrent streams each SSE chunk is one socket read, and undici spends
 * per read a copy into its WebAssembly parser, callbacks out of it, a Readable stream push and ~3.7 KB of
 * garbage (test/bench/client.ts; ENVIRONMENT.md). Here a read costs a scan of the chunk framing and a
 * `subarray`. Only what an OpenAI-compatible endpoint needs is supported: GET/POST with a string body,
 * no redirects, no compression, no proxies, no HTTP/2 (TLS offers ALPN http/1.1 only).
 * @module
 */
import { isIP, connect as netConnect, type Socket } from 'node:net'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'
import { wallMs } from '../../../clock.ts'
import { type BODY_END, BodyQueue, type BodyRead } from '../body-queue.ts'
import { CLOSED_BY_PEER_CODES, markConnectionRetries } from '../connection-retry.ts'
import { HttpParseError, type ResponseHandler, type ResponseHead, ResponseParser } from './response-parser.ts'

export interface Http1AgentOptions {
  /** Connections open at once at most; further requests wait for one to be free. @default 1024 */
  maxConnections?: number
  /** How long an idle connection is kept for reuse, ms (shortened to a server's `Keep-Alive: timeout` minus 1 s). @default 4000 */
  keepAliveMs?: number
  /** Bound on establishing a connection (TCP and TLS), ms. @default 10000 */
  connectTimeoutMs?: number
  /** Extra options for https origins (ca, rejectUnauthorized …). */
  tls?: ConnectionOptions
}

/** What the agent needs of an abort signal: AbortSource (openai-scope.ts) or any EventEmitter alike. */
export interface AbortLike {
  readonly aborted: boolean
  readonly reason: unknown
  once(event: 'abort', listener: () => void): unknown
  off(event: 'abort', listener: () => void): unknown
}

export interface Http1Request {
  method: 'GET' | 'POST'
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string
  /** Field names in lower case. Host and Content-Length are the agent's. */
  headers: Record<string, string>
  body?: string
  signal?: AbortLike
}

export interface Http1Response extends ResponseHead {
  body: Http1Body
  /** Times the request was sent again on a fresh connection (see Http1Agent.request); 0 or 1. */
  connectionRetries: number
}

export interface Http1Body {
  /** The next piece of the body (`bytes` exactly the piece), undefined at its end. */
  read(): Promise<BodyRead | undefined>
  /**
   * The next piece if one is there (BODY_END at the end), an object refilled by the next call; throws the
   * connection's error. See BodyQueue.
   */
  poll(): BodyRead | typeof BODY_END | undefined
  /** Calls `reader` once, after the event loop's poll phase, when poll() has something new. */
  notify(reader: () => void): void
  text(): Promise<string>
  /** The reader is done: a body not yet complete closes its connection (it cannot be reused). */
  destroy(): void
}

/** The connection failed or ended around a request (the message says which; `code` as Node's when given). */
export class Http1Error extends Error {
  override readonly name = 'Http1Error'
}

const DEFAULT_HTTP1_MAX_CONNECTIONS = 1024
const DEFAULT_KEEP_ALIVE_MS = 4_000
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BAD_VALUE = /[\r\n\0]/
const BAD_PATH = /[\s\0]/
const KEEP_ALIVE_TIMEOUT = /(?:^|,)\s*timeout=(\d+)/i
/** An idle connection the server closes sooner than this after its response was closed on purpose. ms. */
const QUICK_CLOSE_MS = 100

export class Http1Agent {
  readonly #origin: URL
  readonly #maxConnections: number
  readonly #keepAliveMs: number
  readonly #connectTimeoutMs: number
  readonly #tls: ConnectionOptions | undefined
  readonly #live = new Set<Connection>()
  readonly #idle: Connection[] = []
  readonly #waiting: Exchange[] = []
  #destroyed = false
  /**
   * The server closes connections right after a response although its head says keep-alive (llama-server
   * after every streamed response): learned from a retry or an idle connection closed within
   * QUICK_CLOSE_MS of its response. From then on a finished connection is closed rather than kept, so
   * later requests open a fresh one at once instead of each paying for a lost attempt and its retry.
   */
  #serverCloses = false

  constructor(origin: string | URL, options: Http1AgentOptions = {}) {
    const url = new URL(origin)
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Http1Error(`${url.protocol} URLs are not supported by the http1 client; use http: or https:`)
    this.#origin = url
    this.#maxConnections = options.maxConnections ?? DEFAULT_HTTP1_MAX_CONNECTIONS
    if (!Number.isInteger(this.#maxConnections) || this.#maxConnections < 1)
      throw new Http1Error(`maxConnections must be a whole number ≥ 1, got ${this.#maxConnections}`)
    this.#keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    this.#tls = url.protocol === 'https:' ? (options.tls ?? {}) : undefined
  }

  /** Connections open now, busy and idle. */
  get connections(): number {
    return this.#live.size
  }

  /**
   * Sends the request; resolves when the response head has arrived.
   *
   * A request sent on a *reused* connection that fails before any byte of its response arrives (EOF,
   * ECONNRESET, EPIPE) is sent once more on a fresh connection, as Go's net/http and curl do: a server may
   * close a kept-alive connection at any moment — llama-server sends FIN ~1 ms after every streamed response
   * while advertising `Keep-Alive: timeout=5` — and a request written in that window never reached it. A
   * fresh connection is not retried (the server saw the request and failed it), nor is anything after the
   * first response byte. The retry is counted (`connectionRetries`), and its time stays in the caller's TTFT.
   */
  request(request: Http1Request): Promise<Http1Response> {
    const signal = request.signal
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#destroyed) return Promise.reject(new Http1Error('the client is closed'))
    let payload: string
    try {
      payload = this.#head(request)
    } catch (error) {
      return Promise.reject(error)
    }
    if (request.body !== undefined) payload += request.body
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(payload, resolve, reject, signal)
      let idle = this.#idle.pop()
      // Closed while idle (its timer, a zero Keep-Alive hint, the server's FIN) but listed until the socket's
      // 'close' event, which comes after the reader's wakeup: writing to it would fail the request.
      while (idle?.closed) idle = this.#idle.pop()
      if (idle !== undefined) idle.run(exchange)
      else if (this.#live.size < this.#maxConnections) this.#connect(exchange)
      else {
        this.#waiting.push(exchange)
        exchange.onCancel = () => {
          const index = this.#waiting.indexOf(exchange)
          if (index >= 0) this.#waiting.splice(index, 1)
        }
      }
    })
  }

  /** Closes every connection; requests in flight fail. */
  async destroy(): Promise<void> {
    this.#destroyed = true
    for (const exchange of this.#waiting.splice(0)) exchange.fail(new Http1Error('the client is closed'))
    for (const connection of [...this.#live]) connection.close(new Http1Error('the client is closed'))
    this.#idle.length = 0
  }

  #head(request: Http1Request): string {
    // A path from a parsed URL never has these; a hand-made one could split the request line.
    if (!request.path.startsWith('/') || BAD_PATH.test(request.path))
      throw new Http1Error(
        `invalid request path ${JSON.stringify(request.path)}: it must start with / and have no spaces or line breaks`,
      )
    let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${this.#origin.host}\r\n`
    for (const name in request.headers) {
      const value = request.headers[name]!
      if (!FIELD_NAME.test(name)) throw new Http1Error(`invalid header name ${JSON.stringify(name)}`)
      if (BAD_VALUE.test(value))
        throw new Http1Error(`header ${name} contains a line break or NUL; remove it from the value`)
      head += `${name}: ${value}\r\n`
    }
    if (request.body !== undefined) head += `content-length: ${Buffer.byteLength(request.body)}\r\n`
    return `${head}\r\n`
  }

  #connect(exchange: Exchange): void {
    const tls = this.#tls
    const port = Number(this.#origin.port) || (tls === undefined ? 80 : 443)
    const host = this.#origin.hostname.replace(/^\[|\]$/g, '')
    const socket =
      tls === undefined
        ? netConnect({ host, port, noDelay: true })
        : tlsConnect({
            host,
            port,
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ALPNProtocols: ['http/1.1'],
            ...tls,
          })
    const connection: Connection = new Connection(socket, this.#keepAliveMs, {
      released: (reusable) => this.#released(connection, reusable),
      closed: () => this.#closed(connection),
      retry: (retried) => this.#retry(retried),
      closedSoonAfterResponse: () => {
        this.#serverCloses = true
      },
    })
    this.#live.add(connection)
    connection.connect(exchange, tls !== undefined, this.#connectTimeoutMs)
  }

  /** The connection's exchange completed. */
  #released(connection: Connection, reusable: boolean): void {
    if (!reusable || this.#destroyed || this.#serverCloses) {
      connection.close()
      return
    }
    const next = this.#waiting.shift()
    if (next !== undefined) connection.run(next)
    else {
      this.#idle.push(connection)
      connection.idle()
    }
  }

  /** A request lost to a closing reused connection: once more, on a connection of its own. */
  #retry(exchange: Exchange): void {
    this.#serverCloses = true
    if (this.#destroyed) {
      exchange.fail(new Http1Error('the client is closed'))
      return
    }
    // Not through the idle list (its other connections may be closing the same way) nor the waiting list
    // (the lost connection's slot is being freed right now; the pool is over its bound by one at most,
    // until that socket's close event).
    this.#connect(exchange)
  }

  #closed(connection: Connection): void {
    this.#live.delete(connection)
    const index = this.#idle.indexOf(connection)
    if (index >= 0) this.#idle.splice(index, 1)
    // Its slot is free: a waiting request opens a connection of its own.
    const next = this.#waiting.shift()
    if (next !== undefined) this.#connect(next)
  }
}

/** One request and its response, from queued to complete or failed. */
class Exchange {
  readonly payload: string
  readonly #resolve: (response: Http1Response) => void
  readonly #reject: (error: unknown) => void
  readonly #signal: AbortLike | undefined
  readonly #queue = new BodyQueue()
  #headArrived = false
  finished = false
  /** Times this request was resent on a fresh connection. */
  connectionRetries = 0
  connection: Connection | undefined
  /** Takes the exchange off the agent's waiting list. */
  onCancel: (() => void) | undefined

  constructor(
    payload: string,
    resolve: (response: Http1Response) => void,
    reject: (error: unknown) => void,
    signal: AbortLike | undefined,
  ) {
    this.payload = payload
    this.#resolve = resolve
    this.#reject = reject
    this.#signal = signal
    signal?.once('abort', this.#onAbort)
  }

  readonly #onAbort = () => this.fail(this.#signal!.reason)

  head(head: ResponseHead): void {
    this.#headArrived = true
    this.#resolve({
      statusCode: head.statusCode,
      headers: head.headers,
      keepAlive: head.keepAlive,
      connectionRetries: this.connectionRetries,
      body: new ExchangeBody(this, this.#queue),
    })
  }

  body(bytes: Buffer, start: number, end: number, atMs: number): void {
    this.#queue.push(bytes, start, end, atMs)
  }

  complete(): void {
    if (this.finished) return
    this.finished = true
    this.#signal?.off('abort', this.#onAbort)
    this.#queue.end()
  }

  /** Ends the exchange with `error`; its connection (if any) cannot be reused. */
  fail(error: unknown): void {
    if (this.finished) return
    this.finished = true
    this.#signal?.off('abort', this.#onAbort)
    this.onCancel?.()
    markConnectionRetries(error, this.connectionRetries)
    if (this.#headArrived) this.#queue.fail(error)
    else this.#reject(error)
    this.connection?.close()
  }
}

/** Http1Body of one exchange: methods on a class rather than a closure each per request. */
class ExchangeBody implements Http1Body {
  readonly #exchange: Exchange
  readonly #queue: BodyQueue

  constructor(exchange: Exchange, queue: BodyQueue) {
    this.#exchange = exchange
    this.#queue = queue
  }

  read(): Promise<BodyRead | undefined> {
    return this.#queue.read()
  }

  poll(): BodyRead | typeof BODY_END | undefined {
    return this.#queue.poll()
  }

  notify(reader: () => void): void {
    this.#queue.notify(reader)
  }

  text(): Promise<string> {
    return this.#queue.text()
  }

  destroy(): void {
    this.#queue.stop()
    if (!this.#exchange.finished) this.#exchange.fail(new Http1Error('the body was abandoned'))
  }
}

interface ConnectionEvents {
  /** The exchange completed; `reusable`: the connection may carry another request. */
  released(reusable: boolean): void
  /** The socket is gone. */
  closed(): void
  /** The exchange never reached the server (a reused connection closed under it): send it again. */
  retry(exchange: Exchange): void
  /** The server closed the connection while idle, within QUICK_CLOSE_MS of its last response. */
  closedSoonAfterResponse(): void
}

/** One socket and the exchanges it carries in turn; it is its parser's handler (one parser, reset per exchange). */
class Connection implements ResponseHandler {
  readonly #socket: Socket
  readonly #events: ConnectionEvents
  #keepAliveMs: number
  #exchange: Exchange | undefined
  readonly #parser = new ResponseParser(this)
  /** When the current read arrived (wall-aligned ms); a double field, refilled in place per read. */
  #readAtMs = 0.5
  #reusable = false
  /** Exchanges this connection completed: a later one is on a reused connection. */
  #served = 0
  /** A byte of the current exchange's response has arrived. */
  #answered = false
  #idleTimer: NodeJS.Timeout | undefined
  /** performance.now() when the connection last became idle. */
  #idleSinceMs = 0
  #closed = false

  constructor(socket: Socket, keepAliveMs: number, events: ConnectionEvents) {
    this.#socket = socket
    this.#keepAliveMs = keepAliveMs
    this.#events = events
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
  }

  /** close() was called or the socket is gone. */
  get closed(): boolean {
    return this.#closed
  }

  connect(exchange: Exchange, tls: boolean, timeoutMs: number): void {
    this.#attach(exchange)
    const timer = setTimeout(() => {
      this.#fail(new Http1Error(`could not connect within ${timeoutMs} ms (connect timeout)`))
    }, timeoutMs)
    this.#socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      if (tls) this.#socket.setNoDelay(true)
      if (this.#exchange !== undefined) this.#socket.write(this.#exchange.payload)
    })
    this.#socket.once('close', () => clearTimeout(timer))
  }

  run(exchange: Exchange): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    this.#socket.ref()
    this.#attach(exchange)
    this.#socket.write(exchange.payload)
  }

  idle(): void {
    // An idle connection does not keep the process alive (as Node's own agent).
    this.#socket.unref()
    this.#idleSinceMs = performance.now()
    if (this.#keepAliveMs <= 0) this.close()
    else this.#idleTimer = setTimeout(() => this.close(), this.#keepAliveMs).unref()
  }

  /** Closes the socket; a request still on it fails with `reason` (else with "the connection closed"). */
  close(reason?: Error): void {
    if (this.#closed) return
    this.#closed = true
    if (reason !== undefined) this.#exchange?.fail(reason)
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer)
    this.#socket.destroy()
  }

  #attach(exchange: Exchange): void {
    this.#exchange = exchange
    exchange.connection = this
    this.#reusable = false
    this.#answered = false
    this.#parser.reset()
  }

  onHead(head: ResponseHead): void {
    this.#reusable = head.keepAlive
    const hint = KEEP_ALIVE_TIMEOUT.exec(head.headers['keep-alive'] ?? '')
    // The server closes at its timeout; leave a second's margin so a request never meets that close.
    if (hint !== null) this.#keepAliveMs = Math.min(this.#keepAliveMs, Number(hint[1]) * 1000 - 1000)
    this.#exchange?.head(head)
  }

  onBody(bytes: Buffer, start: number, end: number): void {
    this.#exchange?.body(bytes, start, end, this.#readAtMs)
  }

  onComplete(): void {}

  /** Ends the current exchange with `error` and the connection with it. */
  #fail(error: unknown): void {
    const exchange = this.#exchange
    this.#exchange = undefined
    exchange?.fail(error)
    this.close()
  }

  /**
   * The connection is gone under the current exchange. Sends the exchange again when it was lost rather
   * than failed (see Http1Agent.request) and returns true; false when the caller must fail it.
   */
  #retryLost(): boolean {
    const exchange = this.#exchange
    if (
      exchange === undefined ||
      exchange.finished ||
      exchange.connectionRetries > 0 ||
      this.#served === 0 ||
      this.#answered
    )
      return false
    this.#exchange = undefined
    exchange.connection = undefined
    exchange.connectionRetries++
    this.close()
    this.#events.retry(exchange)
    return true
  }

  /** The exchange's response is complete. */
  #finish(reusable: boolean): void {
    const exchange = this.#exchange!
    this.#exchange = undefined
    this.#served++
    exchange.connection = undefined
    exchange.complete()
    this.#events.released(reusable && !this.#closed)
  }

  readonly #onData = (bytes: Buffer) => {
    this.#readAtMs = wallMs()
    this.#answered = true
    const parser = this.#parser
    if (this.#exchange === undefined) {
      // Bytes nobody asked for: the connection's state is unknown.
      this.close()
      return
    }
    try {
      const used = parser.push(bytes)
      if (parser.done) this.#finish(this.#reusable && used === bytes.length)
    } catch (error) {
      this.#fail(error)
    }
  }

  readonly #onEnd = () => {
    if (this.#retryLost()) return
    if (this.#exchange === undefined && performance.now() - this.#idleSinceMs < QUICK_CLOSE_MS)
      this.#events.closedSoonAfterResponse()
    const parser = this.#parser
    if (this.#exchange !== undefined) {
      try {
        parser.end()
        if (parser.done) this.#finish(false)
      } catch (error) {
        this.#fail(error)
      }
    }
    this.close()
  }

  readonly #onError = (error: Error) => {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== undefined && CLOSED_BY_PEER_CODES.has(code) && this.#retryLost()) return
    this.#fail(error)
  }

  readonly #onClose = () => {
    // Closed without an 'end' or 'error' first (e.g. the socket was reset while the request was written).
    if (!this.#closed && this.#retryLost()) return
    this.#closed = true
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer)
    this.#fail(new Http1Error('the connection closed'))
    this.#events.closed()
  }
}

export { HttpParseError }
