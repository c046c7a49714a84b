/**
 * What the in-process engines (llama-cpp, onnx) share: the default thread count, a queue of decoding slots,
 * abort handling around native calls, and how a request's length options become a generation budget.
 * @module
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { RequestError, toError } from '../../errors.ts'
import type { GenerationRequest } from '../engine.ts'

/**
 * max(1, physical cores − 1), with physical cores estimated as availableParallelism() / 2 (SMT): one core
 * stays free for the harness's event loop, which stamps every token. Measured on the 2-vCPU dev box: the
 * node-llama-cpp default of 4 threads decoded 600× slower than 1 thread (oversubscription).
 */
export function defaultThreads(): number {
  const physical = Math.max(1, Math.floor(availableParallelism() / 2))
  return Math.max(1, physical - 1)
}

/** The installed version of a package whose exports map hides its package.json. */
export function installedVersion(packageName: string): string | undefined {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(packageName))
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: string
          version?: string
        }
        if (pkg.name === packageName) return pkg.version
      } catch {}
      const parent = dirname(dir)
      if (parent === dir) return undefined
      dir = parent
    }
  } catch {
    return undefined
  }
}

/** How many tokens to generate and when end-of-sequence is allowed. */
export interface GenerationBudget {
  /** Generate at most this many tokens. */
  maxTokens: number
  /** End-of-sequence tokens are banned while fewer than this many were generated (Infinity with ignoreEos). */
  banEosBelow: number
  /** Stop strings count only from this many tokens on (vLLM: no stop checks before min_tokens). */
  stopAfterTokens: number
}

/** @param room tokens left in the context after the prompt (generation stops there with `length`) */
export function generationBudget(
  request: GenerationRequest,
  room = Number.POSITIVE_INFINITY,
): GenerationBudget {
  const minTokens = Math.min(request.minTokens ?? 0, request.maxTokens)
  return {
    maxTokens: Math.max(0, Math.min(request.maxTokens, room)),
    banEosBelow: request.ignoreEos ? Number.POSITIVE_INFINITY : minTokens,
    stopAfterTokens: minTokens,
  }
}

/** Resolves with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {})
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

/**
 * A fixed set of decoding slots (node-llama-cpp sequences). A request takes a free slot or waits in FIFO
 * order; an abort while waiting leaves the queue at once.
 */
export class SlotPool<T> {
  readonly #free: T[]
  readonly #waiters: { resolve(slot: T): void; reject(err: unknown): void }[] = []
  #closed: Error | undefined

  constructor(slots: readonly T[]) {
    this.#free = [...slots]
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length
  }

  acquire(signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed)
    if (signal?.aborted) return Promise.reject(signal.reason)
    const slot = this.#free.shift()
    if (slot !== undefined) return Promise.resolve(slot)
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (s: T) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(s)
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter)
        if (i >= 0) this.#waiters.splice(i, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  release(slot: T): void {
    const next = this.#waiters.shift()
    if (next) next.resolve(slot)
    else this.#free.push(slot)
  }

  /** Fails every waiting and future acquire() with `reason` (engine disposed). */
  close(reason: Error): void {
    this.#closed = reason
    for (const w of this.#waiters.splice(0)) w.reject(reason)
  }
}

/**
 * What a native generation's failure becomes: the abort reason when the request was aborted, a
 * RequestError as it is, anything else (a native exception) an `engine` RequestError.
 * @param what names the native library in the message, e.g. 'llama.cpp generation'
 */
export function generationFailure(err: unknown, signal: AbortSignal, what: string): unknown {
  if (signal.aborted) return signal.reason
  if (err instanceof RequestError) return err
  return new RequestError('engine', `${what} failed: ${toError(err).message}`, undefined, { cause: err })
}
