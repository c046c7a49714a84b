/**
 * The floor of `bench selftest`: a bare streaming reader that does the least work that still times
 * content chunks, run against the same mock, at the same load, from the same process position as the
 * harness client.
 *
 * Why it exists: selftest's |measured − injected| error is not all the harness's. On a small shared machine
 * the mock (in its own process) writes late, the kernel delivers late and this process is scheduled late;
 * at 64 streams on 2 vCPUs that alone is milliseconds at p99. Whatever this reader measures is what any
 * client in this position would see, so harness error − bare error (the "excess") is the harness's own
 * cost, and that is what selftest's goal bounds.
 *
 * What it does, and nothing more: one keep-alive node:net socket per stream; a hand-written HTTP/1.1 POST
 * with the harness's request body and its `x-bench-sent-at` stamp (so the mock anchors its delays at this
 * send, as for the harness); the status line checked and the head skipped at the first blank line; then
 * each socket read is stamped with performance.now() (the run clock the harness's stamps are converted
 * to, see request.ts) and every `data:` line holding a non-empty `"content":"…"` counts as one content
 * chunk at that stamp. No chunked-body decoding: the mock writes whole events per HTTP chunk, so framing
 * lines are simply not `data:` lines; the terminal `0` chunk ends the response. TTFT and gaps follow
 * METRICS.md exactly as the harness computes them: ttft = first content chunk − send, gaps between
 * consecutive content chunks. The load is runClosedLoop's: N workers with a shared request budget, worker
 * i starting at i · rampUpMs / N, after a warmup of as many parallel requests, prompts in the runner's order.
 * @module
 */
import { connect, type Socket } from 'node:net'
import { fromMonotonicMs, monotonicMs } from '../../clock.ts'
import { SENT_AT_HEADER } from '../../engines/openai/openai-body.ts'

export interface BareReaderOptions {
  /** Full URL of the streaming endpoint, http only (e.g. http://127.0.0.1:8000/v1/chat/completions). */
  url: string
  /** JSON request bodies, cycled in order from the first warmup request on (the runner's prompt order). */
  bodies: readonly string[]
  concurrency: number
  /** Measured requests (after the warmup). */
  requests: number
  warmupRequests: number
  /** Worker i of N sends its first measured request at start + i · rampUpMs / N. */
  rampUpMs: number
  /** A connection silent this long fails its request. @default 60 000 */
  idleTimeoutMs?: number
}

export interface BareReaderResult {
  /** Measured requests sent. */
  requests: number
  /** Measured requests that ended with content and the terminal chunk. */
  ok: number
  errors: number
  firstError?: string
  /** One per ok request, ms. */
  ttftMs: number[]
  /** Every gap between consecutive content chunks of every ok request, ms. */
  chunkGapsMs: number[]
  /** Content chunks of ok requests. */
  chunks: number
  /** CPU time of this process (all threads) over the measured requests, µs. */
  cpuUs: number
}

interface Pending {
  resolve(stamps: number[]): void
  reject(error: Error): void
}

/** One keep-alive connection, one request at a time. */
class BareConnection {
  readonly #socket: Socket
  #pending: Pending | undefined
  #rest = ''
  #inBody = false
  #lastChunk = false
  #stamps: number[] = []
  lastActivityMs = performance.now()
  closed = false

  constructor(host: string, port: number) {
    this.#socket = connect({ host, port, noDelay: true })
    this.#socket.on('data', this.#onData)
    this.#socket.on('error', (error) => this.#fail(error))
    this.#socket.on('close', () => this.#fail(new Error('the connection closed')))
  }

  /** Writes `head` + `body` and resolves with the arrival stamps of the content chunks. */
  exchange(payload: string): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#rest = ''
      this.#inBody = false
      this.#lastChunk = false
      this.#stamps = []
      this.lastActivityMs = performance.now()
      this.#socket.write(payload)
    })
  }

  destroy(error?: Error): void {
    this.#fail(error ?? new Error('the connection was closed by the reader'))
  }

  readonly #onData = (bytes: Buffer): void => {
    const at = performance.now()
    this.lastActivityMs = at
    const pending = this.#pending
    if (pending === undefined) {
      this.destroy(new Error('bytes outside a response'))
      return
    }
    let text = this.#rest + bytes.toString('latin1')
    if (!this.#inBody) {
      const headEnd = text.indexOf('\r\n\r\n')
      if (headEnd === -1) {
        this.#rest = text
        return
      }
      if (!text.startsWith('HTTP/1.1 200 ')) {
        this.destroy(new Error(`unexpected response: ${text.slice(0, text.indexOf('\r\n'))}`))
        return
      }
      this.#inBody = true
      text = text.slice(headEnd + 4)
    }
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
      if (text.startsWith('data:', start)) {
        const at_ = text.indexOf(CONTENT, start)
        if (at_ !== -1 && at_ < end && text.charCodeAt(at_ + CONTENT.length) !== QUOTE) this.#stamps.push(at)
      } else if (end - start === 2 && text.charCodeAt(start) === ZERO && text.charCodeAt(start + 1) === CR) {
        this.#lastChunk = true // "0\r": the terminal chunk; its blank line follows
      } else if (this.#lastChunk && end - start === 1) {
        if (end + 1 !== text.length) {
          this.destroy(new Error('bytes after the response'))
          return
        }
        this.#pending = undefined
        this.#rest = ''
        pending.resolve(this.#stamps)
        return
      }
    }
    this.#rest = text.slice(start)
  }

  #fail(error: Error): void {
    const pending = this.#pending
    this.#pending = undefined
    this.closed = true
    this.#socket.destroy()
    pending?.reject(error)
  }
}

const CONTENT = '"content":"'
const QUOTE = 34
const ZERO = 48
const CR = 13

/** Runs the warmup, then the measured closed loop; resolves once every measured request has ended. */
export async function runBareReader(options: BareReaderOptions): Promise<BareReaderResult> {
  const url = new URL(options.url)
  if (url.protocol !== 'http:') throw new Error(`the bare reader speaks http only, got ${url.protocol}`)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port) || 80
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\n`
  const bodies = options.bodies.map((body) => `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  let cursor = 0
  const connections: BareConnection[] = []
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000
  // One run-wide watchdog rather than a timer per request: a stalled mock must not hang selftest.
  const watchdog = setInterval(() => {
    const now = performance.now()
    for (const c of connections)
      if (!c.closed && now - c.lastActivityMs > idleTimeoutMs)
        c.destroy(new Error(`no byte within ${idleTimeoutMs} ms`))
  }, 1000)
  watchdog.unref()

  /** One request on worker `index`'s connection (a new one if it is gone); tSend and the stamps. */
  const send = async (index: number): Promise<{ tSend: number; stamps: number[] }> => {
    let connection = connections[index]
    if (connection === undefined || connection.closed) {
      connection = new BareConnection(host, port)
      connections[index] = connection
    }
    const body = bodies[cursor++ % bodies.length]!
    const sentAt = monotonicMs()
    const tSend = fromMonotonicMs(sentAt)
    const stamps = await connection.exchange(`${head}${SENT_AT_HEADER}: ${sentAt.toFixed(3)}\r\n${body}`)
    return { tSend, stamps }
  }

  const result: BareReaderResult = {
    requests: 0,
    ok: 0,
    errors: 0,
    ttftMs: [],
    chunkGapsMs: [],
    chunks: 0,
    cpuUs: 0,
  }
  try {
    let warmupLeft = options.warmupRequests
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(warmupLeft, options.concurrency)) }, async (_, index) => {
        while (warmupLeft > 0) {
          warmupLeft--
          await send(index).catch(() => {})
        }
      }),
    )

    const cpuAtStart = process.cpuUsage()
    const startedAt = performance.now()
    let sent = 0
    const worker = async (_: unknown, index: number): Promise<void> => {
      const firstAt = startedAt + (index * options.rampUpMs) / options.concurrency
      if (firstAt > startedAt)
        await new Promise((resolve) => setTimeout(resolve, firstAt - performance.now()))
      while (sent < options.requests) {
        sent++
        try {
          const { tSend, stamps } = await send(index)
          if (stamps.length === 0) throw new Error('the response ended without any content chunk')
          result.ttftMs.push(stamps[0]! - tSend)
          for (let k = 1; k < stamps.length; k++) result.chunkGapsMs.push(stamps[k]! - stamps[k - 1]!)
          result.chunks += stamps.length
          result.ok++
        } catch (error) {
          result.errors++
          result.firstError ??= error instanceof Error ? error.message : String(error)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, worker))
    const cpu = process.cpuUsage(cpuAtStart)
    result.cpuUs = cpu.user + cpu.system
    result.requests = sent
  } finally {
    clearInterval(watchdog)
    for (const c of connections) if (!c.closed) c.destroy()
  }
  return result
}
