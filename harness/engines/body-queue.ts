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

/** Readers to wake after the current poll phase (see the module comment). */
let wakeups: (() => void)[] = []

function wakeSoon(wake: () => void): void {
  if (wakeups.length === 0) setImmediate(wakeAll)
  wakeups.push(wake)
}

function wakeAll(): void {
  const due = wakeups
  wakeups = []
  for (const wake of due) wake()
}

export class BodyQueue {
  readonly #reads: BodyRead[] = []
  #ended = false
  #error: unknown
  #waiting: { resolve: (read: BodyRead | undefined) => void; reject: (error: unknown) => void } | undefined
  #wakeQueued = false

  /** The next piece of the body in order, undefined at its end; rejects with the transport's error. */
  read(): Promise<BodyRead | undefined> {
    const ready = this.#take()
    if (ready !== null) return ready
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject }
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
    this.#wake()
  }

  end(): void {
    this.#ended = true
    this.#wake()
  }

  fail(error: unknown): void {
    if (this.#ended || this.#error !== undefined) return
    this.#error = error ?? new Error('the response body failed')
    this.#wake()
  }

  /** No reader any more: drop what is queued and wake nobody. */
  stop(): void {
    this.#waiting = undefined
    this.#reads.length = 0
  }

  /** A settled promise when something is ready, null when the reader must wait. */
  #take(): Promise<BodyRead | undefined> | null {
    const read = this.#reads.shift()
    if (read !== undefined) return Promise.resolve(read)
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve(undefined)
    return null
  }

  #wake(): void {
    if (this.#waiting === undefined || this.#wakeQueued) return
    this.#wakeQueued = true
    wakeSoon(() => {
      this.#wakeQueued = false
      const waiting = this.#waiting
      const ready = waiting && this.#take()
      if (!waiting || !ready) return
      this.#waiting = undefined
      ready.then(waiting.resolve, waiting.reject)
    })
  }
}
