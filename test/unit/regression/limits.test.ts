import { describe, expect, it } from 'vitest'
import {
  deltaIqrLimits,
  deltaQuartiles,
  iqrLimits,
  percentageLimits,
  quartiles,
  tTestLimits,
  zScoreLimits,
} from '../../../harness/regression/limits.ts'

describe('Bencher’s documented examples', () => {
  it('t-test: n = 25, mean 100, sd 10, boundary 0.977 → 78.54 and 121.46', () => {
    const limits = tTestLimits({ mean: 100, sd: 10, n: 25 }, 0.977)
    expect(limits.center, 'baseline = mean').toBe(100)
    expect(limits.lower, 'lower limit 78.54').toBeCloseTo(78.54, 2)
    expect(limits.upper, 'upper limit 121.46').toBeCloseTo(121.46, 2)
    // 100 + t(0.977, 24) · 10 · √(1 + 1/25) = 100 + 2.104415 · 10.198039.
    expect(limits.upper, 'upper limit to 1e-5').toBeCloseTo(121.460903, 5)
  })

  it('z-score: mean 100, sd 10, boundary 0.977 → 80.05 and 119.95', () => {
    const limits = zScoreLimits({ mean: 100, sd: 10 }, 0.977)
    expect(limits.lower, 'lower limit 80.05').toBeCloseTo(80.05, 2)
    expect(limits.upper, 'upper limit 119.95').toBeCloseTo(119.95, 2)
  })

  it('percentage: mean 1, boundary 0.1 → 0.9 and 1.1 (limit.rs)', () => {
    const limits = percentageLimits(1, 0.1)
    expect(limits.lower, 'lower').toBeCloseTo(0.9, 12)
    expect(limits.upper, 'upper').toBeCloseTo(1.1, 12)
  })
})

describe('t-test and z-score for a mean of repetitions', () => {
  it('narrows the t interval to √(1/k + 1/n)', () => {
    // t(0.99, 24) = 2.492159; 10 · √(1/4 + 1/25) = 5.385165.
    const limits = tTestLimits({ mean: 100, sd: 10, n: 25 }, 0.99, 4)
    expect(100 - limits.lower, 'half width, 4 repetitions').toBeCloseTo(2.492159 * 5.385165, 4)
  })

  it('divides the z interval by √k', () => {
    const limits = zScoreLimits({ mean: 100, sd: 10 }, 0.977, 4)
    expect(limits.upper, '100 + 19.953933 / 2').toBeCloseTo(109.976967, 5)
  })

  it('rejects what has no interval', () => {
    expect(() => tTestLimits({ mean: 1, sd: 1, n: 1 }, 0.99), 'n = 1').toThrow(RangeError)
    expect(() => tTestLimits({ mean: 1, sd: 1, n: 5 }, 1), 'confidence 1').toThrow(RangeError)
    expect(() => zScoreLimits({ mean: 1, sd: 1 }, 0.4), 'confidence below 0.5').toThrow(RangeError)
  })
})

describe('quartiles, IQR and delta-IQR (Bencher quartiles.rs)', () => {
  it('interpolates quartiles linearly', () => {
    expect(quartiles([1, 2, 3, 4, 5]), '1..5').toEqual({ q1: 2, q2: 3, q3: 4 })
    expect(quartiles([9, -6, 1, 9, -6, 1]), 'bimodal: rank 1.25 → −6 + 0.25 · 7').toEqual({
      q1: -4.25,
      q2: 1,
      q3: 7,
    })
  })

  it('iqr: median ∓ k · IQR, k = 1.5 on 1..5 → 0 and 6', () => {
    const limits = iqrLimits(quartiles([5, 4, 3, 2, 1]), 1.5)
    expect(limits, 'limits').toEqual({ center: 3, lower: 0, upper: 6 })
  })

  it('delta quartiles of adjacent relative changes', () => {
    // |2−1|/1 = 1, |3−2|/2 = 0.5, |4−3|/3 = 0.3333, |5−4|/4 = 0.25 → sorted [0.25, 0.3333, 0.5, 1].
    const q = deltaQuartiles([1, 2, 3, 4, 5])
    expect(q.q1, 'Q1: rank 0.75 → 0.25 + 0.75 · 0.08333').toBeCloseTo(0.3125, 12)
    expect(q.q2, 'Q2: rank 1.5').toBeCloseTo(0.416667, 6)
    expect(q.q3, 'Q3: rank 2.25 → 0.5 + 0.25 · 0.5').toBeCloseTo(0.625, 12)
  })

  it('delta-iqr: median ∓ median · k · IQR(deltas), k = 2 on 1..5 → 3 ∓ 1.875', () => {
    const values = [1, 2, 3, 4, 5]
    const limits = deltaIqrLimits(quartiles(values), deltaQuartiles(values), 2)
    expect(limits.lower, 'lower').toBeCloseTo(1.125, 12)
    expect(limits.upper, 'upper').toBeCloseTo(4.875, 12)
  })

  it('order matters for delta quartiles, zeros are handled', () => {
    expect(deltaQuartiles([5, 4, 3, 2, 1]).q1, 'descending 1..5 (Bencher: 0.2375)').toBeCloseTo(0.2375, 12)
    expect(deltaQuartiles([0, 0, 0]), 'no change from 0').toEqual({ q1: 0, q2: 0, q3: 0 })
    expect(() => deltaQuartiles([1]), 'one value').toThrow(RangeError)
  })

  it('scales IQR limits for a mean of repetitions', () => {
    expect(iqrLimits({ q1: 1, q2: 2, q3: 3 }, 1.5, 4).upper, '2 + 3 / √4').toBe(3.5)
  })
})
