/**
 * Bookkeeping of open-loop requests that were sent without being awaited.
 * @module
 */

/** Counts requests in flight and lets the executor wait until every one has settled. */
export class InFlight {
  #count = 0
  #waiters: Array<() => void> = []
  /** First rejection of a tracked request. send() must never reject, so this is a bug to surface. */
  failure: { error: unknown } | undefined

  get count(): number {
    return this.#count
  }

  track(request: Promise<void>): void {
    this.#count++
    request.then(
      () => this.#release(),
      (error: unknown) => {
        this.failure ??= { error }
        this.#release()
      },
    )
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  settled(): Promise<void> {
    if (this.#count === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #release(): void {
    this.#count--
    if (this.#count > 0) return
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}
