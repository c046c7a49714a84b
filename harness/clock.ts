/**
 * The one time source of a run. Every timestamp in a RequestOutcome comes from `now()` of the run's
 * clock, so TTFT means the same for in-process and HTTP engines, and schedulers can be tested with a
 * fake clock (test/helpers/fake-clock.ts) without real sleeps.
 *
 * Three timelines, and the only conversions between them:
 * - the run clock (`Clock.now()`; the system clock's is `performance.now()` of this process);
 * - wall-aligned ms (`wallMs()` = `performance.timeOrigin + performance.now()`): what an engine stamps on a
 *   chunk (`atMs`, `sentAtMs`) and what crosses a process boundary (the isolate child's IPC), because every
 *   process of this machine reads it on one timeline up to its timeOrigin's accuracy (isolate/clock-sync.ts
 *   checks that); `Clock.fromWallMs` brings such a stamp onto the run clock;
 * - the machine's monotonic clock (`monotonicMs()`), for the mock server's client-clock header.
 * @module
 */

/** performance.timeOrigin, read once: the getter is a native call, and stamps are taken per chunk. */
export const TIME_ORIGIN_MS = performance.timeOrigin

/** Wall-aligned ms (epoch-based, fractional, monotonic within a process): what engines stamp chunks with. */
export function wallMs(): number {
  return TIME_ORIGIN_MS + performance.now()
}

export interface Clock {
  /** Monotonic milliseconds (fractional) since an arbitrary origin. */
  now(): number
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /**
   * Calls `onFire` once after `ms` milliseconds unless the returned cancel function is called first: the
   * cheap form of sleep for a deadline that usually never fires (a request's timeout): one timer, no
   * promise, signal or listener per request.
   */
  after(ms: number, onFire: () => void): () => void
  /**
   * This clock's ms for a wall-aligned stamp (`wallMs()` of this or another process of this machine), or
   * absent when the clock has no relation to the wall (a fake clock in tests): engine stamps are then
   * ignored and the chunk is timed when its event arrives.
   */
  readonly fromWallMs?: (wallMs: number) => number
}

export const systemClock: Clock = {
  now: () => performance.now(),
  after: (ms, onFire) => {
    const timer = setTimeout(onFire, ms)
    return () => clearTimeout(timer)
  },
  fromWallMs: (ms) => ms - TIME_ORIGIN_MS,
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
