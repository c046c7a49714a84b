/**
 * Serves an in-process PGlite to other processes over the PostgreSQL wire protocol on a loopback port.
 *
 * Why not PGLiteSocketServer (@electric-sql/pglite-socket) as is: it runs each protocol *message* under
 * PGlite's query mutex, so the owning process's own queries (which call PGlite directly) can land between
 * a client's Parse, Bind and Execute, or inside its open transaction — one backend, shared unnamed
 * statement and portal, silently mixed up. Here a client holds PGlite's transaction mutex for a whole
 * exchange (from its first message to the Sync or simple Query that ends it) and for as long as it keeps a
 * transaction open, which is exactly what the owner's `query`/`transaction` calls wait on. Message
 * framing, the SSLRequest answer and CancelRequest handling follow pglite-socket's handler.
 *
 * All connections share one backend session, so clients must not rely on session state: connect with
 * postgres.js `prepare: false` (no named statements). Connections authenticate with a per-holder password
 * (cleartext over loopback; the password lives in the 0600 lock file).
 * @module
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'

const SSL_REQUEST_CODE = 80877103
const CANCEL_REQUEST_CODE = 80877102
const PROTOCOL_3 = 196608
/** Messages that end an exchange: the backend answers ReadyForQuery after them. */
const SYNC = 0x53 // 'S'
const QUERY = 0x51 // 'Q'
const TERMINATE = 0x58 // 'X'
const PASSWORD = 0x70 // 'p'
/** A stopping server lets a client finish its exchange for this long before cutting it off. ms. */
const STOP_GRACE_MS = 5_000
/** A client that holds the database mid-exchange or mid-transaction and says nothing this long is cut off. ms. */
const LEASE_IDLE_TIMEOUT_MS = 30_000

export interface PgliteServer {
  readonly port: number
  /** Closes every connection (after its current exchange) and the listener. Does not close PGlite. */
  stop(): Promise<void>
}

export async function servePglite(pg: PGlite, options: { password: string }): Promise<PgliteServer> {
  const connections = new Set<Connection>()
  let stopping = false
  const server = createServer((socket) => {
    if (stopping) {
      socket.destroy()
      return
    }
    const connection = new Connection(pg, socket, options.password)
    connections.add(connection)
    socket.once('close', () => connections.delete(connection))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('loopback server has no port')
  return {
    port: address.port,
    async stop() {
      stopping = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      await Promise.all([...connections].map((c) => c.close()))
      await closed
    },
  }
}

type Phase = 'startup' | 'auth' | 'ready' | 'closed'

class Connection {
  #phase: Phase = 'startup'
  #buffer: Buffer = Buffer.alloc(0)
  #startup: Buffer | undefined
  /** Releases PGlite's transaction mutex; set while this client is inside an exchange or transaction. */
  #lease: (() => void) | undefined
  #work: Promise<void> = Promise.resolve()
  #closing = false
  #idleTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly pg: PGlite,
    private readonly socket: Socket,
    private readonly password: string,
  ) {
    socket.setNoDelay(true)
    socket.on('data', (data) => {
      clearTimeout(this.#idleTimer)
      this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data])
      this.#work = this.#work.then(() => this.#drain()).catch((err: unknown) => this.#fail(err))
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(this.#idleTimer)
      this.#phase = 'closed'
      this.#work = this.#work.then(() => this.#cleanUp())
    })
  }

  /** Ends the connection between exchanges (or after STOP_GRACE_MS) and resolves when its lease is released. */
  async close(): Promise<void> {
    this.#closing = true
    if (!this.socket.closed) {
      const closed = new Promise<void>((resolve) => this.socket.once('close', resolve))
      if (!this.#lease) this.socket.destroy()
      const timer = setTimeout(() => this.socket.destroy(), STOP_GRACE_MS)
      await closed
      clearTimeout(timer)
    }
    // The constructor's close listener ran first and queued the clean-up behind any work in progress.
    await this.#work
  }

  async #drain(): Promise<void> {
    while (this.#phase !== 'closed') {
      if (this.#phase === 'startup' && !this.#readStartup()) return
      if (this.#phase === 'auth') {
        const message = this.#takeMessages(1)
        if (!message) return
        await this.#authenticate(message)
        continue
      }
      if (this.#phase === 'ready') {
        // A closing connection starts no new exchange: the client sees the connection end with no answer
        // and sends it again to the next owner (db/pglite/owner-switch.ts), so it must not have run here.
        if (this.#closing && !this.#lease) return
        const batch = this.#takeMessages(Number.POSITIVE_INFINITY)
        if (!batch) return
        await this.#execute(batch)
      }
    }
  }

  /** SSLRequest → 'N'; CancelRequest → ignored (one backend, nothing to signal); StartupMessage → ask for the password. */
  #readStartup(): boolean {
    if (this.#buffer.length < 8) return false
    const length = this.#buffer.readInt32BE(0)
    const code = this.#buffer.readInt32BE(4)
    if (this.#buffer.length < length) return false
    const message = this.#buffer.subarray(0, length)
    this.#buffer = this.#buffer.subarray(length)
    if (code === SSL_REQUEST_CODE) this.socket.write('N')
    else if (code === CANCEL_REQUEST_CODE) this.socket.destroy()
    else if (code === PROTOCOL_3) {
      this.#startup = Buffer.from(message)
      this.#phase = 'auth'
      // AuthenticationCleartextPassword
      const ask = Buffer.alloc(9)
      ask.write('R', 0)
      ask.writeInt32BE(8, 1)
      ask.writeInt32BE(3, 5)
      this.socket.write(ask)
    } else this.#refuse('08P01', `unsupported protocol ${code}`)
    return true
  }

  async #authenticate(message: Buffer): Promise<void> {
    const given = message[0] === PASSWORD ? message.subarray(5, message.indexOf(0, 5)) : Buffer.alloc(0)
    const expected = Buffer.from(this.password)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.#refuse('28P01', 'password authentication failed')
      return
    }
    const startup = this.#startup
    if (!startup) throw new Error('password before startup message')
    await this.#withLease(async () => {
      // PGlite answers a startup packet (first byte 0) with AuthenticationOk, ParameterStatus…, ReadyForQuery.
      await this.#run(startup)
    })
    this.#phase = 'ready'
    this.#releaseIfIdle(true)
  }

  /** Complete messages from the buffer, at most `max`; undefined when none is complete yet. */
  #takeMessages(max: number): Buffer | undefined {
    let end = 0
    let count = 0
    while (count < max && this.#buffer.length - end >= 5) {
      const length = 1 + this.#buffer.readInt32BE(end + 1)
      if (this.#buffer.length - end < length) break
      end += length
      count++
    }
    if (end === 0) return undefined
    const batch = Buffer.from(this.#buffer.subarray(0, end))
    this.#buffer = this.#buffer.subarray(end)
    return batch
  }

  async #execute(batch: Buffer): Promise<void> {
    // Terminate would end PGlite's one backend: drop it and close this connection instead.
    const messages: Buffer[] = []
    let lastType = 0
    let terminate = false
    for (let at = 0; at < batch.length; ) {
      const length = 1 + batch.readInt32BE(at + 1)
      const type = batch[at] ?? 0
      if (type === TERMINATE) terminate = true
      else {
        messages.push(batch.subarray(at, at + length))
        lastType = type
      }
      at += length
    }
    if (messages.length > 0) {
      if (!this.#lease) {
        const lease = await acquireLease(this.pg)
        // Closed while waiting for another client's exchange: never started, so never run (see #drain).
        if (this.#closing || this.#phase === 'closed') {
          lease()
          return
        }
        this.#lease = lease
      }
      await this.#run(Buffer.concat(messages))
      this.#releaseIfIdle(lastType === SYNC || lastType === QUERY)
    }
    if (terminate) this.socket.end()
  }

  /** Exchange over and no transaction open: let the owner and other clients in. */
  #releaseIfIdle(exchangeEnded: boolean): void {
    clearTimeout(this.#idleTimer)
    if (!this.#lease) return
    if (!exchangeEnded || this.pg.isInTransaction()) {
      this.#idleTimer = setTimeout(() => this.socket.destroy(), LEASE_IDLE_TIMEOUT_MS)
      return
    }
    const release = this.#lease
    this.#lease = undefined
    release()
    // end(), not destroy(): the answer just written must reach the client, or it would send again what ran.
    if (this.#closing) this.socket.end()
  }

  async #withLease(fn: () => Promise<void>): Promise<void> {
    if (!this.#lease) this.#lease = await acquireLease(this.pg)
    await fn()
  }

  async #run(bytes: Buffer): Promise<void> {
    await this.pg.runExclusive(() =>
      this.pg.execProtocolRawStream(new Uint8Array(bytes), {
        onRawData: (data) => {
          if (!this.socket.destroyed) this.socket.write(Buffer.from(data))
        },
      }),
    )
  }

  /**
   * A client gone mid-exchange or mid-transaction must not leave its work half done for the next one.
   * `ROLLBACK` aborts an open (or implicit) transaction; the Sync ends an exchange whose error left the
   * backend skipping messages until Sync, and the second `ROLLBACK` ends the aborted block that may leave.
   */
  async #cleanUp(): Promise<void> {
    if (!this.#lease) return
    const release = this.#lease
    this.#lease = undefined
    try {
      await this.pg.runExclusive(() =>
        this.pg.execProtocolRawStream(
          new Uint8Array(Buffer.concat([query('ROLLBACK'), sync(), query('ROLLBACK')])),
          {
            onRawData: () => {},
          },
        ),
      )
    } finally {
      release()
    }
  }

  #refuse(code: string, message: string): void {
    this.socket.end(errorResponse(code, message))
    this.#phase = 'closed'
  }

  #fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    if (!this.socket.destroyed) this.socket.end(errorResponse('XX000', message))
    this.#phase = 'closed'
  }
}

/** Holds PGlite's transaction mutex (what its query(), exec() and transaction() take) until released. */
function acquireLease(pg: PGlite): Promise<() => void> {
  return new Promise((granted) => {
    void pg._runExclusiveTransaction(() => new Promise<void>((release) => granted(release)))
  })
}

function query(text: string): Buffer {
  const body = Buffer.from(`${text}\0`)
  const message = Buffer.alloc(5 + body.length)
  message.write('Q', 0)
  message.writeInt32BE(4 + body.length, 1)
  body.copy(message, 5)
  return message
}

function sync(): Buffer {
  const message = Buffer.alloc(5)
  message.write('S', 0)
  message.writeInt32BE(4, 1)
  return message
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${message}\0\0`)
  const out = Buffer.alloc(5 + fields.length)
  out.write('E', 0)
  out.writeInt32BE(4 + fields.length, 1)
  fields.copy(out, 5)
  return out
}
