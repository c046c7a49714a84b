/**
 * A raw TCP client for the personality tests: writes HTTP/1.1 requests by hand on one socket and records
 * every byte with its arrival time, and when the server's FIN (EOF) came, so a test can tell "the second
 * request got EOF before any response byte" from "it got an answer".
 * @module
 */
import net from 'node:net'

export interface RawConnection {
  socket: net.Socket
  /** Everything received so far, as text. */
  received(): string
  /** performance.now() of the EOF (server FIN), once seen. */
  readonly endedAtMs: number | undefined
  /** Resolves with performance.now() once `text` has arrived (checked on every read). */
  waitFor(text: string, fromIndex?: number): Promise<number>
  /** Resolves with performance.now() of the EOF. */
  ended(): Promise<number>
  close(): void
}

export async function connect(port: number): Promise<RawConnection> {
  // allowHalfOpen: after the server's FIN the test may still write (the request the server never reads).
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.setNoDelay(true)
  let text = ''
  let endedAtMs: number | undefined
  const waiters: (() => void)[] = []
  const wake = () => {
    for (const w of waiters.splice(0)) w()
  }
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    text += chunk
    wake()
  })
  socket.on('end', () => {
    endedAtMs = performance.now()
    wake()
  })
  socket.on('error', wake) // ECONNRESET also ends the wait; the assertions say what happened
  const until = (done: () => number | Error | undefined): Promise<number> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const at = done()
        if (at instanceof Error) reject(at)
        else if (at !== undefined) resolve(at)
        else if (socket.destroyed && endedAtMs === undefined) reject(new Error('socket closed without EOF'))
        else waiters.push(check)
      }
      check()
    })
  return {
    socket,
    received: () => text,
    get endedAtMs() {
      return endedAtMs
    },
    waitFor: (needle, fromIndex = 0) =>
      until(() => {
        if (text.indexOf(needle, fromIndex) >= 0) return performance.now()
        if (endedAtMs !== undefined) return new Error(`EOF before "${needle}"; received:\n${text}`)
        return undefined
      }),
    ended: () => until(() => endedAtMs),
    close: () => socket.destroy(),
  }
}

/** One POST request as bytes on the wire. */
export function postRequest(path: string, body: unknown): string {
  const json = JSON.stringify(body)
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`
  )
}

export function getRequest(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`
}

/** The end of a chunked body (the terminating zero-length chunk). */
export const CHUNKED_END = '\r\n0\r\n\r\n'
