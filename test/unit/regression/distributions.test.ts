import { describe, expect, it } from 'vitest'
import {
  erfc,
  lnGamma,
  normalCdf,
  normalQuantile,
  normalSf,
  regularizedBeta,
  studentTCdf,
  studentTQuantile,
} from '../../../harness/regression/distributions.ts'

describe('Student t quantiles against table values', () => {
  it('matches the two-sided 5 % and 1 % columns', () => {
    expect(studentTQuantile(0.975, 10), 't(0.975, 10) = 2.228').toBeCloseTo(2.228139, 6)
    expect(studentTQuantile(0.995, 24), 't(0.995, 24) = 2.797').toBeCloseTo(2.79694, 6)
    expect(studentTQuantile(0.95, 1), 't(0.95, 1) = 6.314').toBeCloseTo(6.313752, 6)
    expect(studentTQuantile(0.975, 2), 't(0.975, 2) = 4.303').toBeCloseTo(4.302653, 6)
    expect(studentTQuantile(0.99, 30), 't(0.99, 30) = 2.457').toBeCloseTo(2.457262, 6)
    expect(studentTQuantile(0.99, 24), 't(0.99, 24) = 2.492, the default gate').toBeCloseTo(2.492159, 6)
  })

  it('gives the quantile behind Bencher’s t-test example', () => {
    expect(studentTQuantile(0.977, 24), 't(0.977, 24)').toBeCloseTo(2.104415, 6)
  })

  it('is antisymmetric and 0 at the median', () => {
    expect(studentTQuantile(0.025, 10), 't(0.025, 10) = −t(0.975, 10)').toBeCloseTo(-2.228139, 6)
    expect(studentTQuantile(0.5, 7), 'median').toBe(0)
  })

  it('uses the closed forms for df 1 (Cauchy) and 2', () => {
    expect(studentTQuantile(0.75, 1), 'tan(π/4) = 1').toBeCloseTo(1, 12)
    expect(studentTQuantile(0.975, 2), '(2p − 1) / √(2p(1 − p))').toBeCloseTo(0.95 / Math.sqrt(0.04875), 12)
  })

  it('handles non-integer df and approaches the normal for large df', () => {
    expect(studentTQuantile(0.9, 3.5), 't(0.9, 3.5), Welch-style df').toBeCloseTo(1.576577, 6)
    expect(studentTQuantile(0.975, 1e8), 't(0.975, 1e8) = z(0.975)').toBeCloseTo(1.959964, 6)
  })

  it('inverts its CDF across p and df', () => {
    for (const df of [1, 2, 3, 4.5, 9, 24, 120, 5000]) {
      for (const p of [1e-9, 0.001, 0.05, 0.3, 0.5, 0.8, 0.977, 0.999, 1 - 1e-9]) {
        const t = studentTQuantile(p, df)
        const back = p < 0.5 ? studentTCdf(t, df) : 1 - studentTCdf(-t, df)
        expect(Math.abs(back - p) / Math.min(p, 1 - p), `round trip p = ${p}, df = ${df}`).toBeLessThan(1e-9)
      }
    }
  })

  it('rejects p outside [0, 1] and df ≤ 0', () => {
    expect(() => studentTQuantile(1.2, 3), 'p = 1.2').toThrow(RangeError)
    expect(() => studentTQuantile(0.5, 0), 'df = 0').toThrow(RangeError)
    expect(studentTQuantile(1, 5), 'p = 1').toBe(Number.POSITIVE_INFINITY)
  })
})

describe('Student t CDF', () => {
  it('matches tables and closed forms', () => {
    expect(studentTCdf(0, 5), 'symmetric about 0').toBe(0.5)
    expect(studentTCdf(2.228, 10), 'P(T ≤ 2.228), df 10').toBeCloseTo(0.974994, 6)
    expect(studentTCdf(1, 1), 'Cauchy: ½ + atan(1)/π').toBeCloseTo(0.75, 12)
    expect(studentTCdf(-50, 3), 'deep lower tail stays positive').toBeGreaterThan(0)
  })
})

describe('normal distribution', () => {
  it('has the textbook quantiles', () => {
    expect(normalQuantile(0.975), 'z(0.975)').toBeCloseTo(1.959964, 6)
    expect(normalQuantile(0.99), 'z(0.99)').toBeCloseTo(2.326348, 6)
    expect(normalQuantile(0.5), 'z(0.5)').toBe(0)
    expect(normalQuantile(0.001), 'z(0.001)').toBeCloseTo(-3.090232, 6)
    expect(normalQuantile(1e-10), 'z(1e-10), the far tail').toBeCloseTo(-6.361341, 6)
    expect(normalQuantile(0.977), 'z(0.977) behind Bencher’s z-score example').toBeCloseTo(1.995393, 6)
  })

  it('has the textbook CDF, with relative accuracy in the tail', () => {
    expect(normalCdf(1.96), 'Φ(1.96)').toBeCloseTo(0.9750021, 7)
    expect(normalCdf(0), 'Φ(0)').toBe(0.5)
    expect(normalSf(10) / 7.61985302416047e-24, '1 − Φ(10) relative').toBeCloseTo(1, 10)
    expect(erfc(0), 'erfc(0)').toBe(1)
    expect(erfc(-1) + erfc(1), 'erfc(−x) + erfc(x) = 2').toBeCloseTo(2, 14)
  })

  it('rejects p outside [0, 1]', () => {
    expect(() => normalQuantile(-0.1), 'p = −0.1').toThrow(RangeError)
  })
})

describe('special functions', () => {
  it('ln Γ', () => {
    expect(lnGamma(5), 'ln Γ(5) = ln 24').toBeCloseTo(Math.log(24), 12)
    expect(lnGamma(0.5), 'ln Γ(½) = ln √π').toBeCloseTo(0.5 * Math.log(Math.PI), 12)
  })

  it('regularized incomplete beta', () => {
    expect(regularizedBeta(0.5, 2, 2), 'I_0.5(2, 2), symmetric').toBeCloseTo(0.5, 14)
    expect(regularizedBeta(0.37, 1, 1), 'I_x(1, 1) = x').toBeCloseTo(0.37, 14)
    // I_x(2, 3) = Σ_{j=2..4} C(4, j) x^j (1 − x)^{4−j} = 0.2646 + 0.0756 + 0.0081.
    expect(regularizedBeta(0.3, 2, 3), 'I_0.3(2, 3) by the binomial sum').toBeCloseTo(0.3483, 14)
  })
})
