/**
 * Closed-loop executors (sequential = one worker, concurrent N = N workers): a worker sends its next
 * request as soon as its previous one finished, so the server's speed sets the pace. With rampUpMs the
 * workers' first requests are spread over the ramp instead of all going out at the start.
 * @module
 */
import { setMaxListeners } from 'node:events'
import { HarnessError } from '../errors.ts'
import type { LoadContext, LoadResult } from './types.ts'

export interface ClosedLoopLimits {
  /** Total requests shared by all workers. */
  requests?: number | undefined
  /** No new request starts this long after the start; in-flight ones finish. s. */
  durationS?: number | undefined
  /** Worker i (0-based) of N sends its first request at start + i·rampUpMs/N. ms. @default 0 */
  rampUpMs?: number | undefined
}

export async function runClosedLoop(
  concurrency: number,
  limits: ClosedLoopLimits,
  ctx: LoadContext,
): Promise<LoadResult> {
  const { clock, signal, send } = ctx
  const startedAt = clock.now()
  const deadline =
    limits.durationS === undefined ? Number.POSITIVE_INFINITY : startedAt + limits.durationS * 1000
  const budget = limits.requests ?? Number.POSITIVE_INFINITY
  const rampUpMs = limits.rampUpMs ?? 0
  let sent = 0
  let failure: { error: unknown } | undefined
  // Fires once nothing more will be issued (abort, budget used up, a failure): workers still waiting for
  // their ramp start then give up at once instead of holding the load open until their start time.
  const issuing = new AbortController()
  // Every worker waiting for its ramp start listens on it: more than Node's default of 10 is normal.
  setMaxListeners(0, issuing.signal)
  const stopIssuing = () => issuing.abort()
  signal.addEventListener('abort', stopIssuing, { once: true })
  // A signal aborted before the start never fires its event.
  if (signal.aborted) stopIssuing()

  const worker = async (_: unknown, index: number): Promise<void> => {
    // Spaced by the configured N even when the budget runs fewer workers, so the spacing is the one asked for.
    const firstAt = startedAt + (index * rampUpMs) / concurrency
    if (firstAt > startedAt) {
      if (firstAt >= deadline) return
      try {
        await clock.sleep(firstAt - clock.now(), issuing.signal)
      } catch {
        // Clock.sleep rejects only when its signal aborts: nothing more will be issued.
        return
      }
    }
    // issuing.signal covers the caller's abort, the budget and failures.
    while (!signal.aborted && !issuing.signal.aborted && sent < budget) {
      const now = clock.now()
      if (now >= deadline) return
      sent++
      if (sent >= budget) issuing.abort()
      try {
        await send(now)
      } catch (error) {
        failure ??= { error }
        issuing.abort()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, budget) }, worker))
  signal.removeEventListener('abort', stopIssuing)

  if (failure !== undefined)
    throw new HarnessError('send() rejected; it must record a failed request as an outcome and resolve', {
      cause: failure.error,
    })
  return {
    sent,
    dropped: 0,
    ended: signal.aborted ? 'aborted' : sent >= budget ? 'requests' : 'duration',
    startedAt,
    endedAt: clock.now(),
  }
}
