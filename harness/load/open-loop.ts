/**
 * Open-loop executor (constant-rate, poisson): arrivals follow a schedule fixed in advance, whatever the
 * server does. Sleep until the intended time, then gate on maxInFlight: a full gate drops the arrival
 * (counted, never retried: no catch-up); otherwise send without waiting for the request to finish.
 * @module
 */
import { HarnessError } from '../errors.ts'
import { arrivalOffsetsMs, type OpenLoopSpec } from './arrivals.ts'
import { InFlight } from './in-flight.ts'
import type { LoadContext, LoadEnd, LoadResult } from './types.ts'

export function runOpenLoop(spec: OpenLoopSpec, ctx: LoadContext): Promise<LoadResult> {
  return runSchedule(arrivalOffsetsMs(spec, ctx.random), spec, ctx)
}

/**
 * Sends at start + each offset (ms, non-decreasing) without waiting for earlier requests; stops issuing
 * at durationS or on abort; with maxInFlight requests in flight an arrival is dropped (Infinity: every
 * one is sent, as a trace replay does). Resolves once every request it sent has settled.
 */
export async function runSchedule(
  offsetsMs: Iterable<number>,
  spec: { durationS?: number | undefined; maxInFlight: number },
  ctx: LoadContext,
): Promise<LoadResult> {
  const { clock, signal, send } = ctx
  const startedAt = clock.now()
  const durationMs = spec.durationS === undefined ? Number.POSITIVE_INFINITY : spec.durationS * 1000
  const inFlight = new InFlight()
  let sent = 0
  let dropped = 0
  // The arrivals generator ends only when `requests` were scheduled; duration and abort break out.
  let ended: LoadEnd = 'requests'
  let sleepFailure: { error: unknown } | undefined

  // Dropped arrivals were arrivals: they use up the `requests` budget like sent ones.
  for (const offsetMs of offsetsMs) {
    if (signal.aborted || inFlight.failure !== undefined) break
    if (offsetMs >= durationMs) {
      ended = 'duration'
      break
    }
    const scheduledAt = startedAt + offsetMs
    try {
      // Node's timers count whole ms from a loop time that may be stale, so a timer can fire up to ~1 ms
      // before the intended time: sleep again until it has come (a send is never early: scheduleLagMs ≥ 0).
      for (let waitMs = scheduledAt - clock.now(); waitMs > 0; waitMs = scheduledAt - clock.now())
        await clock.sleep(waitMs, signal)
    } catch (error) {
      // Only an abort is expected here; anything else still lets in-flight requests settle first.
      if (!signal.aborted) sleepFailure = { error }
      break
    }
    if (signal.aborted || inFlight.failure !== undefined) break
    if (inFlight.count >= spec.maxInFlight) {
      dropped++
      continue
    }
    sent++
    // A late client still passes the intended time, so scheduleLagMs shows the lateness.
    let request: Promise<void>
    try {
      request = send(scheduledAt)
    } catch (error) {
      request = Promise.reject(error)
    }
    inFlight.track(request)
  }

  await inFlight.settled()
  if (sleepFailure !== undefined) throw sleepFailure.error
  if (inFlight.failure !== undefined)
    throw new HarnessError('send() rejected; it must record a failed request as an outcome and resolve', {
      cause: inFlight.failure.error,
    })
  return { sent, dropped, ended: signal.aborted ? 'aborted' : ended, startedAt, endedAt: clock.now() }
}
