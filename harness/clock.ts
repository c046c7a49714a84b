/**
 * The one time source of a run. Every timestamp in a RequestOutcome comes from `now()` of the run's
 * clock, so TTFT means the same for in-process and HTTP engines, and schedulers can be tested with a
 * fake clock (test/helpers/fake-clock.ts) without real sleeps.
 * @module
 */

export interface Clock {
  /** Monotonic milliseconds (fractional) since an arbitrary origin. */
  now(): number
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      if (ms <= 0) return resolve()
      const onAbort = () => {
        clearTimeout(timer)
        reject(signal?.reason)
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    }),
}

/**
 * performance.now() → CLOCK_MONOTONIC offset of this process, ms. Both read libuv's hrtime; the offset is
 * taken from the tightest of a few bracketed readings (well under 1 µs apart).
 */
const monotonicOffsetMs = (() => {
  let best = Number.POSITIVE_INFINITY
  let offset = 0
  for (let i = 0; i < 5; i++) {
    const before = performance.now()
    const hr = Number(process.hrtime.bigint()) / 1e6
    const after = performance.now()
    if (after - before < best) {
      best = after - before
      offset = hr - (before + after) / 2
    }
  }
  return offset
})()

/**
 * The machine's monotonic clock in ms (Linux CLOCK_MONOTONIC; mach time on macOS): the same timeline in
 * every process of this machine, so a mock server can count its delays from a client's send stamp
 * (`x-bench-sent-at`). Meaningless across machines.
 */
export function monotonicMs(): number {
  return performance.now() + monotonicOffsetMs
}

/** Converts a monotonicMs() reading of any process of this machine to this process's performance.now(). */
export function fromMonotonicMs(ms: number): number {
  return ms - monotonicOffsetMs
}
