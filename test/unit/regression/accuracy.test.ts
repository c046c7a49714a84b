/**
 * The accuracy verdict: hand-computed McNemar exact p-values (X ~ Binomial(b + c, ½), one-sided
 * P(X ≤ c)), the minimum effect as a fraction of the baseline accuracy, the mirror-image improvement, the
 * unpaired fallback, and the pairing of items by id with failed items left out of both sides.
 */
import { describe, expect, it } from 'vitest'
import { compareItems, evaluateAccuracy, type ItemResult } from '../../../harness/regression/index.ts'

/** A paired table of n items: a both right, b base right → variant wrong, c base wrong → variant right. */
const paired = (n: number, a: number, b: number, c: number) => ({
  kind: 'paired' as const,
  table: { n, bothCorrect: a, onlyBase: b, onlyVariant: c, neither: n - a - b - c },
})

describe('evaluateAccuracy', () => {
  it('flags 15 of 80 right answers turned wrong: p = ½^15', () => {
    const v = evaluateAccuracy(paired(100, 65, 15, 0))
    expect(v.method, 'paired → McNemar').toBe('mcnemar-exact')
    expect(v.verdict, 'regression').toBe('regression')
    expect(v.pValue, '½^15 = 3.0517578125e-5').toBeCloseTo(3.0517578125e-5, 15)
    expect(v.candidate, '65/100').toBe(0.65)
    expect(v.baselineValue, '80/100').toBe(0.8)
    expect(v.candidateN, 'items').toBe(100)
    expect(v.baseline?.n, 'baseline items').toBe(100)
    expect(v.deltaPct, '(0.65 − 0.8) / 0.8').toBeCloseTo(-18.75, 10)
    expect(v.lowerLimit, 'a band below the baseline').toBeLessThan(0.8)
    expect(v.lowerLimit, 'the candidate below it').toBeGreaterThan(0.65)
    expect(v.reason, 'names the test, the discordant pairs and Δacc with its interval').toMatch(
      /Δacc −15 points, 98 % CI \[−\d+(\.\d+)?, −\d+(\.\d+)?\]: McNemar exact one-sided p = 3\.1e-5 \(15 right → wrong, 0 wrong → right, 100 paired items\) < 0\.01/,
    )
  })

  it('passes the same answers: no discordant pair, p = 1', () => {
    const v = evaluateAccuracy(paired(100, 80, 0, 0))
    expect(v.verdict, 'ok').toBe('ok')
    expect(v.pValue, 'P(X ≤ 0), X ~ Bin(0, ½)').toBe(1)
    expect(v.deltaPct, 'no change').toBe(0)
  })

  it('judges at 1 − confidence: b = 8, c = 1 has p = 10/512', () => {
    // P(X ≤ 1), X ~ Bin(9, ½) = (1 + 9) / 2^9 = 0.01953125
    const at95 = evaluateAccuracy(paired(100, 72, 8, 1), { confidence: 0.95 })
    expect(at95.pValue, '10/512').toBeCloseTo(0.01953125, 15)
    expect(at95.verdict, '< 0.05: regression').toBe('regression')
    expect(evaluateAccuracy(paired(100, 72, 8, 1)).verdict, 'not < 0.01 (default 0.99)').toBe('ok')
    // Δacc −7 points is 8.75 % of 0.80: a 10 % minimum effect (8 points) is not reached.
    const small = evaluateAccuracy(paired(100, 72, 8, 1), { confidence: 0.95, minEffect: 0.1 })
    expect(small.verdict, 'significant but within the minimum effect').toBe('ok')
    expect(small.reason, 'says so').toMatch(/below 0\.05 but within the 10 % minimum effect \(8 points\)/)
  })

  it('b = 5, c = 1 is not significant: p = 7/64', () => {
    const v = evaluateAccuracy(paired(100, 75, 5, 1), { confidence: 0.95 })
    expect(v.pValue, '(1 + 6) / 2^6').toBeCloseTo(0.109375, 15)
    expect(v.verdict, 'ok').toBe('ok')
    expect(v.reason, 'not below').toMatch(/p = 0\.11 .*not below 0\.05/)
  })

  it('calls a significant rise an improvement, with the p of the rise', () => {
    // 10 wrong → right, none the other way: P(X ≤ 0), X ~ Bin(10, ½) = 1/1024.
    const v = evaluateAccuracy(paired(100, 60, 0, 10))
    expect(v.verdict, 'improvement').toBe('improvement')
    expect(v.pValue, '1/1024').toBeCloseTo(1 / 1024, 15)
  })

  it('falls back to the two-proportion z-test, and to Fisher when a cell is small', () => {
    const v = evaluateAccuracy({
      kind: 'unpaired',
      base: { correct: 80, n: 100 },
      variant: { correct: 65, n: 100 },
    })
    // pooled 0.725, se = sqrt(0.725 · 0.275 · 2/100) = 0.0631467, z = 0.15/se = 2.37541, P(Z > z) = 0.0087644
    expect(v.method, 'z-test').toBe('two-proportion-z')
    expect(v.pValue, 'one-sided normal tail').toBeCloseTo(0.0087644, 6)
    expect(v.verdict, '< 0.01 and 18.75 % down').toBe('regression')
    const small = evaluateAccuracy({
      kind: 'unpaired',
      base: { correct: 9, n: 10 },
      variant: { correct: 5, n: 10 },
    })
    // Fisher: P(X ≤ 5), X ~ Hypergeometric(20 items, 14 right, 10 drawn), X ≥ 4:
    // C(14,4)·C(6,6) + C(14,5)·C(6,5) = 1001 + 12012 = 13013 of C(20,10) = 184756 → 0.0704334.
    expect(small.method, 'expected wrong answers 3 < 5: Fisher').toBe('fisher-exact')
    expect(small.pValue, 'hypergeometric tail').toBeCloseTo(13013 / 184756, 10)
    expect(small.verdict, 'not significant with 10 items').toBe('ok')
  })

  it('says insufficient data with nothing scored or too few items', () => {
    expect(evaluateAccuracy(undefined).verdict, 'nothing scored').toBe('insufficient-data')
    expect(evaluateAccuracy(paired(3, 3, 0, 0)).verdict, '3 items < minSamples 5').toBe('insufficient-data')
    expect(() => evaluateAccuracy(paired(100, 80, 0, 0), { confidence: 0.5 }), 'no interval at 0').toThrow(
      /must be in \(0\.5, 1\)/,
    )
  })
})

describe('compareItems', () => {
  const run = (outcomes: (boolean | null)[], prefix = 'a/test/') =>
    outcomes.map((correct, i): ItemResult => ({ id: `${prefix}${i}`, correct }))

  it('pairs the same items by id, whatever their order, leaving a failed item out of both sides', () => {
    const base = run([true, true, false, true, null])
    const candidate = run([false, true, true, null, true]).reverse()
    const c = compareItems(base, candidate)
    expect(c.comparison, 'items 0–2 paired; 3 failed in the candidate, 4 in the baseline').toEqual({
      kind: 'paired',
      table: { n: 3, bothCorrect: 1, onlyBase: 1, onlyVariant: 1, neither: 0 },
    })
    expect(c.leftOut, 'one failed item per side').toEqual({ base: 1, candidate: 1 })
    expect(c.unpairedBecause, 'paired').toBeUndefined()
  })

  it('compares different item sets unpaired, each side without its failed items', () => {
    const c = compareItems(run([true, true, false, null]), run([true, false, false], 'b/test/'))
    expect(c.comparison, 'proportions').toEqual({
      kind: 'unpaired',
      base: { correct: 2, n: 3 },
      variant: { correct: 1, n: 3 },
    })
    expect(c.unpairedBecause, 'says why').toBe(
      'the runs asked different items (4 baseline, 3 candidate, 0 in common)',
    )
  })
})
