/**
 * Mergeable latency histogram (HdrHistogram, 3 significant digits) for percentiles across runs or
 * clients, where raw samples are not all at hand. Values are kept as integer microseconds, so a
 * reported percentile is at most 0.1 % above the recorded value at that rank (the upper edge of its
 * bucket), and exact below ~2 ms. Percentiles here are nearest-rank (HdrHistogram's definition), not
 * the interpolated ones of `percentile()`.
 * @module
 */
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js'

function createHdr(): Histogram {
  // The pure-JS implementation: the wasm one needs explicit init and destroy().
  return build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
}

export class LatencyHistogram {
  readonly #hdr: Histogram = createHdr()

  /** Reads a histogram written by `encode()`. */
  static decode(encoded: string): LatencyHistogram {
    const histogram = new LatencyHistogram()
    // Decoded histograms do not auto-resize; adding into a fresh one keeps later records and merges safe.
    histogram.#hdr.add(decodeFromCompressedBase64(encoded, 32, false))
    return histogram
  }

  /** Samples recorded or merged in. */
  get count(): number {
    return this.#hdr.totalCount
  }

  /**
   * Records one latency, rounded to the microsecond.
   * @param ms latency in ms, ≥ 0
   */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a finite ms ≥ 0, got ${ms}`)
    this.#hdr.recordValue(Math.round(ms * 1000))
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: LatencyHistogram): this {
    this.#hdr.add(other.#hdr)
    return this
  }

  /**
   * Nearest-rank p-th percentile in ms; undefined when empty.
   * @param p percentile in [0, 100]
   */
  percentile(p: number): number | undefined {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`)
    if (this.#hdr.totalCount === 0) return undefined
    return this.#hdr.getValueAtPercentile(p) / 1000
  }

  /** Compressed base64 (HdrHistogram V2 format, readable by other HdrHistogram ports). */
  encode(): string {
    return encodeIntoCompressedBase64(this.#hdr)
  }
}

export function createLatencyHistogram(): LatencyHistogram {
  return new LatencyHistogram()
}

export function decodeLatencyHistogram(encoded: string): LatencyHistogram {
  return LatencyHistogram.decode(encoded)
}
