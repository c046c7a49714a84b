/**
 * The life of one HTTP request: the caller's signal turned into the cheap abort source the HTTP client
 * obeys. The engine keeps no timer of its own: the caller (request.ts, for a run) owns the request's
 * timeout and aborts this signal with its own reason. When the request fails, `settle()` decides what the
 * caller sees: the caller's abort reason unchanged, or the client's own error.
 * @module
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import { RequestError } from '../../errors.ts'

/** Caller signals whose listener limit was already lifted (checking the limit each time costs more). */
const raisedSignals = new WeakSet<AbortSignal>()

/**
 * The `signal` undici accepts besides AbortSignal (an emitter with `aborted`, `reason` and an 'abort'
 * event). An AbortController costs several microseconds per request, which shows at tens of thousands
 * of requests per second; this costs next to nothing.
 */
export class AbortSource extends EventEmitter {
  aborted = false
  reason: unknown = undefined

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.emit('abort')
  }
}

export class RequestScope {
  /** Pass to undici's `signal`. */
  readonly source = new AbortSource()
  /** The caller aborted or the timeout fired (a plain field: cheap to test per chunk). */
  cut = false
  #controller: AbortController | undefined
  readonly #onAbort: () => void

  constructor(readonly callerSignal: AbortSignal) {
    this.#onAbort = () => this.#cut(callerSignal.reason)
    // A run-wide signal shared by hundreds of concurrent requests is normal use, not a listener leak. No
    // getMaxListeners() first: on Node 20 it throws for an AbortSignal whose limit is already 0 (as the
    // runner sets on its own), so a caller passing such a signal failed every request.
    if (!raisedSignals.has(callerSignal)) {
      raisedSignals.add(callerSignal)
      setMaxListeners(0, callerSignal)
    }
    callerSignal.addEventListener('abort', this.#onAbort, { once: true })
  }

  /** A real AbortSignal following the scope, for clients that need one (fetch, the openai SDK). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.cut) this.#controller.abort(this.source.reason)
    }
    return this.#controller.signal
  }

  #cut(reason: unknown): void {
    if (this.cut) return
    this.cut = true
    this.source.abort(reason)
    this.#controller?.abort(reason)
  }

  /**
   * What to throw for `error`, caught while the request ran. The caller's abort (its timeout or the run's
   * interrupt) wins over whatever the client reported, since the client only failed because it was cut off.
   */
  settle(error: unknown, classify: (error: unknown) => unknown): unknown {
    if (this.callerSignal.aborted) return this.callerSignal.reason
    if (error instanceof RequestError) return error
    return classify(error)
  }

  /** Throws the caller's reason when the request was cut off without an error. */
  throwIfCut(): void {
    if (this.callerSignal.aborted) throw this.callerSignal.reason
  }

  dispose(): void {
    this.callerSignal.removeEventListener('abort', this.#onAbort)
  }
}

/** Message of an error and of its cause chain (undici wraps the socket error in `cause`). */
export function describeError(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code
      const text =
        typeof code === 'string' && !current.message.includes(code)
          ? `${current.message} (${code})`
          : current.message
      if (text.length > 0 && !parts.includes(text)) parts.push(text)
      current = current.cause
    } else {
      parts.push(String(current))
      break
    }
  }
  return parts.length > 0 ? parts.join(': ') : 'unknown error'
}
