/**
 * What each personality does with the TCP connection (Node server only; `app.request()` has none).
 *
 * - llama-server (cpp-httplib): every response advertises `Keep-Alive: timeout=5, max=100`
 *   (CPPHTTPLIB_KEEPALIVE_TIMEOUT_SECOND / _MAX_COUNT), yet a *streamed* response ends the connection:
 *   tools/server/server-http.cpp's chunked content provider returns `has_next` = false after `sink.done()`,
 *   cpp-httplib's `write_content_chunked` takes that false as Canceled, `process_request` returns false and
 *   the keep-alive loop breaks into `drain_and_close_socket` (shutdown(SHUT_WR) = FIN, then it reads and
 *   discards whatever the client still sends for up to 100 ms, then close). A request the client writes
 *   on that connection is never answered: the client sees EOF before any response byte. Non-streamed
 *   responses keep the connection; error statuses (≥ 400) are sent with `Connection: close`.
 * - vllm (uvicorn): no Keep-Alive header; an idle connection is closed `timeout_keep_alive` = 5 s after its
 *   last response (httptools_impl.py `on_response_complete` arms `call_later(timeout_keep_alive,
 *   timeout_keep_alive_handler)`, cancelled when the next request arrives; vLLM passes
 *   VLLM_HTTP_TIMEOUT_KEEP_ALIVE, default 5); responses carry `server: uvicorn`.
 * - default: Node's own keep-alive (5 s idle, `Keep-Alive: timeout=5`).
 * @module
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Personality } from './options.ts'

/**
 * Delay between a streamed response's last byte and llama-server's FIN: the time its HTTP thread takes to
 * leave the content provider and shut the socket (~1 ms measured on a real llama-server). It is what lets a
 * client reuse the connection before it sees the FIN.
 */
export const LLAMA_FIN_DELAY_MS = 1
/** cpp-httplib drain_and_close_socket: incoming bytes are read and dropped for this long after the FIN. */
export const LLAMA_DRAIN_MS = 100
/** cpp-httplib's keep-alive: idle timeout (s) and requests per connection, both sent in `Keep-Alive`. */
export const LLAMA_KEEP_ALIVE_S = 5
export const LLAMA_MAX_REQUESTS = 100
/** uvicorn's `timeout_keep_alive` default, which vLLM keeps (VLLM_HTTP_TIMEOUT_KEEP_ALIVE=5). */
export const UVICORN_KEEP_ALIVE_MS = 5000

/** Connections that llama-server is closing: requests read from them are not answered. */
const closing = new WeakSet<Socket>()

/** llama-server: once `res` is flushed, FIN after LLAMA_FIN_DELAY_MS; the socket is destroyed LLAMA_DRAIN_MS later. */
export function finAfterResponse(res: ServerResponse): void {
  const socket = res.socket
  if (socket === null || socket.destroyed) return
  closing.add(socket)
  res.once('finish', () => {
    setTimeout(() => {
      socket.end()
      setTimeout(() => socket.destroy(), LLAMA_DRAIN_MS).unref()
    }, LLAMA_FIN_DELAY_MS)
  })
}

/** Wraps the app's request listener with the personality's connection handling (before any request). */
export function connectionListener(personality: Personality, listener: RequestListener): RequestListener {
  switch (personality) {
    case 'default':
      return listener
    case 'llama-server': {
      // cpp-httplib serves one request per connection at a time and reads the next only after the
      // response; Node parses pipelined requests at once, so later ones wait here for their turn.
      const waiting = new WeakMap<Socket, (() => void)[]>()
      return (req, res) => {
        const socket = req.socket
        const next = () => {
          const queue = waiting.get(socket)
          const serve = queue?.shift()
          if (serve !== undefined) serve()
          else waiting.delete(socket)
        }
        const serve = () => {
          // Read after the FIN was decided: drained, never answered (the client sees EOF, no byte).
          if (closing.has(socket)) return
          res.once('close', next)
          listener(req, res)
        }
        const queue = waiting.get(socket)
        if (queue !== undefined) queue.push(serve)
        else {
          waiting.set(socket, [])
          serve()
        }
      }
    }
    case 'vllm': {
      const inFlight = new WeakMap<Socket, number>()
      const idle = new WeakMap<Socket, NodeJS.Timeout>()
      return (req: IncomingMessage, res: ServerResponse) => {
        const socket = req.socket
        clearTimeout(idle.get(socket))
        inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1)
        res.setHeader('server', 'uvicorn')
        res.once('close', () => {
          const n = (inFlight.get(socket) ?? 1) - 1
          inFlight.set(socket, n)
          if (n === 0 && !socket.destroyed)
            idle.set(socket, setTimeout(() => socket.end(), UVICORN_KEEP_ALIVE_MS).unref())
        })
        listener(req, res)
      }
    }
    default: {
      const never: never = personality
      throw new Error(`unknown personality ${String(never)}`)
    }
  }
}

/** Server-wide keep-alive settings of the personality; call before listen(). */
export function configureServer(server: Server, personality: Personality): void {
  switch (personality) {
    case 'default':
      return
    case 'llama-server':
      // Node then sends `Keep-Alive: timeout=5, max=100`, closes idle connections after 5 s and ends the
      // 100th response of a connection with `Connection: close`, as cpp-httplib does.
      server.keepAliveTimeout = LLAMA_KEEP_ALIVE_S * 1000
      server.maxRequestsPerSocket = LLAMA_MAX_REQUESTS
      return
    case 'vllm':
      // uvicorn sends no Keep-Alive header: Node's own timer (and header) off, connectionListener's on.
      server.keepAliveTimeout = 0
      return
    default: {
      const never: never = personality
      throw new Error(`unknown personality ${String(never)}`)
    }
  }
}
