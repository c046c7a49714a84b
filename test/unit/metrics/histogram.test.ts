import { describe, expect, it } from 'vitest'
import { createLatencyHistogram, decodeLatencyHistogram } from '../../../harness/metrics/histogram.ts'
import { createRandom } from '../../../harness/random.ts'

/** HdrHistogram's percentile: the smallest recorded value with at least p % of samples at or below it. */
function nearestRank(sorted: readonly number[], p: number): number {
  // The rank is an integer count; the epsilon keeps 99.9 % of 25,000 from rounding up to 24,976.
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9)) - 1]!
}

/** Lognormal latencies in whole microseconds (so recording loses nothing to rounding), as ms. */
function latencies(seed: number, count: number, medianMs: number): number[] {
  const random = createRandom(seed)
  return Array.from(
    { length: count },
    () => Math.round(medianMs * Math.exp(0.8 * random.normal()) * 1000) / 1000,
  )
}

const PERCENTILES = [1, 10, 50, 90, 95, 99, 99.9, 100]

describe('LatencyHistogram', () => {
  it('merges two histograms to within 0.1 % of the exact percentiles of all samples', () => {
    const a = latencies(1, 20_000, 40)
    const b = latencies(2, 5_000, 900) // a slower second client: a bimodal union
    const left = createLatencyHistogram()
    const right = createLatencyHistogram()
    for (const v of a) left.record(v)
    for (const v of b) right.record(v)
    left.merge(right)
    const all = [...a, ...b].sort((x, y) => x - y)
    expect(left.count, 'merged count').toBe(25_000)
    for (const p of PERCENTILES) {
      const exact = nearestRank(all, p)
      const got = left.percentile(p)!
      expect(Math.abs(got - exact) / exact, `p${p}: ${got} vs exact ${exact}`).toBeLessThanOrEqual(0.001)
    }
  })

  it('survives encode and decode, and keeps growing afterwards', () => {
    const h = createLatencyHistogram()
    for (const v of latencies(3, 2_000, 25)) h.record(v)
    const encoded = h.encode()
    expect(encoded, 'base64').toMatch(/^[A-Za-z0-9+/]+=*$/)
    const back = decodeLatencyHistogram(encoded)
    expect(back.count, 'count').toBe(2_000)
    for (const p of PERCENTILES) expect(back.percentile(p), `p${p}`).toBe(h.percentile(p))
    back.record(3_600_000) // an hour, far above anything recorded before
    expect(back.percentile(100), 'max after recording past the decoded range').toBeCloseTo(3_600_000, -4)
  })

  it('is exact at microsecond resolution below ~2 ms', () => {
    const h = createLatencyHistogram()
    for (const v of [0.001, 0.5, 1.25, 2]) h.record(v)
    expect(h.percentile(25), 'p25').toBe(0.001)
    expect(h.percentile(50), 'p50').toBe(0.5)
    expect(h.percentile(75), 'p75').toBe(1.25)
    expect(h.percentile(100), 'p100').toBe(2)
  })

  it('reports nothing when empty and refuses invalid input', () => {
    const h = createLatencyHistogram()
    expect(h.percentile(50), 'empty').toBeUndefined()
    expect(() => h.record(-1), 'negative latency').toThrow(RangeError)
    expect(() => h.record(Number.NaN), 'NaN latency').toThrow(RangeError)
    expect(() => h.percentile(101), 'p > 100').toThrow(RangeError)
  })
})
