/**
 * What the process boundary costs, kept beside the measurements (not a metric): how long a generate
 * message takes to reach the child, how long a token event takes to come back (batching included), and
 * the hop of each message batch. Token times use the child's stamps, so only the send latency is in TTFT
 * (as writing the request is for an HTTP engine), and none is in the gaps.
 * @module
 */

export interface LatencySummary {
  n: number
  meanMs: number
  /** Median of the first SAMPLE_CAP samples (linear interpolation). */
  p50Ms: number
  maxMs: number
}

export interface IpcStats {
  /** Parent send → child receipt of each generate message, ms. */
  sendLatency: LatencySummary
  /** Child stamp → arrival in the parent of each token event (batching wait included), ms. */
  tokenLatency: LatencySummary
  /** Child send → parent arrival of each message batch: the IPC hop itself, ms. */
  messageLatency: LatencySummary
}

/** Samples kept per latency for the median; mean and max cover all. */
const SAMPLE_CAP = 100_000

export class LatencyRecorder {
  #n = 0
  #sum = 0
  #max = Number.NEGATIVE_INFINITY
  readonly #samples: number[] = []

  record(ms: number): void {
    this.#n++
    this.#sum += ms
    if (ms > this.#max) this.#max = ms
    if (this.#samples.length < SAMPLE_CAP) this.#samples.push(ms)
  }

  summary(): LatencySummary {
    if (this.#n === 0) return { n: 0, meanMs: Number.NaN, p50Ms: Number.NaN, maxMs: Number.NaN }
    const sorted = [...this.#samples].sort((a, b) => a - b)
    const rank = (sorted.length - 1) / 2
    const lo = Math.floor(rank)
    const p50Ms = sorted[lo]! + (sorted[Math.ceil(rank)]! - sorted[lo]!) * (rank - lo)
    return { n: this.#n, meanMs: this.#sum / this.#n, p50Ms, maxMs: this.#max }
  }
}
