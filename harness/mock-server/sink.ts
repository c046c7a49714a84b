/**
 * Where a generation writes its bytes. Under @hono/node-server it writes straight to the Node socket
 * (no ReadableStream hop, so a chunk is with the kernel when the scheduler says so); under `app.request()`
 * or another runtime it feeds a ReadableStream. Classes, not closures: tsx/esbuild's keepNames makes every
 * closure created per request cost a defineProperty, which showed up in profiles at 256 streams.
 * @module
 */
import type { ServerResponse } from 'node:http'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { finAfterResponse } from './connections.ts'

export interface ResponseSink {
  /**
   * Status line and headers. `streaming`: the body follows in pieces (SSE); `firstData` goes out in the
   * same write as the headers.
   */
  start(status: number, headers: Record<string, string>, streaming: boolean, firstData?: string): void
  /** false when the client is not keeping up: wait for onDrain before writing more. */
  write(data: string): boolean
  /** Writes `data` (if any) and finishes the response, in one write. */
  end(data?: string): void
  /** Drops the connection without finishing the response, once `lastData` (if any) has been sent. */
  destroy(lastData?: string): void
  /** Called once when the client goes away or the response ends. */
  onClose(listener: () => void): void
  onDrain(listener: () => void): void
  /** What the route handler returns. */
  readonly response: Response | Promise<Response>
}

const ignoreError = () => {}

/**
 * A streamed body goes to the socket as ready-made HTTP/1.1 chunks (`size CRLF data CRLF`), one
 * socket.write each. Why not res.write(): it corks the socket until the next tick, so every chunk written
 * in one scheduler pass would leave together at its end (milliseconds late at 256 streams), and its
 * four-buffer writev cost ~2.7 µs more per chunk (measured 15.8 vs 13.1 µs of mock CPU per chunk).
 */
export class NodeSink implements ResponseSink {
  readonly response = RESPONSE_ALREADY_SENT
  readonly #res: ServerResponse
  readonly #finAfterStream: boolean
  /** Chunked framing is ours to write (HTTP/1.1 and Node chose chunked encoding). */
  #framing = false
  #streaming = false

  /** `finAfterStream`: end the connection after a streamed response (llama-server personality). */
  constructor(res: ServerResponse, finAfterStream = false) {
    this.#res = res
    this.#finAfterStream = finAfterStream
    // A write racing a client disconnect must not become an uncaught 'error' event.
    res.on('error', ignoreError)
  }

  start(status: number, headers: Record<string, string>, streaming: boolean, firstData?: string): void {
    const res = this.#res
    res.writeHead(status, headers)
    this.#streaming = streaming
    this.#framing = streaming && res.chunkedEncoding
    // res.write sends headers and data in one writev; later raw chunks queue behind it in order.
    if (firstData !== undefined) res.write(firstData)
    else if (streaming) res.flushHeaders()
    this.#uncork()
  }

  write(data: string): boolean {
    if (!this.#framing) return this.#res.write(data)
    const socket = this.#res.socket
    if (socket === null || socket.destroyed) return false
    return socket.write(`${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`)
  }

  end(data?: string): void {
    const res = this.#res
    if (this.#finAfterStream && this.#streaming) finAfterResponse(res)
    if (data === undefined) res.end()
    else if (!this.#framing) res.end(data)
    else {
      // One writev for the last chunk and the terminating chunk that res.end() adds.
      const socket = res.socket
      socket?.cork()
      this.write(data)
      res.end()
      socket?.uncork()
    }
  }

  destroy(lastData?: string): void {
    const res = this.#res
    const socket = res.socket
    if (lastData === undefined || socket === null || socket.destroyed) {
      res.destroy()
      return
    }
    // destroy() discards what is still queued: let the last data reach the socket first.
    if (this.#framing)
      socket.write(`${Buffer.byteLength(lastData).toString(16)}\r\n${lastData}\r\n`, () => res.destroy())
    else {
      res.write(lastData, () => res.destroy())
      this.#uncork()
    }
  }

  onClose(listener: () => void): void {
    this.#res.once('close', listener)
  }

  onDrain(listener: () => void): void {
    const socket = this.#res.socket
    if (this.#framing && socket !== null) socket.once('drain', listener)
    else this.#res.once('drain', listener)
  }

  /** res.write() corks the socket until the next tick; send now instead. */
  #uncork(): void {
    const socket = this.#res.socket
    if (socket?.writableCorked) socket.uncork()
  }
}

const encoder = new TextEncoder()
const dropped = () => new Error('connection dropped by the mock server (injected fault)')

/** For `app.request()` and non-Node runtimes; closes on `signal` abort or when the body is cancelled. */
export class WebSink implements ResponseSink {
  readonly response: Promise<Response>
  readonly #body: ReadableStream<Uint8Array>
  #controller!: ReadableStreamDefaultController<Uint8Array>
  #resolve!: (response: Response) => void
  #started = false
  #done = false
  /** Set by destroy(lastData): error the body once the consumer has read what was queued. */
  #errorOnPull = false
  readonly #closeListeners: (() => void)[] = []

  constructor(signal: AbortSignal) {
    this.#body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c
      },
      pull: (c) => {
        if (this.#errorOnPull) c.error(dropped())
      },
      cancel: () => this.#closed(),
    })
    this.response = new Promise<Response>((resolve) => {
      this.#resolve = resolve
    })
    signal.addEventListener('abort', () => this.#closed(), { once: true })
  }

  start(status: number, headers: Record<string, string>, _streaming: boolean, firstData?: string): void {
    this.#started = true
    this.#resolve(new Response(this.#body, { status, headers }))
    if (firstData !== undefined) this.write(firstData)
  }

  write(data: string): boolean {
    if (!this.#done) this.#controller.enqueue(encoder.encode(data))
    return true
  }

  end(data?: string): void {
    if (this.#done) return
    if (data !== undefined) this.#controller.enqueue(encoder.encode(data))
    this.#controller.close()
    this.#closed()
  }

  destroy(lastData?: string): void {
    if (!this.#started) this.start(200, {}, false)
    if (!this.#done) {
      // error() would discard queued chunks; with lastData the error waits for the next pull.
      if (lastData === undefined) this.#controller.error(dropped())
      else {
        this.#controller.enqueue(encoder.encode(lastData))
        this.#errorOnPull = true
      }
    }
    this.#closed()
  }

  onClose(listener: () => void): void {
    if (this.#done) listener()
    else this.#closeListeners.push(listener)
  }

  onDrain(_listener: () => void): void {}

  #closed(): void {
    if (this.#done) return
    this.#done = true
    for (const listener of this.#closeListeners.splice(0)) listener()
  }
}
