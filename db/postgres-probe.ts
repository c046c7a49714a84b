/**
 * Before postgres.js is given a URL: is it a postgres:// URL, and does a PostgreSQL server answer there?
 * postgres.js reconnects at once, without end, when a connection closes during its start-up — an HTTP
 * listener answers the startup message with a 400 and closes, and the probe that found this counted 13,542
 * connections in 20 s — and its connect_timeout bounds one attempt only. So one probe connection first
 * sends an SSLRequest, to which every PostgreSQL server (and pooler) answers with one byte, `S` or `N`,
 * within PROBE_TIMEOUT_MS; anything else is a clear error naming where the URL came from.
 * @module
 */
import { connect, type Socket } from 'node:net'
import postgres from 'postgres'
import { DatabaseError } from './database-error.ts'

/** How long the probe waits for the TCP connection and the server's one-byte answer. ms. */
const PROBE_TIMEOUT_MS = 5_000
/** postgres.js connect_timeout of every later connection (TCP connect to ReadyForQuery). s. */
export const CONNECT_TIMEOUT_S = 10

/** SSLRequest: length 8, code 80877103 (PostgreSQL protocol, "SSL Session Encryption"). */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/** Where a URL came from, for messages: `DATABASE_URL` or `--db`. */
export type UrlSource = 'DATABASE_URL' | '--db'

/** The URL without its password, for messages and `Database.location`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres (unparsable URL)'
  }
}

/** Throws unless `url` is a postgres:// or postgresql:// URL that postgres.js can parse. */
export function checkPostgresUrl(url: string, source: UrlSource): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]
  const fix =
    source === 'DATABASE_URL'
      ? 'set DATABASE_URL to postgres://user:password@host:port/database, or unset it to use the embedded database'
      : 'pass --db a postgres://user:password@host:port/database URL or a directory'
  if (scheme === undefined || !/^postgres(ql)?$/i.test(scheme))
    throw new DatabaseError(
      `${source} is not a PostgreSQL URL (${scheme ? `scheme ${scheme}://` : 'no scheme'}): ${fix}`,
    )
  try {
    // postgres.js's own parser: it also takes what WHATWG URL does not (several hosts: h1:5432,h2:5433).
    postgres(url)
  } catch {
    throw new DatabaseError(`${source} is not a valid URL (${redactUrl(url)}): ${fix}`)
  }
}

/**
 * One connection to where postgres.js would connect first (unix socket or host:port); resolves when a
 * PostgreSQL server answered the SSLRequest, throws a DatabaseError otherwise (refused, no answer, or
 * an answer that is not PostgreSQL).
 */
export async function probePostgres(
  url: string,
  source: UrlSource,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<void> {
  const options = postgres(url).options as unknown as {
    host: string[]
    port: number[]
    path: string | false
    sslnegotiation: string | null
  }
  const where = options.path || `${options.host[0] ?? 'localhost'}:${options.port[0] ?? 5432}`
  // Direct TLS (sslnegotiation=direct, PostgreSQL 17) answers no SSLRequest byte: only the connection is checked.
  const direct = options.sslnegotiation === 'direct'
  const answer = await new Promise<{ ok: true } | { ok: false; why: string }>((resolve) => {
    const socket: Socket = options.path
      ? connect(options.path)
      : connect({ host: options.host[0] ?? 'localhost', port: options.port[0] ?? 5432 })
    const done = (result: { ok: true } | { ok: false; why: string }) => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          why: `no answer to the PostgreSQL handshake within ${timeoutMs / 1000} s`,
        }),
      timeoutMs,
    )
    socket.once('connect', () => (direct ? done({ ok: true }) : socket.write(SSL_REQUEST)))
    socket.once('data', (data: Buffer) => {
      const first = data[0]
      if (data.length === 1 && (first === 0x53 || first === 0x4e)) done({ ok: true })
      else done({ ok: false, why: `the server there is not PostgreSQL (it answered ${describeBytes(data)})` })
    })
    socket.once('end', () =>
      done({ ok: false, why: 'the server there closed the connection without a PostgreSQL answer' }),
    )
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, why: `cannot connect (${err.code ?? err.message})` }),
    )
  })
  if (!answer.ok)
    throw new DatabaseError(
      `${source} (${redactUrl(url)}): ${answer.why} at ${where}. Check that PostgreSQL runs there and the URL ` +
        `names it${source === 'DATABASE_URL' ? ', or unset DATABASE_URL to use the embedded database' : ''}`,
    )
}

/** The first bytes of an answer, printable (e.g. `"HTTP/1.1 400 Bad…"`). */
function describeBytes(data: Buffer): string {
  const text = data.subarray(0, 24).toString('latin1')
  return /^[\x20-\x7e\r\n]+$/.test(text)
    ? JSON.stringify(`${text.replace(/\r?\n.*$/s, '')}${data.length > 24 ? '…' : ''}`)
    : `${data.length} bytes starting 0x${data.subarray(0, 8).toString('hex')}`
}
