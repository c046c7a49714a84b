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
