/**
 * A streamed response body as a queue of stamped reads with one reader, shared by the HTTP transports.
 *
 * Arrival times: the transport pushes each piece of the body synchronously from the socket read that
 * parsed it, stamped then (`atMs`, the wall-aligned clock request.ts converts back). Waking the reader is
 * deferred to one shared setImmediate, after the event loop's poll phase: when many streams' chunks arrive
 * together (a server decoding a batch), every socket of the burst is read and stamped before any of them
 * is decoded and recorded, so the 256th stream's TTFT does not include the processing of the 255 before it.
 *
 * SSE bodies are consumed as fast as they come, so pausing for back-pressure would only delay the stamps; a
 * reader that falls behind holds the unread pieces here.
 * @module
 */

/**
 * One piece of the body: `bytes[start, end)`, as the transport read it (no copy, no view per piece). The
 * object poll() returns is the queue's own and is refilled by the next poll(): take what you need first.
 */
export interface BodyRead {
  bytes: Buffer
  start: number
  end: number
  /** When the transport handed these bytes over, wall-aligned ms (performance.timeOrigin-based). */
  atMs: number
}

const EMPTY = Buffer.alloc(0)

/** What poll() returns once the body has ended. */
export const BODY_END = Symbol('body end')

/**
 * Queues with a reader to wake after the current poll phase (see the module comment): the first
 * `wakeupCount` entries. Two lists alternate and keep their capacity, so a wake-up allocates none.
 */
let wakeups: (BodyQueue | undefined)[] = []
let wakeupCount = 0
let spare: (BodyQueue | undefined)[] = []

function wakeAll(): void {
  const due = wakeups
  const count = wakeupCount
  wakeups = spare
  wakeupCount = 0
  for (let i = 0; i < count; i++) {
    const queue = due[i]!
    due[i] = undefined
    queue.fire()
  }
  spare = due
}

/**
 * The reader takes what is there with poll(), synchronously, and asks to be told with notify() when
 * there is more: no promise or closure per piece, which at hundreds of streams is most of the garbage a
 * chunk would otherwise leave (a heap profile at 64 streams put the old await loop at ~1.3 KB per chunk).
 * Pieces wait in parallel arrays that keep their capacity, and poll() refills one object, so a piece
 * costs no allocation here either (`npm run bench:client`, paced bytesPerChunk).
 */
export class BodyQueue {
  readonly #bytes: (Buffer | undefined)[] = []
  readonly #starts: number[] = []
  readonly #ends: number[] = []
  /** A double array (no boxed number per stamp). */
  readonly #stamps: number[] = []
  #head = 0
  #tail = 0
  readonly #current: BodyRead = { bytes: EMPTY, start: 0, end: 0, atMs: 0.5 }
  #ended = false
  #error: unknown
  #failed = false
  #reader: (() => void) | undefined
  #wakeQueued = false

  /**
   * The next piece in order (the queue's own object, refilled by the next call), BODY_END at the end,
   * undefined when nothing is queued yet. Throws the transport's error.
   */
  poll(): BodyRead | typeof BODY_END | undefined {
    const head = this.#head
    if (head < this.#tail) {
      const read = this.#current
      read.bytes = this.#bytes[head]!
      read.start = this.#starts[head]!
      read.end = this.#ends[head]!
      read.atMs = this.#stamps[head]!
      this.#bytes[head] = undefined
      if (head + 1 === this.#tail) {
        this.#head = 0
        this.#tail = 0
      } else this.#head = head + 1
      return read
    }
    if (this.#failed) throw this.#error
    return this.#ended ? BODY_END : undefined
  }

  /** Calls `reader` once, after the current poll phase, when poll() has something new (a piece, the end, an error). */
  notify(reader: () => void): void {
    this.#reader = reader
    if (this.#head < this.#tail || this.#ended || this.#failed) this.#queueWake()
  }

  /**
   * The next piece in order as an object of its own (`bytes` exactly the piece), undefined at its end;
   * rejects with the transport's error (tests, text()).
   */
  read(): Promise<BodyRead | undefined> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        try {
          const read = this.poll()
          if (read === undefined) this.notify(attempt)
          else if (read === BODY_END) resolve(undefined)
          else {
            const bytes = read.bytes.subarray(read.start, read.end)
            resolve({ bytes, start: 0, end: bytes.length, atMs: read.atMs })
          }
        } catch (error) {
          reject(error)
        }
      }
      attempt()
    })
  }

  /** Everything up to the end as text (error bodies; not the hot path). */
  async text(): Promise<string> {
    const parts: Buffer[] = []
    for (let read = await this.read(); read !== undefined; read = await this.read()) parts.push(read.bytes)
    return Buffer.concat(parts).toString('utf8')
  }

  /** Queues `bytes[start, end)`, read at `atMs`. The bytes must not change afterwards (a socket read's are not reused). */
  push(bytes: Buffer, start: number, end: number, atMs: number): void {
    const at = this.#tail++
    if (at < this.#bytes.length) {
      this.#bytes[at] = bytes
      this.#starts[at] = start
      this.#ends[at] = end
      this.#stamps[at] = atMs
    } else {
      this.#bytes.push(bytes)
      this.#starts.push(start)
      this.#ends.push(end)
      this.#stamps.push(atMs)
    }
    this.#queueWake()
  }

  end(): void {
    this.#ended = true
    this.#queueWake()
  }

  fail(error: unknown): void {
    if (this.#ended || this.#failed) return
    this.#failed = true
    this.#error = error ?? new Error('the response body failed')
    this.#queueWake()
  }

  /** No reader any more: drop what is queued and wake nobody. */
  stop(): void {
    this.#reader = undefined
    this.#bytes.fill(undefined, this.#head, this.#tail)
    this.#head = 0
    this.#tail = 0
  }

  /** Called by the shared wake-up (wakeAll), not by readers. */
  fire(): void {
    this.#wakeQueued = false
    const reader = this.#reader
    this.#reader = undefined
    reader?.()
  }

  #queueWake(): void {
    if (this.#reader === undefined || this.#wakeQueued) return
    this.#wakeQueued = true
    if (wakeupCount === 0) setImmediate(wakeAll)
    wakeups[wakeupCount++] = this
  }
}
