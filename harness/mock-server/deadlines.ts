/**
 * When each content chunk of one response is due: arrival + ttft + k·itl for fixed delays, arrival plus
 * the running sum of independent draws for random ones. Always from the request's arrival, so scheduling
 * error never accumulates.
 * @module
 */
import { createRandom, type Random } from '../random.ts'
import type { Delay } from './options.ts'

export function drawDelayMs(delay: Delay, random: Random): number {
  switch (delay.kind) {
    case 'fixed':
      return delay.ms
    case 'uniform':
      return delay.minMs + random.next() * (delay.maxMs - delay.minMs)
    case 'lognormal':
      return delay.medianMs * Math.exp(delay.sigma * random.normal())
    default: {
      const never: never = delay
      throw new Error(`unknown delay ${JSON.stringify(never)}`)
    }
  }
}

const noRandom: Random = {
  next: () => 0,
  normal: () => 0,
  gamma: () => 0,
  int: (min) => min,
}

export class ChunkDeadlines {
  readonly #firstMs: number
  readonly #itl: Delay
  readonly #random: Random
  #k = -1
  #lastMs = 0

  /**
   * `seed` drives the draws of random delays (one generator per request, none when both are fixed);
   * `ttftScale` multiplies the TTFT draw (a prompt-cache hit leaves only part of the prompt to process).
   */
  constructor(arrivalMs: number, ttft: Delay, itl: Delay, seed: number, ttftScale = 1) {
    this.#random = ttft.kind === 'fixed' && itl.kind === 'fixed' ? noRandom : createRandom(seed)
    this.#firstMs = arrivalMs + ttftScale * drawDelayMs(ttft, this.#random)
    this.#itl = itl
  }

  /** Deadline of the next content chunk (0, 1, 2, … in order), performance.now() milliseconds. */
  next(): number {
    this.#k++
    if (this.#k === 0) this.#lastMs = this.#firstMs
    else if (this.#itl.kind === 'fixed') this.#lastMs = this.#firstMs + this.#k * this.#itl.ms
    else this.#lastMs += drawDelayMs(this.#itl, this.#random)
    return this.#lastMs
  }
}
