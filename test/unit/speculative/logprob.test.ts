import { describe, expect, it } from 'vitest'
import {
  overlapAlpha,
  type PositionAlpha,
  summarizeAlphas,
  top1Agrees,
  topKOverlap,
} from '../../../harness/speculative/logprob.ts'

describe('overlapAlpha: β = Σ min(p, q)', () => {
  it('hand-computed: p = (0.5, 0.3, 0.2), q = (0.2, 0.3, 0.5) → 0.2 + 0.3 + 0.2 = 0.7', () => {
    expect(overlapAlpha([0.5, 0.3, 0.2], [0.2, 0.3, 0.5])).toBeCloseTo(0.7, 12)
  })
  it('identical distributions → 1; disjoint supports → 0', () => {
    expect(overlapAlpha([0.1, 0.9], [0.1, 0.9])).toBeCloseTo(1, 12)
    expect(overlapAlpha([1, 0, 0], [0, 0.5, 0.5])).toBe(0)
  })
  it('refuses distributions of different sizes', () => {
    expect(() => overlapAlpha([1], [0.5, 0.5])).toThrow(/differ in size \(1 vs 2\)/)
  })
  it('top1Agrees compares the argmax', () => {
    expect(top1Agrees([0.5, 0.3, 0.2], [0.4, 0.35, 0.25])).toBe(true)
    expect(top1Agrees([0.5, 0.3, 0.2], [0.2, 0.3, 0.5])).toBe(false)
  })
})

describe('topKOverlap: bounds from top-k logprobs', () => {
  const lp = (token: string, p: number) => ({ token, logprob: Math.log(p) })
  it('hand-computed lower and upper bounds and truncated masses', () => {
    // target top-2: a 0.6, b 0.3 (unlisted 0.1, so any other token ≤ 0.1)
    // draft  top-2: a 0.5, c 0.2 (unlisted 0.3, any other token ≤ 0.2)
    // lower: min(0.6, 0.5) = 0.5 (only a is in both)
    // upper: a 0.5 + b min(0.3, ≤0.2) 0.2 + c min(≤0.1, 0.2) 0.1 + rest min(0.1, 0.3) 0.1 = 0.9
    const o = topKOverlap([lp('a', 0.6), lp('b', 0.3)], [lp('a', 0.5), lp('c', 0.2)])
    expect(o.alpha).toBeCloseTo(0.5, 12)
    expect(o.alphaUpper).toBeCloseTo(0.9, 12)
    expect(o.truncatedMassTarget).toBeCloseTo(0.1, 12)
    expect(o.truncatedMassDraft).toBeCloseTo(0.3, 12)
    expect(o.top1Agrees).toBe(true)
  })
  it('complete lists (no truncated mass): both bounds equal the full β', () => {
    const o = topKOverlap([lp('x', 0.7), lp('y', 0.3)], [lp('y', 0.6), lp('x', 0.4)])
    expect(o.alpha).toBeCloseTo(0.7, 12)
    expect(o.alphaUpper).toBeCloseTo(0.7, 9)
    expect(o.top1Agrees).toBe(false)
  })
  it('refuses an empty list', () => {
    expect(() => topKOverlap([], [lp('a', 1)])).toThrow(/at least one entry/)
  })
})

describe('summarizeAlphas', () => {
  const rows: PositionAlpha[] = [
    { prompt: 0, position: 0, alpha: 1, top1Agrees: true },
    { prompt: 0, position: 1, alpha: 0.5, top1Agrees: true },
    { prompt: 1, position: 0, alpha: 0.2, top1Agrees: false },
    { prompt: 1, position: 1, alpha: 0.05, top1Agrees: false },
  ]
  it('mean, by position, by prompt and the histogram', () => {
    const s = summarizeAlphas(rows)!
    expect(s.n).toBe(4)
    expect(s.alpha).toBeCloseTo(1.75 / 4, 12)
    expect(s.top1).toBe(0.5)
    expect(s.byPosition).toEqual([
      { key: 0, n: 2, alpha: 0.6, top1: 0.5 },
      { key: 1, n: 2, alpha: 0.275, top1: 0.5 },
    ])
    expect(s.byPrompt.map((g) => g.alpha)).toEqual([0.75, 0.125])
    // 0.05 → bin 0, 0.2 → bin 2, 0.5 → bin 5, 1 → bin 9 (the last bin is closed).
    expect(s.histogram).toEqual([1, 0, 1, 0, 0, 1, 0, 0, 0, 1])
    expect(s.alphaUpper).toBeUndefined()
  })
  it('reports the mean upper bound and truncated mass when rows came from top-k lists', () => {
    const s = summarizeAlphas([
      { prompt: 0, position: 0, alpha: 0.5, top1Agrees: true, alphaUpper: 0.9, truncatedMass: 0.1 },
      { prompt: 0, position: 1, alpha: 0.7, top1Agrees: true, alphaUpper: 0.7, truncatedMass: 0 },
    ])!
    expect(s.alphaUpper).toBeCloseTo(0.8, 12)
    expect(s.truncatedMass).toBeCloseTo(0.05, 12)
  })
  it('no rows → undefined', () => {
    expect(summarizeAlphas([])).toBeUndefined()
  })
})
