/**
 * The http1 transport of the lean stream (client 'http1', the default): our own HTTP/1.1 client
 * (http1/agent.ts), which pushes each piece of the body from the socket read that parsed it, stamped then.
 * @module
 */
import type { BODY_END, BodyRead } from './body-queue.ts'
import type { Http1Agent, Http1Body, Http1Response } from './http1/agent.ts'
import type { StreamTransport, TransportResponse } from './openai-stream.ts'

export function http1Transport(agent: Http1Agent): StreamTransport {
  return {
    async post(path, headers, body, signal): Promise<TransportResponse> {
      return new Http1TransportResponse(await agent.request({ method: 'POST', path, headers, body, signal }))
    },
  }
}

class Http1TransportResponse implements TransportResponse {
  readonly statusCode: number
  readonly contentType: string | undefined
  readonly connectionRetries: number
  readonly #body: Http1Body

  constructor(response: Http1Response) {
    this.statusCode = response.statusCode
    this.contentType = response.headers['content-type']
    this.connectionRetries = response.connectionRetries
    this.#body = response.body
  }

  poll(): BodyRead | typeof BODY_END | undefined {
    return this.#body.poll()
  }

  notify(reader: () => void): void {
    this.#body.notify(reader)
  }

  text(): Promise<string> {
    return this.#body.text()
  }

  close(): void {
    this.#body.destroy()
  }
}
