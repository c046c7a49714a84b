import { describe, expect, it } from 'vitest'
import { createRandom } from '../../../harness/random.ts'
import {
  acceptanceMetrics,
  emptyCounts,
  mergeCounts,
  recordStep,
} from '../../../harness/speculative/counts.ts'
import {
  acceptDraftToken,
  argmax,
  residualDistribution,
  sampleIndex,
  verifyGreedy,
  verifySampled,
} from '../../../harness/speculative/sampling.ts'

describe('sampling primitives', () => {
  it('argmax takes the first maximum', () => {
    expect(argmax([0.1, 0.4, 0.4, 0.1])).toBe(1)
  })
  it('sampleIndex inverts the CDF (p = 0.2, 0.5, 0.3): u < 0.2 → 0, < 0.7 → 1, else 2; zeros never drawn', () => {
    expect(sampleIndex([0.2, 0.5, 0.3], 0.19)).toBe(0)
    expect(sampleIndex([0.2, 0.5, 0.3], 0.2)).toBe(1)
    expect(sampleIndex([0.2, 0.5, 0.3], 0.69)).toBe(1)
    expect(sampleIndex([0.2, 0.5, 0.3], 0.7)).toBe(2)
    expect(sampleIndex([0, 1, 0], 0.999999)).toBe(1)
    expect(() => sampleIndex([0, 0], 0.5)).toThrow(/no mass/)
  })
  it('acceptDraftToken: always when p ≥ q, else with probability p/q (0.2 / 0.5 = 0.4)', () => {
    expect(acceptDraftToken([0.6, 0.4], [0.5, 0.5], 0, 0.99)).toBe(true)
    expect(acceptDraftToken([0.2, 0.8], [0.5, 0.5], 0, 0.39)).toBe(true)
    expect(acceptDraftToken([0.2, 0.8], [0.5, 0.5], 0, 0.41)).toBe(false)
  })
  it('residualDistribution = norm(max(0, p − q)): (0.5, 0.3, 0.2) − (0.2, 0.3, 0.5) → (1, 0, 0)', () => {
    expect([...residualDistribution([0.5, 0.3, 0.2], [0.2, 0.3, 0.5])]).toEqual([1, 0, 0])
    // p = q: no residual mass; p itself.
    expect([...residualDistribution([0.25, 0.75], [0.25, 0.75])]).toEqual([0.25, 0.75])
  })
  it('verifyGreedy keeps the prefix that matches the target and emits its token after it', () => {
    expect(verifyGreedy([5, 6, 7, 8], [5, 6, 7])).toEqual({ accepted: 3, next: 8 })
    expect(verifyGreedy([5, 9, 7, 8], [5, 6, 7])).toEqual({ accepted: 1, next: 9 })
    expect(verifyGreedy([4, 6, 7, 8], [5, 6, 7])).toEqual({ accepted: 0, next: 4 })
  })
  it('verifySampled emits tokens distributed as p, not q (10 000 draws, exact expectation ± 4 sd)', () => {
    // Target p = (0.7, 0.2, 0.1), draft q = (0.1, 0.2, 0.7); K = 1: the draft token is sampled from q.
    const p = [0.7, 0.2, 0.1]
    const q = [0.1, 0.2, 0.7]
    const random = createRandom(3)
    const n = 10_000
    const counts = [0, 0, 0]
    for (let i = 0; i < n; i++) {
      const x = sampleIndex(q, random.next())
      const o = verifySampled([p, p], [q], [x], () => random.next())
      counts[o.accepted === 1 ? x : o.next]!++
    }
    for (const [i, pi] of p.entries()) {
      const sd = Math.sqrt(n * pi * (1 - pi))
      expect(Math.abs(counts[i]! - n * pi), `token ${i}: ${counts[i]} vs ${n * pi}`).toBeLessThan(4 * sd)
    }
  })
  it('verifySampled with q = p accepts every draft and emits the bonus from the last row', () => {
    const p = [0.5, 0.5]
    expect(verifySampled([p, p, [0, 1]], [p, p], [0, 1], () => 0.999)).toEqual({ accepted: 2, next: 1 })
  })
})

describe('counts and METRICS.md speculative metrics', () => {
  it('hand-computed: K = 3, steps keeping 3, 1, 0, 2 drafted tokens', () => {
    const c = emptyCounts(3)
    for (const a of [3, 1, 0, 2]) recordStep(c, a)
    expect(c).toMatchObject({
      verifySteps: 4,
      drafted: 12,
      accepted: 6,
      acceptedAtPosition: [3, 2, 1],
      acceptLengths: [1, 1, 1, 1],
      emitted: 10,
    })
    const m = acceptanceMetrics(c)!
    expect(m.draftAcceptanceRate).toBe(0.5)
    expect(m.meanAcceptanceLength).toBe(2.5)
    expect(m.perPositionRate).toEqual([0.75, 0.5, 0.25])
    expect(m.conditionalAlpha[0]).toBe(0.75)
    expect(m.conditionalAlpha[1]).toBeCloseTo(2 / 3, 12)
    expect(m.conditionalAlpha[2]).toBe(0.5)
    // α̂: 1 + α + α² + α³ = 2.5.
    const a = m.alphaHat
    expect(1 + a + a * a + a * a * a).toBeCloseTo(2.5, 9)
  })
  it('every draft kept: rate 1, τ = K + 1, α̂ = 1', () => {
    const c = emptyCounts(4)
    for (let i = 0; i < 5; i++) recordStep(c, 4)
    const m = acceptanceMetrics(c)!
    expect(m.draftAcceptanceRate).toBe(1)
    expect(m.meanAcceptanceLength).toBe(5)
    expect(m.alphaHat).toBe(1)
  })
  it('mergeCounts adds; refuses different K; no step → no metrics', () => {
    const a = recordStep(emptyCounts(2), 2)
    const b = recordStep(emptyCounts(2), 0)
    expect(mergeCounts([a, b])).toMatchObject({ verifySteps: 2, accepted: 2, acceptedAtPosition: [1, 1] })
    expect(() => mergeCounts([a, emptyCounts(3)])).toThrow(/K 3 ≠ 2/)
    expect(acceptanceMetrics(emptyCounts(2))).toBeUndefined()
    expect(() => recordStep(emptyCounts(2), 3)).toThrow(/0\.\.2/)
  })
})
