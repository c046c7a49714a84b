/**
 * The mock's capacity model (option `capacity`): B batch slots, a FIFO queue beyond them, and a per-token
 * time that grows with the batch — itl(b) = itl · (1 + itlGrowth · (b − 1)), b = requests holding a slot —
 * so that the mock has a knee (the highest arrival rate that still meets a TTFT / TPOT SLO) one can compute
 * (knee.ts) and practise finding with `bench sweep`. And the token-bucket rate limit (option `rateLimit`).
 *
 * A request takes a slot when it arrives, or waits in the queue until one frees (its wait is part of its
 * TTFT); from the moment it takes a slot it runs as without the model: first content chunk after the TTFT
 * draw, then each next chunk one ITL draw × the factor of the batch at the time the previous chunk went out.
 * It frees its slot when its response ends (last chunk written, connection dropped, or the client left).
 * @module
 */
import { createRandom, type Random } from '../random.ts'
import { drawDelayMs } from './deadlines.ts'
import type { Delay } from './options.ts'

/** Batch slots and the FIFO queue in front of them. */
export class BatchCapacity {
  readonly slots: number
  readonly itlGrowth: number
  #active = 0
  /** Waiting starts, in arrival order (a Set: insertion-ordered, O(1) removal when a client leaves). */
  readonly #queue = new Set<() => void>()

  constructor(slots: number, itlGrowth: number) {
    this.slots = slots
    this.itlGrowth = itlGrowth
  }

  /** Requests holding a slot. */
  get active(): number {
    return this.#active
  }

  /** Requests waiting for one. */
  get waiting(): number {
    return this.#queue.size
  }

  /**
   * Runs `start` now when a slot is free, else once one frees (first come, first served). Returns a
   * function that withdraws a request still waiting (its client left); a no-op once it started.
   */
  admit(start: () => void): () => void {
    if (this.#active < this.slots) {
      this.#active++
      start()
      return () => {}
    }
    this.#queue.add(start)
    return () => {
      this.#queue.delete(start)
    }
  }

  /** A request left its slot: the longest-waiting one takes it. */
  release(): void {
    this.#active = Math.max(0, this.#active - 1)
    for (const start of this.#queue) {
      if (this.#active >= this.slots) break
      this.#queue.delete(start)
      this.#active++
      start()
    }
  }

  /** 1 + itlGrowth · (b − 1) for the current batch b (at least 1: the asking request holds a slot). */
  itlFactor(): number {
    return 1 + this.itlGrowth * (Math.max(1, this.#active) - 1)
  }
}

/**
 * Chunk deadlines under the capacity model: the first at admission + TTFT draw (× ttftScale, the prompt
 * cache), each next one the previous deadline + ITL draw × the batch factor when it is computed (right
 * after the previous chunk was composed). performance.now() milliseconds.
 */
export class CapacityDeadlines {
  readonly #capacity: BatchCapacity
  readonly #itl: Delay
  readonly #random: Random
  #lastMs: number
  #first = true

  constructor(
    admittedMs: number,
    ttft: Delay,
    itl: Delay,
    seed: number,
    ttftScale: number,
    capacity: BatchCapacity,
  ) {
    this.#capacity = capacity
    this.#itl = itl
    this.#random = createRandom(seed)
    this.#lastMs = admittedMs + ttftScale * drawDelayMs(ttft, this.#random)
  }

  next(): number {
    if (this.#first) this.#first = false
    else this.#lastMs += drawDelayMs(this.#itl, this.#random) * this.#capacity.itlFactor()
    return this.#lastMs
  }
}

/**
 * Token bucket: `burst` tokens, refilled at `perS` per second, full at start; each generation request takes
 * one or is refused (429). Times in ms.
 */
export class TokenBucket {
  readonly #perMs: number
  readonly #burst: number
  #tokens: number
  #atMs: number

  constructor(perS: number, burst: number, nowMs: number) {
    this.#perMs = perS / 1000
    this.#burst = burst
    this.#tokens = burst
    this.#atMs = nowMs
  }

  /** Takes a token; false when none is left. */
  take(nowMs: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, nowMs - this.#atMs) * this.#perMs)
    this.#atMs = nowMs
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Whole seconds until a token is back (the Retry-After header), at least 1. */
  retryAfterS(): number {
    return Math.max(1, Math.ceil((1 - this.#tokens) / (this.#perMs * 1000)))
  }
}
