/**
 * Closed-loop executors (sequential = one worker, concurrent N = N workers): a worker sends its next
 * request as soon as its previous one finished, so the server's speed sets the pace.
 * @module
 */
import { HarnessError } from '../errors.ts'
import type { LoadContext, LoadResult } from './types.ts'

export interface ClosedLoopLimits {
  /** Total requests shared by all workers. */
  requests?: number | undefined
  /** No new request starts this long after the start; in-flight ones finish. s. */
  durationS?: number | undefined
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
  let sent = 0
  let failure: { error: unknown } | undefined

  const worker = async (): Promise<void> => {
    while (!signal.aborted && failure === undefined && sent < budget) {
      const now = clock.now()
      if (now >= deadline) return
      sent++
      try {
        await send(now)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, budget) }, worker))

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
