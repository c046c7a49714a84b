import { createHistogram } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import {
  distribution,
  percentile,
  percentileOfHistogram,
  type RankedHistogram,
} from '../../../harness/metrics/percentile.ts'
import { createRandom } from '../../../harness/random.ts'

describe('percentile (linear between closest ranks, numpy default)', () => {
  const four = [1, 2, 3, 4]

  it('interpolates at rank p/100 · (n − 1)', () => {
    expect(percentile(four, 0), 'p0 = min').toBe(1)
    expect(percentile(four, 25), 'p25: rank 0.75 → 1.75').toBeCloseTo(1.75, 12)
    expect(percentile(four, 50), 'p50: rank 1.5 → 2.5').toBe(2.5)
    expect(percentile(four, 90), 'p90: rank 2.7 → 3.7').toBeCloseTo(3.7, 12)
    expect(percentile(four, 99), 'p99: rank 2.97 → 3.97').toBeCloseTo(3.97, 12)
    expect(percentile(four, 99.9), 'p99.9: rank 2.997 → 3.997').toBeCloseTo(3.997, 12)
    expect(percentile(four, 100), 'p100 = max').toBe(4)
  })

  it('returns the sample itself on an exact rank', () => {
    const five = [10, 20, 30, 40, 50]
    expect(percentile(five, 25), 'p25: rank 1').toBe(20)
    expect(percentile(five, 75), 'p75: rank 3').toBe(40)
  })

  it('matches numpy on 1..1000', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1)
    expect(percentile(values, 50), 'p50: rank 499.5').toBe(500.5)
    expect(percentile(values, 90), 'p90: rank 899.1').toBeCloseTo(900.1, 9)
    expect(percentile(values, 99.9), 'p99.9: rank 998.001').toBeCloseTo(999.001, 9)
  })

  it('gives the one value of a single sample for every p', () => {
    for (const p of [0, 50, 99.9, 100]) expect(percentile([7], p), `p${p} of [7]`).toBe(7)
  })

  it('rejects empty input and p outside [0, 100]', () => {
    expect(() => percentile([], 50), 'empty').toThrow(RangeError)
    expect(() => percentile(four, -1), 'p = -1').toThrow(RangeError)
    expect(() => percentile(four, 100.5), 'p = 100.5').toThrow(RangeError)
    expect(() => percentile(four, Number.NaN), 'p = NaN').toThrow(RangeError)
  })
})

describe('distribution', () => {
  it('summarizes [4, 1, 3, 2] without mutating the input', () => {
    const input = [4, 1, 3, 2]
    const d = distribution(input)!
    expect(d.n, 'n').toBe(4)
    expect(d.mean, 'mean').toBe(2.5)
    expect(d.sd, 'sample sd = sqrt(5/3)').toBeCloseTo(Math.sqrt(5 / 3), 12)
    expect(d.min, 'min').toBe(1)
    expect(d.max, 'max').toBe(4)
    expect(d.p50, 'p50').toBe(2.5)
    expect(d.p90, 'p90').toBeCloseTo(3.7, 12)
    expect(d.p95, 'p95: rank 2.85').toBeCloseTo(3.85, 12)
    expect(d.p99, 'p99').toBeCloseTo(3.97, 12)
    expect(d.p999, 'p99.9').toBeCloseTo(3.997, 12)
    expect(input, 'input order kept').toEqual([4, 1, 3, 2])
  })

  it('has sd 0 for one sample', () => {
    expect(distribution([5]), 'one sample').toEqual({
      n: 1,
      mean: 5,
      sd: 0,
      min: 5,
      max: 5,
      p50: 5,
      p90: 5,
      p95: 5,
      p99: 5,
      p999: 5,
    })
  })

  it('is exact for equal values whose float sum is not', () => {
    // 0.1 + 0.1 + 0.1 = 0.30000000000000004, so a naive mean would be 0.10000000000000002.
    const d = distribution([0.1, 0.1, 0.1])!
    expect(d.mean, 'mean of equal values').toBe(0.1)
    expect(d.sd, 'sd of equal values').toBe(0)
    expect(d.p999, 'p99.9 of equal values').toBe(0.1)
  })

  it('leaves out non-finite values and is undefined when nothing remains', () => {
    const d = distribution([1, Number.NaN, Number.POSITIVE_INFINITY, 3])!
    expect(d.n, 'finite samples kept').toBe(2)
    expect(d.mean, 'mean of kept').toBe(2)
    expect(distribution([]), 'empty').toBeUndefined()
    expect(distribution([Number.NaN]), 'only NaN').toBeUndefined()
  })
})

describe('percentileOfHistogram', () => {
  /** HdrHistogram's rank rule over exact samples: value at 1-based rank max(1, round(p/100 · n)). */
  const ranked = (values: number[]): RankedHistogram => {
    const sorted = [...values].sort((a, b) => a - b)
    return {
      count: sorted.length,
      percentile: (p) => sorted[Math.max(1, Math.floor((p / 100) * sorted.length + 0.5)) - 1]!,
    }
  }

  it('matches percentile() on the same values for every size and percentile', () => {
    const random = createRandom(7)
    for (let n = 1; n <= 120; n++) {
      const values = Array.from({ length: n }, () => Math.round(random.next() * 1000))
      const sorted = [...values].sort((a, b) => a - b)
      for (const p of [0, 1, 50, 90, 95, 99, 99.9, 100])
        expect(percentileOfHistogram(ranked(values), p), `n=${n} p${p}`).toBe(percentile(sorted, p))
    }
  })

  it('reads a real Node histogram: one pause among 40 samples is not its p99, two are', () => {
    const h = createHistogram()
    for (let i = 0; i < 39; i++) h.record(1_000)
    h.record(6_000)
    expect(h.percentile(99), "Node's own p99 is the maximum up to 50 samples").toBeCloseTo(6_000, -1)
    // numpy: rank 0.99 · 39 = 38.61 → 1000 + 0.61 · 5000 = 4050 (HdrHistogram keeps 3 significant digits).
    expect(percentileOfHistogram(h, 99)).toBeCloseTo(4_050, -1)
    h.record(6_000)
    expect(percentileOfHistogram(h, 99), 'two pauses in 41 samples').toBeGreaterThan(5_900)
  })

  it('throws on an empty histogram', () => {
    expect(() => percentileOfHistogram(createHistogram(), 99)).toThrow(RangeError)
  })
})
