/**
 * A loopback OpenAI-compatible streaming server that closes its connection after every streamed response,
 * as llama-server does (FIN ~1 ms after the last chunk while its head says `Keep-Alive: timeout=5`). Raw
 * node:net, so the close is exactly what the test says: `fin` ends the socket `closeDelayMs` after the
 * response; a request that reaches a closing connection is never answered (the socket is reset, as a
 * closed socket's kernel does). Answers POSTs with a short completions/chat event stream with usage.
 */
import { type AddressInfo, createServer, type Socket } from 'node:net'

export interface ClosingServerOptions {
  /** Delay between the response's last byte and the FIN, ms. @default 1 */
  closeDelayMs?: number
  /** Content chunks per response. @default 4 */
  chunks?: number
  /** Close only after every `everyNth` response (1 = after each). @default 1 */
  everyNth?: number
}

export interface ClosingServer {
  url: string
  /** Connections accepted. */
  connections: number
  /** Requests answered. */
  answered: number
  /** Requests that reached a connection the server had decided to close, and were never answered. */
  lost: number
  /**
   * Of those, the generation requests (POST …/completions): what a run's per-request retries count. The rest
   * are the engine's own GET /models at start, on a kept-alive socket a previous test left in the pool.
   */
  lostGenerations: number
  close(): Promise<void>
}

export async function startClosingServer(options: ClosingServerOptions = {}): Promise<ClosingServer> {
  const closeDelayMs = options.closeDelayMs ?? 1
  const chunks = options.chunks ?? 4
  const everyNth = options.everyNth ?? 1
  const sockets = new Set<Socket>()
  const state = { connections: 0, answered: 0, lost: 0, lostGenerations: 0 }
  const server = createServer((socket) => {
    state.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = Buffer.alloc(0)
    let closing = false
    socket.on('data', (bytes: Buffer) => {
      if (closing) {
        state.lost++
        // The request line arrives whole in the first segment of a request this small.
        if (/^POST \S*\/completions /.test(bytes.toString('latin1', 0, 200))) state.lostGenerations++
        socket.resetAndDestroy()
        return
      }
      pending = Buffer.concat([pending, bytes])
      const end = pending.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = pending.subarray(0, end).toString('latin1')
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
      if (pending.length < end + 4 + length) return
      const body = pending.subarray(end + 4, end + 4 + length).toString()
      pending = pending.subarray(end + 4 + length)
      const path = head.split(' ')[1] ?? ''
      state.answered++
      respond(socket, path, body, chunks)
      if (state.answered % everyNth === 0) {
        closing = true
        setTimeout(() => socket.end(), closeDelayMs)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get connections() {
      return state.connections
    },
    get answered() {
      return state.answered
    },
    get lost() {
      return state.lost
    },
    get lostGenerations() {
      return state.lostGenerations
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

function respond(socket: Socket, path: string, body: string, chunks: number): void {
  if (!path.endsWith('/completions')) {
    const json = JSON.stringify({ object: 'list', data: [{ id: 'closing-model', object: 'model' }] })
    socket.write(
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
    )
    return
  }
  const chat = path.endsWith('/chat/completions')
  const sse = (data: string) => {
    const text = `data: ${data}\n\n`
    return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
  }
  const event = (payload: unknown) => sse(JSON.stringify(payload))
  const choice = (text: string, finish: string | null) =>
    chat
      ? { index: 0, delta: text === '' ? {} : { content: text }, finish_reason: finish }
      : { index: 0, text, finish_reason: finish }
  let out =
    'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nKeep-Alive: timeout=5, max=100\r\nTransfer-Encoding: chunked\r\n\r\n'
  for (let i = 0; i < chunks; i++) out += event({ choices: [choice('a', null)] })
  out += event({ choices: [choice('', 'length')] })
  const promptTokens = Math.max(1, Math.ceil(body.length / 4))
  out += event({ choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: chunks } })
  out += sse('[DONE]')
  out += '0\r\n\r\n'
  socket.write(out)
}
