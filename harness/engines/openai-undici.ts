/**
 * The undici transport of the lean stream (client 'undici'): `Pool.request()` with the body read in
 * flowing mode, so undici emits each piece synchronously from the socket read that parsed it and the
 * listener only stamps and queues it (body-queue.ts).
 * @module
 */
import type { Dispatcher, Pool } from 'undici'
import { BodyQueue, wallNowMs } from './body-queue.ts'
import type { StreamTransport, TransportResponse } from './openai-stream.ts'

export function undiciTransport(pool: Pool): StreamTransport {
  return {
    async post(path, headers, body, signal): Promise<TransportResponse> {
      const response = await pool.request({
        path,
        method: 'POST',
        headers,
        body,
        signal,
        // The request scope's timer bounds the whole request; undici's own idle timers would only add a
        // second, differently-worded timeout.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      const contentType = response.headers['content-type']
      return new UndiciResponse(response, typeof contentType === 'string' ? contentType : undefined)
    },
  }
}

class UndiciResponse implements TransportResponse {
  readonly statusCode: number
  readonly #body: Dispatcher.ResponseData['body']
  #queue: BodyQueue | undefined
  #ended = false

  constructor(
    response: Dispatcher.ResponseData,
    readonly contentType: string | undefined,
  ) {
    this.statusCode = response.statusCode
    this.#body = response.body
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
  }

  readonly #onData = (bytes: Buffer) => this.#queue!.push(bytes, wallNowMs())

  readonly #onEnd = () => {
    this.#ended = true
    this.#queue!.end()
  }

  readonly #onError = (error: unknown) => this.#queue!.fail(error)
}
