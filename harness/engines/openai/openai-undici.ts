/**
 * The undici transport of the lean stream (client 'undici'): `Pool.request()` with the body read in
 * flowing mode, so undici emits each piece synchronously from the socket read that parsed it and the
 * listener only stamps and queues it (body-queue.ts).
 * @module
 */
import { Client, type Dispatcher, type Pool } from 'undici'
import { wallMs } from '../../clock.ts'
import { BodyQueue } from './body-queue.ts'
import { lostOnReusedConnection, markConnectionRetries } from './connection-retry.ts'
import type { StreamTransport, TransportResponse } from './openai-stream.ts'

/**
 * undici retries no POST by itself. A request lost to a kept-alive connection that the server closed
 * (llama-server sends FIN ~1 ms after each streamed response) is sent once more here, on a one-off
 * connection of its own (the pool's other idle connections may be closing the same way), as the http1
 * agent does (see Http1Agent.request for the rule).
 */
export function undiciTransport(pool: Pool, origin: string): StreamTransport {
  // Learned from a retry, as the http1 agent does: this server closes kept-alive connections under us, so
  // ask for a connection per request (undici's `reset`) rather than lose every other one.
  let serverCloses = false
  return {
    async post(path, headers, body, signal): Promise<TransportResponse> {
      const options: Dispatcher.RequestOptions = {
        path,
        method: 'POST',
        headers,
        body,
        signal,
        // The caller's signal (request.ts's timeout) bounds the whole request; undici's own idle timers would only add a
        // second, differently-worded timeout.
        headersTimeout: 0,
        bodyTimeout: 0,
        reset: serverCloses,
      }
      let response: Dispatcher.ResponseData
      try {
        response = await pool.request(options)
      } catch (error) {
        if (signal.aborted || !lostOnReusedConnection(error)) throw error
        serverCloses = true
        const fresh = new Client(origin, { pipelining: 1 })
        try {
          response = await fresh.request(options)
        } catch (retryError) {
          void fresh.destroy()
          markConnectionRetries(retryError, 1)
          throw retryError
        }
        return new UndiciResponse(response, 1, () => void fresh.close().catch(() => {}))
      }
      return new UndiciResponse(response, 0)
    },
  }
}

class UndiciResponse implements TransportResponse {
  readonly statusCode: number
  readonly contentType: string | undefined
  readonly #body: Dispatcher.ResponseData['body']
  /** Closes the one-off connection of a retried request once its body is done with. */
  readonly #release: (() => void) | undefined
  #queue: BodyQueue | undefined
  #ended = false

  constructor(
    response: Dispatcher.ResponseData,
    readonly connectionRetries: number,
    release?: () => void,
  ) {
    this.statusCode = response.statusCode
    const contentType = response.headers['content-type']
    this.contentType = typeof contentType === 'string' ? contentType : undefined
    this.#body = response.body
    this.#release = release
  }

  poll(): ReturnType<TransportResponse['poll']> {
    return this.#flowing().poll()
  }

  notify(reader: () => void): void {
    this.#flowing().notify(reader)
  }

  /** The queue the body flows into, set up on first use (text() reads the body its own way instead). */
  #flowing(): BodyQueue {
    if (this.#queue === undefined) {
      this.#queue = new BodyQueue()
      this.#body.on('data', this.#onData)
      this.#body.once('end', this.#onEnd)
      this.#body.once('error', this.#onError)
    }
    return this.#queue
  }

  async text(): Promise<string> {
    const text = await this.#body.text()
    this.#ended = true
    return text
  }

  close(): void {
    const body = this.#body
    if (this.#queue !== undefined) {
      this.#queue.stop()
      body.off('data', this.#onData)
      body.off('end', this.#onEnd)
      body.off('error', this.#onError)
    }
    // An error after the stop (the destroy that follows) has no reader; keep a listener so it is not thrown.
    body.on('error', () => {})
    if (!this.#ended) body.destroy()
    this.#release?.()
  }

  readonly #onData = (bytes: Buffer) => this.#queue!.push(bytes, 0, bytes.length, wallMs())

  readonly #onEnd = () => {
    this.#ended = true
    this.#queue!.end()
  }

  readonly #onError = (error: unknown) => this.#queue!.fail(error)
}
