/**
 * The http1 transport of the lean stream (client 'http1', the default): our own HTTP/1.1 client
 * (http1/agent.ts), which pushes each piece of the body from the socket read that parsed it, stamped then.
 * @module
 */
import type { Http1Agent } from './http1/agent.ts'
import type { StreamTransport, TransportResponse } from './openai-stream.ts'

export function http1Transport(agent: Http1Agent): StreamTransport {
  return {
    async post(path, headers, body, signal): Promise<TransportResponse> {
      const response = await agent.request({ method: 'POST', path, headers, body, signal })
      const { poll, notify, text, destroy } = response.body
      return {
        statusCode: response.statusCode,
        connectionRetries: response.connectionRetries,
        contentType: response.headers['content-type'],
        poll,
        notify,
        text,
        close: destroy,
      }
    },
  }
}
