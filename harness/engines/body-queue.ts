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

export interface BodyRead {
  bytes: Buffer
  /** When the transport handed these bytes over, wall-aligned ms (performance.timeOrigin-based). */
  atMs: number
}

/** Wall-aligned ms, the clock of StreamEvent `atMs`. */
export const wallNowMs = (): number => performance.timeOrigin + performance.now()

/** What poll() returns once the body has ended. */
export const BODY_END = Symbol('body end')

/** Queues with a reader to wake after the current poll phase (see the module comment). */
let wakeups: BodyQueue[] = []

function wakeAll(): void {
  const due = wakeups
  wakeups = []
  for (const queue of due) queue.fire()
}

/**
 * The reader takes what is there with poll(), synchronously, and asks to be told with notify() when
 * there is more: no promise or closure per piece, which at hundreds of streams is most of the garbage a
 * chunk would otherwise leave (a heap profile at 64 streams put the old await loop at ~1.3 KB per chunk).
 */
export class BodyQueue {
  readonly #reads: BodyRead[] = []
  #head = 0
  #ended = false
  #error: unknown
  #failed = false
  #reader: (() => void) | undefined
  #wakeQueued = false

  /** The next piece in order, BODY_END at the end, undefined when nothing is queued yet. Throws the transport's error. */
  poll(): BodyRead | typeof BODY_END | undefined {
    if (this.#head < this.#reads.length) {
      const read = this.#reads[this.#head]!
      this.#reads[this.#head++] = undefined as unknown as BodyRead
      if (this.#head === this.#reads.length) {
        this.#reads.length = 0
        this.#head = 0
      }
      return read
    }
    if (this.#failed) throw this.#error
    return this.#ended ? BODY_END : undefined
  }

  /** Calls `reader` once, after the current poll phase, when poll() has something new (a piece, the end, an error). */
  notify(reader: () => void): void {
    this.#reader = reader
    if (this.#head < this.#reads.length || this.#ended || this.#failed) this.#queueWake()
  }

  /** The next piece in order, undefined at its end; rejects with the transport's error (tests, text()). */
  read(): Promise<BodyRead | undefined> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        try {
          const read = this.poll()
          if (read === undefined) this.notify(attempt)
          else resolve(read === BODY_END ? undefined : read)
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

  push(bytes: Buffer, atMs: number): void {
    this.#reads.push({ bytes, atMs })
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
    this.#reads.length = 0
    this.#head = 0
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
    if (wakeups.length === 0) setImmediate(wakeAll)
    wakeups.push(this)
  }
}
