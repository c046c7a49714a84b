/**
 * A deterministic Clock for testing anything that schedules through harness/clock.ts, with no real
 * timers: time moves only when the test says so, and sleepers wake in deadline order (FIFO among equal
 * deadlines), each with the clock reading exactly its deadline. Between two wake-ups every queued
 * microtask runs, so code resumed by one sleeper can send, sleep again or finish before the next wakes,
 * as with real timers.
 *
 * Typical use: `const result = await clock.run(executeLoad(spec, ctx))`.
 * @module
 */
import type { Clock } from '../../harness/clock.ts'

// Captured at import so a suite that later fakes timers (vi.useFakeTimers) cannot stall the flush.
const realSetImmediate = globalThis.setImmediate

export interface FakeClockRunOptions {
  /** Wake-ups allowed before giving up (an endless schedule is a bug in the test or the code). @default 1_000_000 */
  maxSteps?: number
}

export interface FakeClockRunUntilOptions extends FakeClockRunOptions {
  /**
   * What to do when no sleeper is pending but the promise has not settled. 'throw' (default) reports a
   * deadlock: nothing driven by this clock can settle it. 'wait' waits for the next sleep() or for the
   * promise, for code that also waits on real I/O (e.g. loopback HTTP); a true deadlock then hangs until
   * the test times out.
   * @default 'throw'
   */
  whenIdle?: 'throw' | 'wait'
}

export interface FakeClock extends Clock {
  /** Sleeps and after() timers neither woken, aborted nor cancelled yet. */
  readonly pendingSleeps: number
  /** Deadline (clock ms) of the next sleeper to wake, if any. */
  nextDeadline(): number | undefined
  /** Lets all queued microtasks, and whatever they schedule, run; no time passes. */
  flush(): Promise<void>
  /**
   * Moves time forward by `ms` at once without waking anyone, as synchronous work holding the event loop
   * would: sleepers that became due wake late, at the next advance/runUntilIdle/run, seeing the later time.
   */
  stall(ms: number): void
  /** Moves time forward by `ms`, waking every sleeper due by then in deadline order. */
  advance(ms: number, options?: FakeClockRunOptions): Promise<void>
  /** Wakes sleepers (including ones added by woken code) until none is left; time ends at the last deadline. */
  runUntilIdle(options?: FakeClockRunOptions): Promise<void>
  /** Wakes sleepers until `promise` settles, then returns its value or throws its error. */
  run<T>(promise: Promise<T>, options?: FakeClockRunUntilOptions): Promise<T>
}

interface Sleeper {
  deadline: number
  order: number
  wake(): void
}

const DEFAULT_MAX_STEPS = 1_000_000

export function createFakeClock(start = 0): FakeClock {
  let now = start
  let order = 0
  let driving = false
  /** Sorted by (deadline, order). */
  const sleepers: Sleeper[] = []
  let onSleep: Array<() => void> = []

  const insert = (sleeper: Sleeper) => {
    let lo = 0
    let hi = sleepers.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const other = sleepers[mid]!
      if (
        other.deadline < sleeper.deadline ||
        (other.deadline === sleeper.deadline && other.order < sleeper.order)
      )
        lo = mid + 1
      else hi = mid
    }
    sleepers.splice(lo, 0, sleeper)
  }

  const remove = (sleeper: Sleeper) => {
    const i = sleepers.indexOf(sleeper)
    if (i >= 0) sleepers.splice(i, 1)
  }

  const sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (Number.isNaN(ms)) return Promise.reject(new RangeError('sleep(NaN)'))
    if (signal?.aborted) return Promise.reject(signal.reason)
    // Same as systemClock: nothing to wait for.
    if (ms <= 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        remove(sleeper)
        reject(signal?.reason)
      }
      const sleeper: Sleeper = {
        deadline: now + ms,
        order: order++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      insert(sleeper)
      signal?.addEventListener('abort', onAbort, { once: true })
      const waiting = onSleep
      onSleep = []
      for (const notify of waiting) notify()
    })
  }

  /** A sleeper without a promise: fires in deadline order like any other; cancel takes it out. */
  const after = (ms: number, onFire: () => void): (() => void) => {
    if (Number.isNaN(ms)) throw new RangeError('after(NaN)')
    const sleeper: Sleeper = { deadline: now + Math.max(0, ms), order: order++, wake: onFire }
    insert(sleeper)
    const waiting = onSleep
    onSleep = []
    for (const notify of waiting) notify()
    return () => remove(sleeper)
  }

  // All microtasks (and process.nextTick callbacks) drain before a setImmediate callback runs.
  const flush = () => new Promise<void>((resolve) => realSetImmediate(resolve))

  const wakeNext = async () => {
    const sleeper = sleepers.shift()!
    now = Math.max(now, sleeper.deadline)
    sleeper.wake()
    await flush()
  }

  /** Guards against two drivers interleaving, which would make wake order depend on the test's awaits. */
  const drive = async <T>(body: () => Promise<T>): Promise<T> => {
    if (driving) throw new Error('fake clock: advance/runUntilIdle/run called while another one is running')
    driving = true
    try {
      return await body()
    } finally {
      driving = false
    }
  }

  const tooManySteps = (maxSteps: number) =>
    new Error(`fake clock: still busy after ${maxSteps} wake-ups (endless schedule?) at t=${now}`)

  return {
    now: () => now,
    sleep,
    after,
    get pendingSleeps() {
      return sleepers.length
    },
    nextDeadline: () => sleepers[0]?.deadline,
    flush,

    stall: (ms) => {
      if (!(ms >= 0)) throw new RangeError(`fake clock: stall(${ms}) needs ms ≥ 0`)
      now += ms
    },

    advance: (ms, options) =>
      drive(async () => {
        if (!(ms >= 0)) throw new RangeError(`fake clock: advance(${ms}) needs ms ≥ 0`)
        const target = now + ms
        const maxSteps = options?.maxSteps ?? DEFAULT_MAX_STEPS
        await flush()
        for (let step = 0; sleepers.length > 0 && sleepers[0]!.deadline <= target; step++) {
          if (step >= maxSteps) throw tooManySteps(maxSteps)
          await wakeNext()
        }
        now = target
        await flush()
      }),

    runUntilIdle: (options) =>
      drive(async () => {
        const maxSteps = options?.maxSteps ?? DEFAULT_MAX_STEPS
        await flush()
        for (let step = 0; sleepers.length > 0; step++) {
          if (step >= maxSteps) throw tooManySteps(maxSteps)
          await wakeNext()
        }
      }),

    run: <T>(promise: Promise<T>, options?: FakeClockRunUntilOptions) =>
      drive(async () => {
        const maxSteps = options?.maxSteps ?? DEFAULT_MAX_STEPS
        let settled = false
        let notifySettled: (() => void) | undefined
        const done = promise.then(
          () => {
            settled = true
            notifySettled?.()
          },
          () => {
            settled = true
            notifySettled?.()
          },
        )
        await flush()
        for (let step = 0; !settled; ) {
          if (sleepers.length > 0) {
            if (step++ >= maxSteps) throw tooManySteps(maxSteps)
            await wakeNext()
            continue
          }
          if (options?.whenIdle !== 'wait')
            throw new Error(
              `fake clock: deadlock at t=${now}: the promise is pending and no sleep() is left to wake`,
            )
          await new Promise<void>((resolve) => {
            notifySettled = resolve
            onSleep.push(resolve)
          })
          notifySettled = undefined
        }
        await done
        return promise
      }),
  }
}
