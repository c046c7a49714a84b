import { describe, expect, it } from 'vitest'
import { logSoftmax } from '../../../harness/quality/log-softmax.ts'
import { comparePosition, type PositionComparison } from '../../../harness/quality/position.ts'
import { MIN_SCORED_TOKENS, summarizeQuality } from '../../../harness/quality/summary.ts'
import { compareTopK } from '../../../harness/quality/top-k.ts'
import { createRandom } from '../../../harness/random.ts'

function position(over: Partial<PositionComparison> = {}): PositionComparison {
  return { kld: 0, deltaP: 0, sameTop: true, nllRef: 1, nllVariant: 1, ...over }
}

describe('summarizeQuality', () => {
  it('fewer than 100 scored tokens: no statistic, with the reason', () => {
    const r = summarizeQuality(Array.from({ length: 99 }, () => position()))
    expect(r, '99').toEqual({
      state: 'insufficient',
      count: 99,
      approximate: false,
      reason: '99 scored tokens, fewer than 100: score a longer text',
    })
    expect(
      summarizeQuality(Array.from({ length: MIN_SCORED_TOKENS }, () => position())).state,
      '100 is enough',
    ).toBe('ok')
  })

  it('hand-computed: 50 positions of KLD 0.1 and 50 of 0.3', () => {
    const positions = Array.from({ length: 100 }, (_, i) =>
      position({
        kld: i % 2 === 0 ? 0.1 : 0.3,
        deltaP: i % 2 === 0 ? 0.1 : -0.1,
        sameTop: i < 90,
        nllRef: 2,
        nllVariant: 2.05,
      }),
    )
    const r = summarizeQuality(positions)
    if (r.state !== 'ok') throw new Error(r.reason)
    // mean 0.2; Σ(x − 0.2)² = 100·0.01 = 1; sd = sqrt(1/99); SE = sd/√100 = 0.0100504.
    expect(r.klDivergence.mean, 'mean').toBeCloseTo(0.2, 14)
    expect(r.klDivergence.se, 'SE').toBeCloseTo(0.010050378152592122, 14)
    expect(r.klDivergence.median, 'the two middle values 0.1 and 0.3 averaged').toBeCloseTo(0.2, 14)
    expect(r.klDivergence.p90, 'rank 0.9·99 = 89.1, both neighbours 0.3').toBeCloseTo(0.3, 14)
    expect(r.klDivergence.min, 'min').toBeCloseTo(0.1, 15)
    expect(r.klDivergence.max, 'max').toBeCloseTo(0.3, 15)
    expect(r.deltaP.mean, 'Δp mean').toBeCloseTo(0, 14)
    expect(r.deltaP.rms, 'RMS Δp').toBeCloseTo(0.1, 14)
    expect(r.deltaP.rmsSe, 'every Δp² is 0.01: no spread').toBeCloseTo(0, 14)
    // 90 same of 100: sqrt(0.9·0.1/99) = 0.0301511.
    expect(r.top1Agreement.p, 'agreement').toBeCloseTo(0.9, 15)
    expect(r.top1Agreement.se, 'sqrt(p(1 − p)/(n − 1))').toBeCloseTo(0.03015113445777636, 14)
    expect(r.lnPplRatio.mean, 'ln(PPL_var/PPL_ref) = 2.05 − 2').toBeCloseTo(0.05, 14)
    expect(r.lnPplRatio.se, 'constant difference').toBeCloseTo(0, 14)
    expect(r.pplRef, 'e²').toBeCloseTo(Math.exp(2), 12)
  })

  it("SE and ln PPL ratio equal llama.cpp's one-pass formulas (mean_and_uncertainty, covariance)", () => {
    const random = createRandom(11)
    const positions = Array.from({ length: 300 }, () =>
      position({
        kld: random.gamma(0.5, 0.02),
        nllRef: 2 + random.normal(),
        nllVariant: 2.1 + random.normal(),
      }),
    )
    const r = summarizeQuality(positions)
    if (r.state !== 'ok') throw new Error(r.reason)
    const n = positions.length
    const sum = (f: (p: PositionComparison) => number) => positions.reduce((acc, p) => acc + f(p), 0)
    // mean_and_uncertainty(sum, sum2, n): sqrt((sum2/n − mean²)/(n − 1)).
    const meanAndUncertainty = (s: number, s2: number) => {
      const f = s / n
      return [f, Math.sqrt((s2 / n - f * f) / (n - 1))] as const
    }
    const [kMean, kSe] = meanAndUncertainty(
      sum((p) => p.kld),
      sum((p) => p.kld ** 2),
    )
    expect(r.klDivergence.mean, 'KLD mean').toBeCloseTo(kMean, 12)
    expect(r.klDivergence.se, 'KLD SE').toBeCloseTo(kSe, 12)
    // ln ratio SE = sqrt(se_q² + se_base² − 2·cov), cov = (Σab/n − mean_a·mean_b)/(n − 1).
    const [qMean, qSe] = meanAndUncertainty(
      sum((p) => p.nllVariant),
      sum((p) => p.nllVariant ** 2),
    )
    const [bMean, bSe] = meanAndUncertainty(
      sum((p) => p.nllRef),
      sum((p) => p.nllRef ** 2),
    )
    const cov = (sum((p) => p.nllVariant * p.nllRef) / n - qMean * bMean) / (n - 1)
    expect(r.lnPplRatio.mean, 'ln ratio').toBeCloseTo(qMean - bMean, 12)
    expect(r.lnPplRatio.se, 'ln ratio SE').toBeCloseTo(Math.sqrt(qSe * qSe + bSe * bSe - 2 * cov), 12)
  })

  it('percentiles interpolate at fraction·(n − 1), as llama.cpp', () => {
    const positions = Array.from({ length: 101 }, (_, i) => position({ kld: i / 100 }))
    const r = summarizeQuality(positions)
    if (r.state !== 'ok') throw new Error(r.reason)
    expect(r.klDivergence.p99, 'rank 99 → 0.99').toBeCloseTo(0.99, 14)
    expect(r.klDivergence.p999, 'rank 99.9 → 0.999').toBeCloseTo(0.999, 14)
  })

  it('identical distributions: KLD 0, agreement 1, Δp 0, ln PPL ratio 0', () => {
    const random = createRandom(3)
    const positions = Array.from({ length: 120 }, () => {
      const p = logSoftmax(Array.from({ length: 50 }, () => 2 * random.normal()))
      return comparePosition(p, p, random.int(0, 49))
    })
    const r = summarizeQuality(positions)
    if (r.state !== 'ok') throw new Error(r.reason)
    expect(r.klDivergence.mean, 'KLD').toBe(0)
    expect(r.klDivergence.max, 'max KLD').toBe(0)
    expect(r.top1Agreement, 'agreement').toEqual({ p: 1, se: 0 })
    expect(r.deltaP.rms, 'Δp').toBe(0)
    expect(r.lnPplRatio.mean, 'ln PPL ratio').toBe(0)
    expect(r.approximate, 'full distributions').toBe(false)
  })

  it('a noisier variant has a larger KLD and lower agreement (sanity of direction)', () => {
    const random = createRandom(9)
    const run = (noise: number) =>
      summarizeQuality(
        Array.from({ length: 150 }, () => {
          const logits = Array.from({ length: 40 }, () => 2 * random.normal())
          const ref = logSoftmax(logits)
          const variant = logSoftmax(logits.map((x) => x + noise * random.normal()))
          return comparePosition(ref, variant, random.int(0, 39))
        }),
      )
    const small = run(0.05)
    const large = run(1)
    if (small.state !== 'ok' || large.state !== 'ok') throw new Error('insufficient')
    expect(small.klDivergence.mean, 'KLD grows with noise').toBeLessThan(large.klDivergence.mean)
    expect(small.top1Agreement.p, 'agreement falls with noise').toBeGreaterThan(large.top1Agreement.p)
  })

  it('top-k positions mark the summary approximate', () => {
    const list = [{ token: 1, logprob: Math.log(0.6) }]
    const positions = Array.from({ length: 100 }, () => compareTopK(list, list, 1))
    expect(summarizeQuality(positions).approximate, 'approximate').toBe(true)
  })
})
