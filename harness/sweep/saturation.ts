/**
 * Over-saturation, seen while a sweep step runs (guidellm's over-saturation stop, inference-perf's
 * saturation probe): the step is ended early and fails instead of queueing for its whole duration.
 *
 * - **TTFT rising**: at least `minSamples` requests finished, the median TTFT of the last `window` is above
 *   `factor` × the TTFT bound (the sweep's ttftMs SLO; without one, `factor` × the median of the first
 *   `window`), and the least-squares fit of TTFT over send time climbs by more than half the bound over
 *   the sends seen: requests queue and the queue grows, so the step's percentiles can only get worse.
 * - **Client lagging**: the median schedule lag (send − intended time) of the last `window` sends is above
 *   `lagMs` and above that of the first `window` by half of it: the client cannot issue the rate, so the
 *   numbers would describe the client, not the server.
 * @module
 */
import type { RequestOutcome } from '../results.ts'

export interface SaturationOptions {
  /** TTFT bound, ms; undefined: relative to the step's first requests. */
  ttftBoundMs?: number
  /** @default 2 */
  factor?: number
  /** Requests compared at each end. @default 5 */
  window?: number
  /** Finished requests before any verdict. @default 8 */
  minSamples?: number
  /** Schedule lag that means the client is late, ms. @default 50 */
  lagMs?: number
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Least-squares slope of y over x (0 when x does not vary). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length
  let mx = 0
  let my = 0
  for (let i = 0; i < n; i++) {
    mx += xs[i]! / n
    my += ys[i]! / n
  }
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my)
    sxx += (xs[i]! - mx) ** 2
  }
  return sxx === 0 ? 0 : sxy / sxx
}

export class SaturationDetector {
  readonly #o: Required<Omit<SaturationOptions, 'ttftBoundMs'>> & { ttftBoundMs: number | undefined }
  /** Finished requests with a TTFT, in finish order: send time and TTFT, ms. */
  readonly #sendMs: number[] = []
  readonly #ttftMs: number[] = []
  readonly #lagMs: number[] = []

  constructor(options: SaturationOptions = {}) {
    this.#o = {
      ttftBoundMs: options.ttftBoundMs,
      factor: options.factor ?? 2,
      window: options.window ?? 5,
      minSamples: options.minSamples ?? 8,
      lagMs: options.lagMs ?? 50,
    }
  }

  /** Feeds one finished request; returns why the step is over-saturated, or undefined. */
  observe(outcome: RequestOutcome): string | undefined {
    this.#lagMs.push(outcome.startedAt - outcome.scheduledAt)
    if (outcome.ttftMs !== undefined) {
      this.#sendMs.push(outcome.startedAt)
      this.#ttftMs.push(outcome.ttftMs)
    }
    return this.#ttftRising() ?? this.#clientLagging()
  }

  #ttftRising(): string | undefined {
    const { window, minSamples, factor } = this.#o
    const n = this.#ttftMs.length
    if (n < Math.max(minSamples, window)) return undefined
    const recent = median(this.#ttftMs.slice(-window))
    const bound = this.#o.ttftBoundMs ?? median(this.#ttftMs.slice(0, window))
    const s = slope(this.#sendMs, this.#ttftMs)
    // Rising means the fit climbs by at least half the bound over the sends seen, not noise on a plateau.
    const spanMs = this.#sendMs[this.#sendMs.length - 1]! - this.#sendMs[0]!
    if (recent > factor * bound && s * spanMs > bound / 2)
      return `over-saturated: TTFT rising (median of the last ${window} ${recent.toFixed(0)} ms > ${factor} × ${bound.toFixed(0)} ms, slope +${(s * 1000).toFixed(0)} ms/s)`
    return undefined
  }

  #clientLagging(): string | undefined {
    const { window, minSamples, lagMs } = this.#o
    if (this.#lagMs.length < Math.max(minSamples, window)) return undefined
    const recent = median(this.#lagMs.slice(-window))
    const first = median(this.#lagMs.slice(0, window))
    if (recent > lagMs && recent > first + lagMs / 2)
      return `client saturated: schedule lag growing (median of the last ${window} ${recent.toFixed(0)} ms, first ${first.toFixed(0)} ms)`
    return undefined
  }
}
