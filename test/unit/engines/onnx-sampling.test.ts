/** Next-token choice from logits (hand-computed expectations). */
import { describe, expect, it } from 'vitest'
import {
  applyPenalties,
  logSoftmax,
  sampleToken,
  topEntries,
} from '../../../harness/engines/onnx/onnx-sampling.ts'
import type { Random } from '../../../harness/random.ts'

/** A Random whose next() returns the given value: picks a point of the cumulative distribution. */
const at = (u: number): Random => ({ next: () => u, normal: () => 0, gamma: () => 0, int: (min) => min })

describe('applyPenalties', () => {
  it('applies repetition, frequency and presence penalties over history, then bans', () => {
    const scores = new Float64Array(4)
    applyPenalties([2, -1, 0.5, 3], scores, {
      history: [0, 0, 1],
      banned: [3],
      sampling: { repetitionPenalty: 2, frequencyPenalty: 0.5, presencePenalty: 0.25 },
    })
    // token 0 (seen twice): 2 / 2 − 2·0.5 − 0.25; token 1 (once): −1 · 2 − 0.5 − 0.25
    expect([...scores], 'scores').toEqual([-0.25, -2.75, 0.5, Number.NEGATIVE_INFINITY])
  })
})

describe('sampleToken', () => {
  const logits = Float64Array.from([0.5, 0.3, 0.2], Math.log)

  it('temperature 0 (and unset) is greedy', () => {
    expect(sampleToken(Float64Array.from([1, 3, 2]), { temperature: 0 }, at(0.99)), 'temperature 0').toBe(1)
    expect(sampleToken(Float64Array.from([1, 3, 2]), undefined, at(0.99)), 'unset').toBe(1)
  })

  it('top-p keeps the smallest set reaching p, renormalized', () => {
    // p = 0.7 keeps 0.5 and 0.3 → 0.625 / 0.375
    expect(sampleToken(logits, { temperature: 1, topP: 0.7 }, at(0.62)), 'u 0.62').toBe(0)
    expect(sampleToken(logits, { temperature: 1, topP: 0.7 }, at(0.63)), 'u 0.63').toBe(1)
    expect(sampleToken(logits, { temperature: 1, topP: 0.7 }, at(0.999)), 'token 2 cut').toBe(1)
  })

  it('top-k 1 always takes the best token', () => {
    expect(sampleToken(logits, { temperature: 1, topK: 1 }, at(0.999)), 'top-1').toBe(0)
  })

  it('temperature sharpens after the default top-p 0.95 kept all three', () => {
    // T = 1: 0.5 / 0.3 / 0.2, so u 0.89 falls in token 2; T = 0.5: ∝ 0.25 / 0.09 / 0.04 → 0.658 / 0.237 / 0.105
    expect(sampleToken(logits, { temperature: 1 }, at(0.89)), 'T 1').toBe(2)
    expect(sampleToken(logits, { temperature: 0.5 }, at(0.89)), 'T 0.5, u 0.89').toBe(1)
    expect(sampleToken(logits, { temperature: 0.5 }, at(0.9)), 'T 0.5, u 0.90').toBe(2)
  })
})

describe('logSoftmax and topEntries', () => {
  it('normalizes', () => {
    const lp = logSoftmax([0, Math.log(3)])
    expect(lp[0], 'ln 1/4').toBeCloseTo(Math.log(0.25), 12)
    expect(lp[1], 'ln 3/4').toBeCloseTo(Math.log(0.75), 12)
  })
  it('takes the k best, ties by lower id', () => {
    expect(topEntries([-1, -0.5, -3, -0.5], 2), 'top 2').toEqual([
      { id: 1, logprob: -0.5 },
      { id: 3, logprob: -0.5 },
    ])
  })
})
