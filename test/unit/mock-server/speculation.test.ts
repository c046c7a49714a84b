import { describe, expect, it } from 'vitest'
import { simulateSpeculation } from '../../../harness/mock-server/speculation.ts'

describe("the mock's speculative-decoding counts", () => {
  it('acceptance 1: every drafted token kept; steps of K + 1 tokens after the first', () => {
    // 25 tokens: 1 from the prompt, then steps of 4 drafts + 1 = 5 tokens: 4 full steps (20), then 3 +1.
    const c = simulateSpeculation(25, 4, 1, 7)
    expect(c).toEqual({ draftTokens: 19, acceptedTokens: 19, drafts: 5, acceptedAtPosition: [5, 5, 5, 4] })
  })

  it('acceptance 0: nothing kept; one token per step, the last one drafts nothing', () => {
    const c = simulateSpeculation(10, 3, 0, 7)
    // 9 tokens after the first: 8 steps draft min(3, left − 1) and keep none, the 9th has nothing to draft.
    expect(c.acceptedTokens).toBe(0)
    expect(c.drafts).toBe(8)
    expect(c.draftTokens).toBe(3 * 6 + 2 + 1)
    expect(c.acceptedAtPosition).toEqual([0, 0, 0])
  })

  it('seeded: the same seed gives the same counts; τ approaches E(α, K) on long outputs', () => {
    expect(simulateSpeculation(300, 4, 0.7, 3)).toEqual(simulateSpeculation(300, 4, 0.7, 3))
    const c = simulateSpeculation(20_000, 4, 0.7, 11)
    const tau = 1 + c.acceptedTokens / c.drafts
    const e = 1 + 0.7 + 0.7 ** 2 + 0.7 ** 3 + 0.7 ** 4 // 2.7731
    expect(Math.abs(tau - e)).toBeLessThan(0.05)
    // Position i is reached only after i kept tokens: its rate is α^(i+1).
    expect(c.acceptedAtPosition.map((n) => n / c.drafts).map((r) => r.toFixed(1))).toEqual([
      '0.7',
      '0.5',
      '0.3',
      '0.2',
    ])
  })
})
