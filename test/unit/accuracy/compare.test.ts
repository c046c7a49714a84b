import { describe, expect, it } from 'vitest'
import { binomialHalfCdf, hypergeometricCdf } from '../../../harness/accuracy/binomial.ts'
import {
  accuracyDropTest,
  deltaAccPaired,
  deltaAccUnpaired,
  mcnemarExact,
  pairByItemId,
  pairedTable,
  wilsonInterval,
} from '../../../harness/accuracy/compare.ts'

describe('McNemar exact test', () => {
  it('b = 10, c = 2: two-sided p = 2·(1 + 12 + 66)/4096 = 0.0386', () => {
    // P(X ≤ 2), X ~ Bin(12, ½) = (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 79/4096.
    const r = mcnemarExact(10, 2)
    expect(r.pTwoSided, '158/4096').toBeCloseTo(158 / 4096, 15)
    expect(r.pTwoSided.toFixed(4), 'rounded').toBe('0.0386')
    expect(r.pVariantWorse, 'P(X ≥ 10) = 79/4096').toBeCloseTo(79 / 4096, 15)
    expect(r.pVariantBetter, 'P(X ≤ 10) = 1 − (1 + 12)/4096').toBeCloseTo(4083 / 4096, 15)
  })

  it('symmetric, capped at 1, and 1 without discordant pairs', () => {
    expect(mcnemarExact(2, 10).pTwoSided, 'swap').toBeCloseTo(158 / 4096, 15)
    expect(mcnemarExact(5, 5).pTwoSided, 'b = c').toBe(1)
    expect(mcnemarExact(0, 0).pTwoSided, 'none discordant').toBe(1)
    // All 6 discordant pairs one way: 2·(½)^6.
    expect(mcnemarExact(6, 0).pTwoSided, '2/64').toBeCloseTo(2 / 64, 15)
  })

  it('exact at n = 10,000 (log space): 5100 vs 4900, against scipy.stats.binomtest', () => {
    // scipy.stats.binomtest(4900, 10000, 0.5).pvalue = 0.04658552770494645
    expect(mcnemarExact(5100, 4900).pTwoSided, 'two-sided').toBeCloseTo(0.04658552770494645, 12)
    // scipy.stats.binom.cdf(4800, 10000, 0.5) = 3.2967577993361714e-05
    expect(binomialHalfCdf(4800, 10000) / 3.2967577993361714e-5, 'relative').toBeCloseTo(1, 10)
  })

  it('the binomial cdf is a distribution: P(X ≤ k) + P(X ≤ n − k − 1) = 1', () => {
    for (const n of [1, 2, 7, 30, 301, 5000])
      for (const k of [0, 1, Math.floor(n / 3), Math.floor(n / 2), n - 1])
        expect(binomialHalfCdf(k, n) + binomialHalfCdf(n - k - 1, n), `n ${n}, k ${k}`).toBeCloseTo(1, 12)
  })
})

describe('paired table', () => {
  it('counts the four cells; by id whatever the order', () => {
    const base = [true, true, false, false, true]
    const variant = [true, false, true, false, false]
    expect(pairedTable(base, variant), 'cells').toEqual({
      n: 5,
      bothCorrect: 1,
      onlyBase: 2,
      onlyVariant: 1,
      neither: 1,
    })
    const rows = (v: boolean[]) => v.map((correct, i) => ({ id: `s/test/${i}`, correct }))
    expect(pairByItemId(rows(base), rows(variant).reverse()), 'by id').toEqual(pairedTable(base, variant))
    expect(() => pairByItemId(rows(base), rows(variant).slice(1)), 'an item on one side').toThrow(
      /scored in one run only \(e\.g\. s\/test\/0\)/,
    )
  })
})

describe('Δacc intervals', () => {
  it('Wilson 95 % for 56/70: (2x + z² ∓ z·sqrt(z² + 4x(1 − x/n))) / (2(n + z²))', () => {
    // z = 1.959964, z² = 3.841459: (115.841459 ∓ 1.959964·sqrt(3.841459 + 4·56·0.2)) / 147.682918
    // = (115.841459 ∓ 13.669461) / 147.682918 = 0.691834, 0.876953.
    const w = wilsonInterval(56, 70)
    expect(w.lower, 'lower').toBeCloseTo(0.6918335550374693, 12)
    expect(w.upper, 'upper').toBeCloseTo(0.8769526075163705, 12)
    expect(wilsonInterval(0, 10).lower, '0 successes: lower limit 0').toBe(0)
    expect(wilsonInterval(10, 10).upper, 'all successes: upper limit 1').toBe(1)
  })

  it('unpaired: 56/70 − 48/80 = 0.2, Newcombe method 10 gives 0.0524 to 0.3339 (his published example)', () => {
    const d = deltaAccUnpaired({ correct: 48, n: 80 }, { correct: 56, n: 70 })
    expect(d.delta, 'Δ').toBeCloseTo(0.2, 15)
    expect(d.lower, 'lower').toBeCloseTo(0.0524, 4)
    expect(d.upper, 'upper').toBeCloseTo(0.3339, 4)
  })

  it('paired: 80 both, 2 variant only, 10 base only, 8 neither (hand computation)', () => {
    // p_var = 82/100, p_base = 90/100, Δ = −0.08. Wilson 95 %: p_var 0.7333264–0.8829977,
    // p_base 0.8256343–0.9447709. φ = (80·8 − 2·10)/sqrt(82·18·90·10) = 620/1152.562 = 0.537932.
    // lower = Δ − sqrt(0.0866736² − 2φ·0.0866736·0.0447709 + 0.0447709²) = −0.0800 − 0.0730883
    // upper = Δ + sqrt(0.0629977² − 2φ·0.0629977·0.0743657 + 0.0743657²) = −0.0800 + 0.0667734
    // (the same formula as diffdepprop::wilson in R; computed independently in Python: −0.1530883, −0.0132266)
    const d = deltaAccPaired({ n: 100, bothCorrect: 80, onlyVariant: 2, onlyBase: 10, neither: 8 })
    expect(d.delta, 'Δ').toBeCloseTo(-0.08, 15)
    expect(d.lower, 'lower').toBeCloseTo(-0.15308832882273055, 8)
    expect(d.upper, 'upper').toBeCloseTo(-0.013226599275766929, 8)
    expect(d.method, 'method').toBe('newcombe-paired-score')
  })

  it('paired intervals stay inside [−1, 1] and contain Δ, even with few discordant pairs', () => {
    for (const [a, b, c, d] of [
      [100, 0, 0, 0],
      [0, 0, 0, 100],
      [99, 1, 0, 0],
      [0, 50, 50, 0],
      [0, 100, 0, 0],
      [3, 0, 7, 0],
    ] as const) {
      const r = deltaAccPaired({ n: a + b + c + d, bothCorrect: a, onlyVariant: b, onlyBase: c, neither: d })
      expect(r.lower, `lower ≤ Δ for ${[a, b, c, d]}`).toBeLessThanOrEqual(r.delta + 1e-12)
      expect(r.upper, `upper ≥ Δ for ${[a, b, c, d]}`).toBeGreaterThanOrEqual(r.delta - 1e-12)
      expect(r.lower, 'within −1').toBeGreaterThanOrEqual(-1)
      expect(r.upper, 'within 1').toBeLessThanOrEqual(1)
    }
  })
})

describe('accuracyDropTest (the gate)', () => {
  it('paired: McNemar one-sided, b = 10 base-only vs c = 2 → p = 79/4096', () => {
    const table = { n: 100, bothCorrect: 80, onlyBase: 10, onlyVariant: 2, neither: 8 }
    const r = accuracyDropTest({ kind: 'paired', table })
    expect(r.method, 'method').toBe('mcnemar-exact')
    expect(r.pValue, 'P(X ≥ 10 | 12, ½)').toBeCloseTo(79 / 4096, 15)
    expect(r.dropped, 'at α = 0.05').toBe(true)
    expect(accuracyDropTest({ kind: 'paired', table }, 0.01).dropped, 'at α = 0.01').toBe(false)
    expect(r.delta.delta, 'Δ').toBeCloseTo(-0.08, 15)
  })

  it('paired, variant better: no drop', () => {
    const table = { n: 100, bothCorrect: 80, onlyBase: 2, onlyVariant: 10, neither: 8 }
    const r = accuracyDropTest({ kind: 'paired', table })
    expect(r.pValue, 'P(X ≥ 2 | 12, ½) = 1 − 13/4096').toBeCloseTo(4083 / 4096, 15)
    expect(r.dropped, 'no drop').toBe(false)
  })

  it('unpaired, large: pooled two-proportion z, 700/1000 → 650/1000', () => {
    // p̂ = 0.675; se = sqrt(0.675·0.325·(2/1000)) = 0.0209464; z = 0.05/se = 2.387050; scipy norm.sf = 0.0084921.
    const r = accuracyDropTest({
      kind: 'unpaired',
      base: { correct: 700, n: 1000 },
      variant: { correct: 650, n: 1000 },
    })
    expect(r.method, 'method').toBe('two-proportion-z')
    expect(r.pValue, 'one-sided').toBeCloseTo(0.00849210029106536, 9)
    expect(r.dropped, 'dropped').toBe(true)
  })

  it('unpaired, small: Fisher exact when an expected count is below 5, 9/10 → 3/10', () => {
    // Expected wrong answers per group 10·0.4 = 4 < 5. scipy fisher_exact([[3,7],[9,1]], 'less') = 0.0098833.
    const r = accuracyDropTest({
      kind: 'unpaired',
      base: { correct: 9, n: 10 },
      variant: { correct: 3, n: 10 },
    })
    expect(r.method, 'method').toBe('fisher-exact')
    expect(r.pValue, 'hypergeometric tail').toBeCloseTo(0.009883305548940223, 12)
    expect(hypergeometricCdf(3, 20, 12, 10), 'scipy hypergeom.cdf(3, 20, 12, 10)').toBeCloseTo(
      0.009883305548940223,
      12,
    )
  })

  it('unpaired, both perfect: p = 1, no drop', () => {
    const r = accuracyDropTest({
      kind: 'unpaired',
      base: { correct: 50, n: 50 },
      variant: { correct: 40, n: 40 },
    })
    expect(r.pValue, 'p').toBe(1)
    expect(r.dropped, 'no drop').toBe(false)
  })
})
