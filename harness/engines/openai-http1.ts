/**
 * The http1 transport of the lean stream (client 'http1', the default): our own HTTP/1.1 client
 * (http1/agent.ts), which pushes each piece of the body from the socket read that parsed it, stamped then.
 * @module
 */
import type { Http1Agent, Http1Response } from './http1/agent.ts'
import type { StreamTransport, TransportResponse } from './openai-stream.ts'

export function http1Transport(agent: Http1Agent): StreamTransport {
  return {
    async post(path, headers, body, signal): Promise<TransportResponse> {
      return new Http1StreamResponse(await agent.request({ method: 'POST', path, headers, body, signal }))
    },
  }
}

class Http1StreamResponse implements TransportResponse {
  readonly statusCode: number
  readonly contentType: string | undefined
  readonly #response: Http1Response

  constructor(response: Http1Response) {
    this.#response = response
    this.statusCode = response.statusCode
    this.contentType = response.headers['content-type']
  }

  poll(): ReturnType<TransportResponse['poll']> {
    return this.#response.body.poll()
  }

  notify(reader: () => void): void {
    this.#response.body.notify(reader)
  }

  text(): Promise<string> {
    return this.#response.body.text()
  }

  close(): void {
    this.#response.body.destroy()
  }
}
