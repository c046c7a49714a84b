import { describe, expect, it } from 'vitest'
import { mannWhitneyU } from '../../../harness/regression/mann-whitney.ts'

describe('Mann–Whitney U, exact', () => {
  it('interleaved 3 vs 3: U = 3, P(U ≤ 3) = 7/20', () => {
    // U counts pairs x > y: 3 > 2, 5 > 2, 5 > 4. For m = n = 3 the counts of U = 0..9 are
    // 1 1 2 3 3 3 3 2 1 1 (partitions in a 3 × 3 box, out of C(6, 3) = 20).
    const r = mannWhitneyU([1, 3, 5], [2, 4, 6])
    expect(r.method, 'exact without ties').toBe('exact')
    expect(r.u, 'U').toBe(3)
    expect(r.pLess, 'P(U ≤ 3) = (1 + 1 + 2 + 3) / 20').toBeCloseTo(0.35, 14)
    expect(r.pGreater, 'P(U ≥ 3) = 1 − 4/20').toBeCloseTo(0.8, 14)
    expect(r.pTwoSided, '2 · 0.35').toBeCloseTo(0.7, 14)
  })

  it('separated 3 vs 3: U = 0 and the smallest attainable p, 1/20', () => {
    const r = mannWhitneyU([1, 2, 3], [4, 5, 6])
    expect(r.u, 'U').toBe(0)
    expect(r.pLess, 'P(U ≤ 0) = 1/20').toBeCloseTo(0.05, 14)
    expect(r.minAttainableP, '1 / C(6, 3)').toBeCloseTo(0.05, 14)
  })

  it('separated 10 vs 10 reaches 1 / C(20, 10)', () => {
    const x = Array.from({ length: 10 }, (_, i) => 100 + i)
    const y = Array.from({ length: 10 }, (_, i) => i)
    const r = mannWhitneyU(x, y)
    expect(r.u, 'U = m · n').toBe(100)
    expect(r.pGreater, '1 / 184756').toBeCloseTo(1 / 184756, 15)
    expect(r.pLess, 'the other tail').toBe(1)
  })

  it('swapping the samples swaps the tails', () => {
    const a = mannWhitneyU([1, 3, 5, 7], [2, 4, 8])
    const b = mannWhitneyU([2, 4, 8], [1, 3, 5, 7])
    expect(b.u, 'U of y = m·n − U of x').toBe(12 - a.u)
    expect(b.pLess, 'tails swap').toBeCloseTo(a.pGreater, 14)
  })
})

describe('Mann–Whitney U, normal approximation', () => {
  it('corrects for ties: x = 1 2 2 3, y = 2 3 3 4', () => {
    // Mid-ranks: 1 → 1, the three 2s → 3, the three 3s → 6, 4 → 8; R_x = 1 + 3 + 3 + 6 = 13, U = 13 − 10 = 3.
    // σ² = 16/12 · (9 − (24 + 24) / 56) = 10.857143; z = (3 − 8 + 0.5) / σ = −1.365700.
    const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4])
    expect(r.method, 'ties force the approximation').toBe('normal')
    expect(r.ties, 'ties').toBe(true)
    expect(r.u, 'U').toBe(3)
    expect(r.pLess, 'Φ(−1.365700)').toBeCloseTo(0.0860169, 6)
    expect(r.pGreater, 'Φ((8 − 3 + 0.5) / σ)').toBeCloseTo(0.9524598, 6)
  })

  it('approximates above 50 pooled values', () => {
    const x = Array.from({ length: 30 }, (_, i) => 2 * i)
    const y = Array.from({ length: 30 }, (_, i) => 2 * i + 1)
    const r = mannWhitneyU(x, y)
    // U = Σ_i i = 435 of 900; σ² = 900 · 61 / 12 = 4575; z = (435 − 450 + 0.5) / 67.6387.
    expect(r.method, 'normal').toBe('normal')
    expect(r.u, 'U').toBe(435)
    expect(r.pLess, 'Φ(−0.214374)').toBeCloseTo(0.415127, 5)
  })

  it('gives p = 1 when every value is tied, and refuses exact with ties', () => {
    expect(mannWhitneyU([2, 2, 2], [2, 2]).pTwoSided, 'all tied').toBe(1)
    expect(() => mannWhitneyU([1, 2], [2, 3], { method: 'exact' }), 'exact with a tie').toThrow(RangeError)
    expect(() => mannWhitneyU([], [1]), 'empty').toThrow(RangeError)
  })
})
