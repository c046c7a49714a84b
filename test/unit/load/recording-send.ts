/**
 * A fake send() for executor tests: records when each request was intended and handed over, and takes
 * a fake-clock sleep as its "duration". Tracks the peak number in flight.
 */
import type { LoadContext } from '../../../harness/load/types.ts'
import { createRandom } from '../../../harness/random.ts'
import { createFakeClock, type FakeClock } from '../../helpers/fake-clock.ts'

export interface SentRequest {
  index: number
  scheduledAt: number
  sentAt: number
  /** In flight right after this one was handed over (itself included). */
  inFlightAtSend: number
  finishedAt?: number
}

export interface Harness {
  clock: FakeClock
  controller: AbortController
  ctx: LoadContext
  sent: SentRequest[]
  maxInFlight(): number
}

export interface HarnessOptions {
  /** Clock reading at the start; non-zero to catch code that assumes an origin of 0. @default 1000 */
  start?: number
  /** Fake-clock time each request takes, by send index. ms. @default 100 */
  durationMs?: (index: number) => number
  /** Seed of ctx.random. @default 1 */
  seed?: number
  /** Runs synchronously inside send(), before its sleep (e.g. clock.stall to make the client late). */
  onSend?: (request: SentRequest, clock: FakeClock) => void
  /** Signal the fake request honours, standing for the caller aborting in-flight requests. */
  requestSignal?: AbortSignal
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const clock = createFakeClock(options.start ?? 1000)
  const controller = new AbortController()
  const sent: SentRequest[] = []
  let inFlight = 0
  let peak = 0
  const send = async (scheduledAt: number): Promise<void> => {
    inFlight++
    peak = Math.max(peak, inFlight)
    const request: SentRequest = {
      index: sent.length,
      scheduledAt,
      sentAt: clock.now(),
      inFlightAtSend: inFlight,
    }
    sent.push(request)
    options.onSend?.(request, clock)
    try {
      await clock.sleep(options.durationMs?.(request.index) ?? 100, options.requestSignal)
    } catch {
      // Aborted by the caller: the real runner records an `aborted` outcome and resolves.
    }
    request.finishedAt = clock.now()
    inFlight--
  }
  return {
    clock,
    controller,
    ctx: { clock, signal: controller.signal, send, random: createRandom(options.seed ?? 1) },
    sent,
    maxInFlight: () => peak,
  }
}
