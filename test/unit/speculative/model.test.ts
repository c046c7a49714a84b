import { describe, expect, it } from 'vitest'
import {
  alphaFromTau,
  expectedTokensPerStep,
  formatSpeedupTable,
  optimalK,
  predictedSpeedup,
  speedupTable,
} from '../../../harness/speculative/model.ts'

describe('expectedTokensPerStep: E = (1 − α^(K+1)) / (1 − α)', () => {
  it('α = 0.8, K = 4: 1 + 0.8 + 0.64 + 0.512 + 0.4096 = 3.3616 (issue 20)', () => {
    expect(expectedTokensPerStep(0.8, 4)).toBeCloseTo(3.3616, 12)
  })
  it('α = 0.5, K = 2: (1 − 0.125) / 0.5 = 1.75', () => {
    expect(expectedTokensPerStep(0.5, 2)).toBeCloseTo(1.75, 12)
  })
  it('α = 0: only the target token, E = 1 for every K', () => {
    for (const k of [0, 1, 4, 8]) expect(expectedTokensPerStep(0, k), `K = ${k}`).toBe(1)
  })
  it('α = 1 is the limit K + 1, and α → 1 approaches it without a 0/0', () => {
    expect(expectedTokensPerStep(1, 4)).toBe(5)
    expect(expectedTokensPerStep(1 - 1e-12, 4)).toBeCloseTo(5, 9)
    expect(expectedTokensPerStep(0.999999, 7)).toBeCloseTo(8, 4)
  })
  it('refuses α outside [0, 1] and a K that is not a whole number ≥ 0, naming them', () => {
    expect(() => expectedTokensPerStep(1.2, 4)).toThrow(/alpha must be in \[0, 1\], got 1.2/)
    expect(() => expectedTokensPerStep(Number.NaN, 4)).toThrow(/alpha/)
    expect(() => expectedTokensPerStep(0.5, 2.5)).toThrow(/K must be an integer ≥ 0, got 2.5/)
  })
})

describe('predictedSpeedup: S = E / (K·c + 1)', () => {
  it('α = 0.8, K = 4, c = 0.1: 3.3616 / 1.4 = 2.40114…', () => {
    expect(predictedSpeedup(0.8, 4, 0.1)).toBeCloseTo(3.3616 / 1.4, 12)
  })
  it('c = 0 (a free draft): S = E', () => {
    expect(predictedSpeedup(0.8, 4, 0)).toBeCloseTo(3.3616, 12)
  })
  it('α = 0: S = 1 / (K·c + 1), a slowdown for any c > 0 (K = 3, c = 0.5: 0.4)', () => {
    expect(predictedSpeedup(0, 3, 0.5)).toBeCloseTo(0.4, 12)
  })
  it('α = 1, c = 1 (draft as slow as the target): (K+1)/(K+1) = 1', () => {
    expect(predictedSpeedup(1, 6, 1)).toBeCloseTo(1, 12)
  })
  it('refuses a negative cost', () => {
    expect(() => predictedSpeedup(0.5, 2, -0.1)).toThrow(/c must be a finite number ≥ 0, got -0.1/)
  })
})

describe('optimalK', () => {
  it('α = 0.8, c = 0.1: K = 6 (S = 3.95142… / 1.6 = 2.4696…; K = 5: 2.4595, K = 7: 2.4479)', () => {
    // E(6) = 1 + .8 + .64 + .512 + .4096 + .32768 + .262144 = 3.951424
    const best = optimalK(0.8, 0.1)
    expect(best.k).toBe(6)
    expect(best.speedup).toBeCloseTo(3.951424 / 1.6, 12)
    expect(best.worthwhile).toBe(true)
  })
  it('c = 0 and α > 0: the largest K allowed (E grows with K at no cost)', () => {
    expect(optimalK(0.5, 0, 8).k).toBe(8)
  })
  it('α = 0: K = 1, not worthwhile (S = 1 / (1 + c) < 1)', () => {
    const best = optimalK(0, 0.2)
    expect(best.k).toBe(1)
    expect(best.speedup).toBeCloseTo(1 / 1.2, 12)
    expect(best.worthwhile).toBe(false)
  })
})

describe('alphaFromTau: α̂ with E(α̂, K) = τ', () => {
  it('inverts E: τ = 3.3616 at K = 4 → α̂ = 0.8', () => {
    expect(alphaFromTau(3.3616, 4)).toBeCloseTo(0.8, 9)
  })
  it('τ = 1 → 0; τ = K + 1 → 1; outside the range clamps', () => {
    expect(alphaFromTau(1, 3)).toBe(0)
    expect(alphaFromTau(4, 3)).toBe(1)
    expect(alphaFromTau(4.0000001, 3)).toBe(1)
  })
  it('K = 1: τ = 1 + α exactly (τ = 1.3 → 0.3)', () => {
    expect(alphaFromTau(1.3, 1)).toBeCloseTo(0.3, 12)
  })
  it('refuses K = 0 with the reason', () => {
    expect(() => alphaFromTau(1.5, 0)).toThrow(/K ≥ 1/)
  })
})

describe('speedupTable', () => {
  it('predicted[α][K] from the formula, the optimal K per α, measured points kept', () => {
    const t = speedupTable([0, 0.8], [1, 4], 0.1, [{ k: 4, alpha: 0.8, speedup: 2, label: 'native' }])
    expect(t.predicted[0]).toEqual([1 / 1.1, 1 / 1.4])
    expect(t.predicted[1]![0]).toBeCloseTo(1.8 / 1.1, 12)
    expect(t.predicted[1]![1]).toBeCloseTo(3.3616 / 1.4, 12)
    // The optimum is searched over 1..max(ks) = 4 here: S grows up to K = 6 for α = 0.8, c = 0.1.
    expect(t.optimal[1]!.k).toBe(4)
    expect(t.measured).toHaveLength(1)
    const text = formatSpeedupTable(t)
    expect(text).toContain('c = 0.100')
    // The measured point's row: predicted 2.40, error 2 − 2.40 = −0.40.
    expect(text).toMatch(/native\s+4\s+0\.800\s+2\.00\s+2\.40\s+-0\.40/)
  })
})
