import { describe, expect, it } from 'vitest'
import { EVALUATE_DEFAULTS, evaluate } from '../../../harness/regression/evaluate.ts'

/** 25 points with mean exactly 100 and sample sd exactly 10: one 100, twelve 90s, twelve 110s. */
const SD10 = [100, ...Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? 90 : 110))]

describe('evaluate, t-test (the default)', () => {
  it('reproduces Bencher’s limits on a baseline with mean 100 and sd 10', () => {
    const v = evaluate('higher', SD10, 100, { confidence: 0.977, minEffect: 0 })
    expect(v.baseline?.mean, 'mean').toBe(100)
    expect(v.baseline?.sd, 'sd').toBeCloseTo(10, 12)
    expect(v.lowerLimit, 'lower 78.54').toBeCloseTo(78.54, 2)
    expect(v.upperLimit, 'upper 121.46').toBeCloseTo(121.46, 2)
    expect(v.verdict, 'the mean itself').toBe('ok')
    expect(v.pValue, 'p at the centre').toBeCloseTo(0.5, 12)
  })

  it('is direction-aware: only the worse side is a regression', () => {
    const options = { confidence: 0.977, minEffect: 0 }
    expect(evaluate('higher', SD10, 78, options).verdict, 'throughput 78 < 78.54').toBe('regression')
    expect(evaluate('higher', SD10, 79, options).verdict, 'throughput 79 inside').toBe('ok')
    expect(evaluate('higher', SD10, 122, options).verdict, 'throughput 122 > 121.46').toBe('improvement')
    expect(evaluate('lower', SD10, 122, options).verdict, 'latency 122 > 121.46').toBe('regression')
    expect(evaluate('lower', SD10, 78, options).verdict, 'latency 78 < 78.54').toBe('improvement')
  })

  it('reports Δ %, the baseline and a reason naming the limit', () => {
    const v = evaluate('higher', SD10, 70)
    expect(v.method, 'default method').toBe('t-test')
    expect(v.deltaPct, '(70 − 100) / 100').toBeCloseTo(-30, 12)
    expect(v.baselineValue, 'mean').toBe(100)
    expect(v.candidateN, 'one value').toBe(1)
    // Default 0.99: 100 − 2.492159 · 10 · √(1 + 1/25) = 74.584860.
    expect(v.lowerLimit, 'lower limit at 0.99').toBeCloseTo(74.58486, 5)
    expect(v.verdict, 'verdict').toBe('regression')
    expect(v.reason, 'reason').toContain('30.00 % below the baseline mean 100 (n = 25)')
    expect(v.reason, 'reason names the limit').toContain('lower limit 74.5849')
  })

  it('compares a mean of repetitions against the interval for that mean', () => {
    // k = 3: 100 − 2.492159 · 10 · √(1/3 + 1/25) = 84.772654; one value: 74.584860.
    expect(evaluate('higher', SD10, 85).verdict, 'one value 85').toBe('ok')
    expect(evaluate('higher', SD10, [85, 85, 85]).verdict, 'mean of 3 at 85').toBe('ok')
    const v = evaluate('higher', SD10, [84, 85, 84.5])
    expect(v.candidate, 'mean of the repetitions').toBe(84.5)
    expect(v.candidateN, 'repetitions').toBe(3)
    expect(v.lowerLimit, 'lower limit for 3').toBeCloseTo(84.772654, 5)
    expect(v.verdict, 'mean of 3 at 84.5').toBe('regression')
  })

  it('also needs the minimum effect: a quiet series does not fail on a 2 % shift', () => {
    const quiet = [100, 100.1, 99.9, 100.05, 99.95, 100, 100.02, 99.98]
    const small = evaluate('higher', quiet, 98)
    expect(small.verdict, '2 % below, far outside the interval').toBe('ok')
    expect(small.reason, 'reason').toContain('within the 3 % minimum effect')
    expect(small.lowerLimit, 'band widened to 3 %').toBeCloseTo(97, 12)
    expect(evaluate('higher', quiet, 96.5).verdict, '3.5 % below').toBe('regression')
    expect(evaluate('higher', quiet, 98, { minEffect: 0 }).verdict, 'without a minimum effect').toBe(
      'regression',
    )
  })

  it('falls back on the minimum effect alone when the baseline has no spread', () => {
    const flat = [20, 20, 20, 20, 20]
    const slower = evaluate('lower', flat, 30)
    expect(slower.verdict, 'TTFT 20 → 30 ms').toBe('regression')
    expect(slower.upperLimit, '20 · 1.03').toBeCloseTo(20.6, 12)
    expect(slower.reason, 'reason').toContain('no spread')
    expect(evaluate('lower', flat, 20.4).verdict, 'TTFT 20.4 ms, 2 %').toBe('ok')
    expect(evaluate('lower', flat, 20).verdict, 'unchanged').toBe('ok')
  })

  it('uses only the latest maxSamples points and drops non-finite values', () => {
    const history = [...Array.from({ length: 15 }, () => 1000), Number.NaN, ...SD10]
    const v = evaluate('higher', history, 100)
    expect(v.baseline?.n, 'latest 25').toBe(25)
    expect(v.baseline?.mean, 'old level left out').toBe(100)
    expect(
      evaluate('higher', history, 100, { maxSamples: 30 }).baseline?.mean,
      'five old points in',
    ).toBeCloseTo((5 * 1000 + 2500) / 30, 10)
  })

  it('says insufficient-data below minSamples or without a candidate', () => {
    const few = evaluate('higher', [100, 101, 99], 50)
    expect(few.verdict, '3 points').toBe('insufficient-data')
    expect(few.reason, 'reason').toBe('3 baseline points; t-test needs at least 5')
    expect(evaluate('higher', [100, 101, 99], 50, { minSamples: 2 }).verdict, 'minSamples 2').toBe(
      'regression',
    )
    expect(evaluate('higher', SD10, Number.NaN).verdict, 'NaN candidate').toBe('insufficient-data')
    expect(evaluate('higher', [100], 50, { minSamples: 0 }).verdict, 't-test needs 2 whatever').toBe(
      'insufficient-data',
    )
  })

  it('validates options', () => {
    expect(() => evaluate('higher', SD10, 1, { confidence: 1 }), 'confidence 1').toThrow(RangeError)
    expect(() => evaluate('higher', SD10, 1, { minEffect: -0.1 }), 'negative minEffect').toThrow(RangeError)
    expect(() => evaluate('higher', SD10, 1, { maxSamples: 3 }), 'maxSamples < minSamples').toThrow(
      RangeError,
    )
    expect(EVALUATE_DEFAULTS, 'documented defaults').toEqual({
      method: 't-test',
      confidence: 0.99,
      minEffect: 0.03,
      minSamples: 5,
      maxSamples: 25,
      percentage: 0.1,
      iqrMultiplier: 2.5,
    })
  })
})

describe('evaluate, other history methods', () => {
  it('z-score reproduces Bencher’s 80.05 and 119.95', () => {
    const v = evaluate('lower', SD10, 119, { method: 'z-score', confidence: 0.977, minEffect: 0 })
    expect(v.lowerLimit, 'lower').toBeCloseTo(80.05, 2)
    expect(v.upperLimit, 'upper').toBeCloseTo(119.95, 2)
    expect(v.verdict, 'latency 119 inside').toBe('ok')
  })

  it('percentage: mean ∓ 10 %', () => {
    const v = evaluate('higher', SD10, 89, { method: 'percentage' })
    expect(v.lowerLimit, 'lower').toBeCloseTo(90, 12)
    expect(v.upperLimit, 'upper').toBeCloseTo(110, 12)
    expect(v.verdict, '89 < 90').toBe('regression')
  })

  it('iqr: median ∓ k · IQR on 1..5', () => {
    const v = evaluate('lower', [1, 2, 3, 4, 5], 6.5, { method: 'iqr', iqrMultiplier: 1.5, minEffect: 0 })
    expect([v.lowerLimit, v.upperLimit], 'limits 0 and 6').toEqual([0, 6])
    expect(v.baselineValue, 'median').toBe(3)
    expect(v.verdict, '6.5 > 6 on a lower-is-better metric').toBe('regression')
  })

  it('delta-iqr: median ∓ median · k · IQR(deltas) on 1..5', () => {
    const v = evaluate('higher', [1, 2, 3, 4, 5], 1, { method: 'delta-iqr', iqrMultiplier: 2, minEffect: 0 })
    expect(v.lowerLimit, '3 − 1.875').toBeCloseTo(1.125, 12)
    expect(v.verdict, '1 < 1.125').toBe('regression')
  })
})

describe('evaluate, Mann–Whitney on per-request samples', () => {
  const baseline = Array.from({ length: 10 }, (_, i) => 20 + i * 0.1)

  it('refuses to judge when the sizes cannot reach the level (asv)', () => {
    const v = evaluate('lower', [20, 20.1, 20.2], [30, 30.1, 30.2], { method: 'mann-whitney', minSamples: 1 })
    expect(v.verdict, '3 vs 3: smallest p is 1/20').toBe('insufficient-data')
    expect(v.reason, 'reason').toContain('smallest attainable p is 0.05')
  })

  it('flags a slower candidate on a lower-is-better metric', () => {
    const slower = baseline.map((v) => v + 5)
    const v = evaluate('lower', baseline, slower, { method: 'mann-whitney' })
    expect(v.pValue, 'one-sided p = 1 / C(20, 10)').toBeCloseTo(1 / 184756, 15)
    expect(v.deltaPct, 'medians 20.45 → 25.45').toBeCloseTo((5 / 20.45) * 100, 10)
    expect(v.verdict, 'verdict').toBe('regression')
    expect(evaluate('higher', baseline, slower, { method: 'mann-whitney' }).verdict, 'higher is better').toBe(
      'improvement',
    )
  })

  it('is ok when the shift is significant but below the minimum effect, or not significant', () => {
    const tiny = baseline.map((v) => v + 0.5)
    expect(evaluate('lower', baseline, tiny, { method: 'mann-whitney' }).verdict, '+2.4 %').toBe('ok')
    const interleaved = baseline.map((v) => v + 0.05)
    const v = evaluate('lower', baseline, interleaved, { method: 'mann-whitney', minEffect: 0 })
    expect(v.verdict, 'interleaved').toBe('ok')
    expect(v.reason, 'reason').toContain('not below 0.01')
  })
})
