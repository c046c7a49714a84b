/**
 * The events of one request as they arrive from the child, read by the request's async generator. A
 * failure (abort, crash) takes effect at once: events still buffered are dropped, so nothing is yielded
 * after an abort (the engine contract).
 * @module
 */
export class EventQueue<T> {
  readonly #items: T[] = []
  #failure: { reason: unknown } | undefined
  #ended = false
  #waiter: { resolve(result: IteratorResult<T, undefined>): void; reject(reason: unknown): void } | undefined

  push(item: T): void {
    if (this.#failure || this.#ended) return
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter.resolve({ value: item, done: false })
    } else this.#items.push(item)
  }

  /** No more items; those buffered are still read. */
  end(): void {
    if (this.#failure || this.#ended) return
    this.#ended = true
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.resolve({ value: undefined, done: true })
  }

  /** The next read rejects with `reason`; buffered items are dropped. */
  fail(reason: unknown): void {
    if (this.#failure) return
    this.#failure = { reason }
    this.#items.length = 0
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(reason)
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#failure) return Promise.reject(this.#failure.reason)
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as T, done: false })
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }
}
