import { describe, expect, it } from 'vitest'
import { capacityKnee, simulateCapacity } from '../../../harness/mock-server/knee.ts'

describe('capacity model simulation (mock-server/knee.ts)', () => {
  it('one slot, arrivals far apart: every request alone (TTFT = ttft, TPOT = itl)', () => {
    const run = simulateCapacity(
      { slots: 1, itlGrowth: 0, ttftMs: 10, itlMs: 10, outputTokens: 3 },
      { ratePerS: 10, durationS: 1 },
    )
    expect(run.requests).toBe(10)
    expect(run.ttftMs).toEqual(Array(10).fill(10))
    expect(run.tpotMs).toEqual(Array(10).fill(10))
  })

  it('one slot, arrivals faster than service: FIFO waits add up in TTFT (hand-computed)', () => {
    // Arrivals 0, 20, 40, 60, 80 ms; each holds the slot 10 + 2 × 10 = 30 ms: admitted at 0, 30, 60, 90, 120.
    const run = simulateCapacity(
      { slots: 1, itlGrowth: 0, ttftMs: 10, itlMs: 10, outputTokens: 3 },
      { ratePerS: 50, durationS: 0.1 },
    )
    expect(run.ttftMs).toEqual([10, 20, 30, 40, 50])
    expect(run.ttftMsP95).toBeCloseTo(48, 9) // linear interpolation: 40 + 0.8 × 10
  })

  it('the per-token time grows with the batch: two slots, k = 1, two requests 15 ms apart (hand-computed)', () => {
    // A: arrives 0, chunks at 10 (alone: next +10) and 20 (B is in since 15: next +20) → 40; TPOT 15.
    // B: arrives 15, chunks at 25 (A still in: next +20) and 45 (A gone at 40: next +10) → 55; TPOT 15.
    const run = simulateCapacity(
      { slots: 2, itlGrowth: 1, ttftMs: 10, itlMs: 10, outputTokens: 3 },
      { ratePerS: 1000 / 15, durationS: 0.02 },
    )
    expect(run.requests).toBe(2)
    expect(run.ttftMs[0]).toBeCloseTo(10, 9)
    expect(run.ttftMs[1]).toBeCloseTo(10, 9)
    expect(run.tpotMs[0]).toBeCloseTo(15, 9)
    expect(run.tpotMs[1]).toBeCloseTo(15, 9)
    // The same pair with k = 0: 10 ms per token each.
    const flat = simulateCapacity(
      { slots: 2, itlGrowth: 0, ttftMs: 10, itlMs: 10, outputTokens: 3 },
      { ratePerS: 1000 / 15, durationS: 0.02 },
    )
    expect(flat.tpotMs[0]).toBeCloseTo(10, 9)
    expect(flat.tpotMs[1]).toBeCloseTo(10, 9)
  })

  it('knee of the e2e test model: 12.5 requests/s, near the steady-state formula', () => {
    const model = { slots: 8, itlGrowth: 0.25, ttftMs: 20, itlMs: 10, outputTokens: 20 }
    const knee = capacityKnee(model, { ttftMsP95: 200, tpotMsP95: 20 }, 1.5)!
    // Steady state: TPOT = 20 ms ⇔ b = 1 + (20/10 − 1)/0.25 = 5, S = 20 + 19 × 20 = 400 ms, λ = b/S = 12.5/s.
    expect(knee).toBeGreaterThan(12.5 * 0.97)
    expect(knee).toBeLessThan(12.5 * 1.03)
    // TTFT alone binds where the queue starts: B / S(B) = 8 / (20 + 19 × 27.5 ms) ≈ 14.8/s, and a 1.5 s
    // load sees the growing queue only a little later.
    const queueKnee = capacityKnee(model, { ttftMsP95: 200 }, 1.5)!
    expect(queueKnee).toBeGreaterThan(14.8)
    expect(queueKnee).toBeLessThan(14.8 * 1.25)
  })

  it('undefined when even the lowest rate fails', () => {
    const model = { slots: 1, itlGrowth: 0, ttftMs: 100, itlMs: 10, outputTokens: 5 }
    expect(capacityKnee(model, { ttftMsP95: 50 }, 1)).toBeUndefined()
  })
})
