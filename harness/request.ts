/**
 * Runs one request against an engine and turns whatever happens into a RequestOutcome. This is where the
 * clock is read: tSend just before the engine is asked, then once per content chunk as it arrives. An HTTP
 * engine's first token may carry its own tSend (`sentAtMs`, just before the request was written, METRICS.md),
 * which then replaces ours on the system clock.
 *
 * This is also the one owner of a request's time and cancellation: one AbortController per request, aborted
 * by the request's timeout (→ `timeout`) or the run's interrupt (→ `aborted`); engines obey that signal and
 * keep no timer of their own for the whole request (engines/README.md, "Time and cancellation").
 *
 * Exception: a token event that carries `atMs` (an engine in a child process stamps where the token was
 * produced, so the IPC hop back is not counted; the lean HTTP client where the bytes were read) is timed by
 * that wall-aligned stamp, brought onto the run clock by `clock.fromWallMs` — a clock without it (a fake
 * one in tests) ignores engine stamps. A stamp is never allowed before tSend or the previous chunk, so a
 * clock disagreement cannot make a time negative.
 * @module
 */
import type { Clock } from './clock.ts'
import { canPushEvents, type Engine, type GenerationRequest, type StreamEvent } from './engines/engine.ts'
import { connectionRetriesOf } from './engines/openai/connection-retry.ts'
import { RequestError } from './errors.ts'
import type { ErrorOutcome, RequestOutcome } from './results.ts'

/** Abort reason when the per-request timeout fires (distinguishes `timeout` from `aborted`). */
export class RequestTimeout extends Error {
  override name = 'RequestTimeout'
}

export interface RequestSlot {
  seq: number
  promptIndex: number
  /** tSched, absolute clock ms. */
  scheduledAt: number
}

/**
 * @param origin clock ms that the outcome's timestamps are made relative to
 * @param signal aborted when the run is interrupted (→ `aborted`); the timeout is handled here (→ `timeout`)
 */
export async function executeRequest(
  engine: Engine,
  request: GenerationRequest,
  slot: RequestSlot,
  options: { clock: Clock; origin: number; timeoutMs: number; signal: AbortSignal },
): Promise<RequestOutcome> {
  const { clock, origin } = options
  const deadline = requestDeadline(clock, options.timeoutMs, options.signal, 'no complete response')
  const { signal } = deadline

  const record = new ChunkRecord(clock, clock.now())
  try {
    const stream = engine.generate(request, signal)
    if (canPushEvents(stream)) await stream.pushEvents(record.onEvent)
    else for await (const event of stream) record.onEvent(event)
    if (signal.aborted) throw signal.reason
    const { chunks, tokenSum, t1, tPrev, startedAt, chunkGapsMs, done } = record
    if (chunks === 0) throw new RequestError('stream', 'the response ended without any generated content')
    const serverOutputTokens = done?.tokensSource === 'server' ? done.outputTokens : undefined
    const tokenizerOutputTokens =
      done?.tokensSource === 'tokenizer' ? done.outputTokens : done?.tokenizerOutputTokens
    const outputTokens = serverOutputTokens ?? tokenizerOutputTokens ?? tokenSum
    return {
      state: 'ok',
      seq: slot.seq,
      promptIndex: slot.promptIndex,
      scheduledAt: slot.scheduledAt - origin,
      startedAt: startedAt - origin,
      ttftMs: t1 - startedAt,
      e2eMs: tPrev - startedAt,
      chunkGapsMs,
      chunks,
      ...(done?.promptTokens !== undefined ? { promptTokens: done.promptTokens } : {}),
      outputTokens,
      tokensSource:
        serverOutputTokens !== undefined
          ? 'server'
          : tokenizerOutputTokens !== undefined
            ? 'tokenizer'
            : 'chunks',
      ...(serverOutputTokens !== undefined ? { serverOutputTokens } : {}),
      ...(tokenizerOutputTokens !== undefined ? { tokenizerOutputTokens } : {}),
      ...(done?.finishReason !== undefined ? { finishReason: done.finishReason } : {}),
      ...(done?.serverTimings !== undefined ? { serverTimings: done.serverTimings } : {}),
      ...(done?.connectionRetries ? { connectionRetries: done.connectionRetries } : {}),
    }
  } catch (err) {
    const outcome: ErrorOutcome = {
      state: 'error',
      seq: slot.seq,
      promptIndex: slot.promptIndex,
      scheduledAt: slot.scheduledAt - origin,
      startedAt: record.startedAt - origin,
      error: describeFailure(signal.aborted ? signal.reason : err),
    }
    // Only the run's interrupt makes an `aborted` (left out of errorRate): an abort nobody here asked
    // for is the engine's failure and must count.
    if (outcome.error.kind === 'aborted' && !options.signal.aborted) outcome.error.kind = 'engine'
    const connectionRetries = connectionRetriesOf(err)
    if (connectionRetries > 0) outcome.connectionRetries = connectionRetries
    if (record.chunks > 0) {
      outcome.ttftMs = record.t1 - record.startedAt
      outcome.e2eMs = record.tPrev - record.startedAt
      outcome.chunks = record.chunks
    }
    return outcome
  } finally {
    deadline.release()
  }
}

/**
 * A request's one deadline (what the engine gets as its signal): aborted with a RequestTimeout
 * (`${what} within N ms`) once timeoutMs pass on `clock`, or with the run's reason when `runSignal` aborts,
 * so its reason says who cut the request. `release()` stops the timer and the listener. Used by load
 * requests and by accuracy items (harness/accuracy/evaluate.ts).
 */
export function requestDeadline(
  clock: Clock,
  timeoutMs: number,
  runSignal: AbortSignal,
  what: string,
): { readonly signal: AbortSignal; release(): void } {
  const controller = new AbortController()
  const cancelTimeout = clock.after(timeoutMs, () =>
    controller.abort(new RequestTimeout(`${what} within ${timeoutMs} ms`)),
  )
  const onRunAbort = () => controller.abort(runSignal.reason)
  if (runSignal.aborted) onRunAbort()
  else runSignal.addEventListener('abort', onRunAbort, { once: true })
  return {
    signal: controller.signal,
    release() {
      cancelTimeout()
      runSignal.removeEventListener('abort', onRunAbort)
    },
  }
}

/**
 * What one request's events say, as they arrive: one object per request whose `onEvent` is handed to the
 * engine (pushEvents) or called from the loop, so a chunk costs no closure, and the times are double
 * fields refilled in place rather than a boxed number per chunk.
 */
class ChunkRecord {
  chunks = 0
  tokenSum = 0
  /** tSend, then the first chunk and the latest chunk, clock ms. */
  startedAt: number
  t1 = 0.5
  tPrev = 0.5
  readonly chunkGapsMs: number[] = []
  done: Extract<StreamEvent, { type: 'done' }> | undefined
  readonly #clock: Clock
  /** The run clock's view of engine stamps; undefined (a fake clock): stamps ignored. */
  readonly #fromWallMs: ((wallMs: number) => number) | undefined

  constructor(clock: Clock, startedAt: number) {
    this.#clock = clock
    this.#fromWallMs = clock.fromWallMs
    this.startedAt = startedAt
  }

  readonly onEvent = (event: StreamEvent): void => {
    if (event.type !== 'token') {
      this.done = event
      return
    }
    const fromWallMs = this.#fromWallMs
    const first = this.chunks === 0
    let t: number
    if (fromWallMs === undefined) t = this.#clock.now()
    else {
      // The engine's own tSend (just before the request was written), never before ours.
      if (first && event.sentAtMs !== undefined)
        this.startedAt = Math.max(this.startedAt, fromWallMs(event.sentAtMs))
      t =
        event.atMs === undefined
          ? this.#clock.now()
          : Math.max(fromWallMs(event.atMs), first ? this.startedAt : this.tPrev)
    }
    if (first) this.t1 = t
    else this.chunkGapsMs.push(t - this.tPrev)
    this.tPrev = t
    this.chunks++
    this.tokenSum += event.tokens
  }
}

function describeFailure(err: unknown): ErrorOutcome['error'] {
  if (err instanceof RequestTimeout) return { kind: 'timeout', message: err.message }
  if (err instanceof RequestError)
    return {
      kind: err.kind,
      message: err.message,
      ...(err.status !== undefined ? { status: err.status } : {}),
    }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'RunInterrupted'))
    return { kind: 'aborted', message: err.message }
  return { kind: 'engine', message: err instanceof Error ? err.message : String(err) }
}
