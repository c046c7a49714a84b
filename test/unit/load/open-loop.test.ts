import { describe, expect, it } from 'vitest'
import { executeLoad } from '../../../harness/load/execute.ts'
import { createRandom } from '../../../harness/random.ts'
import type { LoadSpec } from '../../../harness/results.ts'
import { createHarness } from './recording-send.ts'

const gapsOf = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!)
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const cv2 = (xs: number[]) => {
  const m = mean(xs)
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / m ** 2
}

describe('constant-rate', () => {
  it('intends arrival i at start + i/r and sends on time without waiting for responses', async () => {
    const h = createHarness({ start: 1000, durationMs: () => 900 })
    const spec: LoadSpec = { kind: 'constant-rate', ratePerS: 4, maxInFlight: 10, requests: 5 }
    const result = await h.clock.run(executeLoad(spec, h.ctx))

    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt',
    ).toEqual([1000, 1250, 1500, 1750, 2000])
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([1000, 1250, 1500, 1750, 2000])
    // #0 (1000–1900) is still running when #3 goes at 1750: the loop does not wait for responses.
    expect(h.maxInFlight(), 'max in flight').toBe(4)
    expect(result, 'result').toEqual({
      sent: 5,
      dropped: 0,
      ended: 'requests',
      startedAt: 1000,
      endedAt: 2900,
    })
  })

  it('keeps intervals of exactly 1/r for a rate that is not a whole number of ms', async () => {
    const h = createHarness({ start: 0 })
    await h.clock.run(
      executeLoad({ kind: 'constant-rate', ratePerS: 3, maxInFlight: 10, requests: 4 }, h.ctx),
    )
    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt',
    ).toEqual([0, 1000 / 3, 2000 / 3, 1000])
  })

  it('with durationS only, schedules the arrivals before the end', async () => {
    const h = createHarness({ start: 0 })
    const result = await h.clock.run(
      executeLoad({ kind: 'constant-rate', ratePerS: 4, maxInFlight: 10, durationS: 2 }, h.ctx),
    )
    expect(result.sent, 'sent').toBe(8)
    expect(h.sent.at(-1)?.scheduledAt, 'last arrival').toBe(1750)
    expect(result.ended, 'ended').toBe('duration')
    expect(result.endedAt, 'endedAt = last finish').toBe(1850)
  })

  it('drops arrivals while maxInFlight are in flight, counts them, never sends them later', async () => {
    // Arrivals every 100 ms, each request takes 250 ms, gate at 2.
    const h = createHarness({ start: 0, durationMs: () => 250 })
    const spec: LoadSpec = { kind: 'constant-rate', ratePerS: 10, maxInFlight: 2, requests: 6 }
    const result = await h.clock.run(executeLoad(spec, h.ctx))

    // 0 ✓ (→250), 100 ✓ (→350), 200 ✗ (2 in flight), 300 ✓ (#0 done), 400 ✓ (#1 done), 500 ✗.
    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt of sent',
    ).toEqual([0, 100, 300, 400])
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt of sent',
    ).toEqual([0, 100, 300, 400])
    expect(h.maxInFlight(), 'max in flight').toBe(2)
    // Dropped arrivals use up the budget: 4 sent + 2 dropped = 6 requests.
    expect(result, 'result').toEqual({ sent: 4, dropped: 2, ended: 'requests', startedAt: 0, endedAt: 650 })
  })

  it('a late client sends at once with the original scheduledAt (no shifting, no catch-up burst beyond due)', async () => {
    // Sending #1 blocks the event loop for 250 ms: arrivals due at 200 and 300 go out late at 350.
    const h = createHarness({
      start: 0,
      durationMs: () => 10,
      onSend: (request, clock) => {
        if (request.index === 1) clock.stall(250)
      },
    })
    const result = await h.clock.run(
      executeLoad({ kind: 'constant-rate', ratePerS: 10, maxInFlight: 10, requests: 5 }, h.ctx),
    )

    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt',
    ).toEqual([0, 100, 200, 300, 400])
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 100, 350, 350, 400])
    expect(result.sent, 'sent').toBe(5)
  })

  it('abort cancels the pending sleep, sends nothing more and waits for in-flight requests', async () => {
    const requests = new AbortController()
    const h = createHarness({ start: 0, durationMs: () => 1000, requestSignal: requests.signal })
    let resolved = false
    const load = executeLoad({ kind: 'constant-rate', ratePerS: 10, maxInFlight: 100, requests: 100 }, h.ctx)
    void load.then(() => {
      resolved = true
    })
    await h.clock.advance(350)
    expect(h.clock.pendingSleeps, 'four requests + the sleep until 400').toBe(5)
    h.controller.abort()
    await h.clock.flush()
    expect(h.clock.pendingSleeps, 'the sleep until 400 is cancelled').toBe(4)
    expect(resolved, 'pending while requests are in flight').toBe(false)

    await h.clock.advance(100)
    requests.abort()
    const result = await h.clock.run(load)
    expect(result, 'result').toEqual({ sent: 4, dropped: 0, ended: 'aborted', startedAt: 0, endedAt: 450 })
    await h.clock.advance(10_000)
    expect(h.sent.length, 'no send after the abort').toBe(4)
  })

  it('an abort after the last arrival but before requests finished still ends "aborted"', async () => {
    const h = createHarness({ start: 0, durationMs: () => 1000 })
    const load = executeLoad({ kind: 'constant-rate', ratePerS: 10, maxInFlight: 10, requests: 2 }, h.ctx)
    await h.clock.advance(500)
    h.controller.abort()
    const result = await h.clock.run(load)
    expect(result, 'result').toEqual({ sent: 2, dropped: 0, ended: 'aborted', startedAt: 0, endedAt: 1100 })
  })
})

describe('poisson', () => {
  it('with requests known, rescales the gaps so the last arrival is exactly at requests/r', async () => {
    const seed = 7
    const h = createHarness({ start: 0, seed, durationMs: () => 10 })
    const spec: LoadSpec = { kind: 'poisson', ratePerS: 5, burstiness: 1, maxInFlight: 100, requests: 200 }
    const result = await h.clock.run(executeLoad(spec, h.ctx))
    const scheduled = h.sent.map((r) => r.scheduledAt)

    expect(result.sent, 'sent').toBe(200)
    expect(scheduled.at(-1), 'last arrival = 200 / 5 s').toBe(40_000)
    expect(
      gapsOf(scheduled).every((g) => g > 0),
      'arrivals increase',
    ).toBe(true)

    // The same draws unscaled: their total misses 40 s, and the schedule is their proportional rescale.
    const random = createRandom(seed)
    const raw: number[] = []
    let sum = 0
    for (let i = 0; i < 200; i++) {
      sum += random.gamma(1, 200)
      raw.push(sum)
    }
    expect(Math.abs(sum - 40_000), 'raw total drifts from requests/r (−5.1 s here)').toBeGreaterThan(1000)
    const factor = 40_000 / sum
    for (const i of [0, 1, 99, 198])
      expect(scheduled[i]! / (raw[i]! * factor), `arrival ${i} rescaled`).toBeCloseTo(1, 12)
  })

  it('with durationS only, the mean interval is ≈ 1/r over many arrivals', async () => {
    // r = 5/s over 2,000 s ≈ 10,000 arrivals; the standard error of the mean gap is 200/√10000 = 2 ms.
    const h = createHarness({ start: 0, seed: 11, durationMs: () => 10 })
    const spec: LoadSpec = { kind: 'poisson', ratePerS: 5, maxInFlight: 100, durationS: 2000 }
    const result = await h.clock.run(executeLoad(spec, h.ctx))
    const gaps = gapsOf([0, ...h.sent.map((r) => r.scheduledAt)])

    expect(result.ended, 'ended').toBe('duration')
    expect(result.sent, 'arrivals ≈ r·durationS = 10,000 (±3 %)').toBeGreaterThan(9700)
    expect(result.sent, 'arrivals ≈ r·durationS = 10,000 (±3 %)').toBeLessThan(10_300)
    expect(mean(gaps), 'mean gap ≈ 200 ms (±3 %)').toBeGreaterThan(194)
    expect(mean(gaps), 'mean gap ≈ 200 ms (±3 %)').toBeLessThan(206)
    expect(cv2(gaps), 'CV² ≈ 1 for γ = 1 (±10 %)').toBeGreaterThan(0.9)
    expect(cv2(gaps), 'CV² ≈ 1 for γ = 1 (±10 %)').toBeLessThan(1.1)
    expect(h.sent.at(-1)!.scheduledAt, 'last arrival before the end').toBeLessThan(2_000_000)
  })

  it('burstiness γ < 1 gives burstier arrivals: CV² ≈ 1/γ', async () => {
    const run = async (burstiness: number) => {
      const h = createHarness({ start: 0, seed: 3, durationMs: () => 1 })
      const spec: LoadSpec = { kind: 'poisson', ratePerS: 20, burstiness, maxInFlight: 100, requests: 4000 }
      await h.clock.run(executeLoad(spec, h.ctx))
      return cv2(gapsOf([0, ...h.sent.map((r) => r.scheduledAt)]))
    }
    const bursty = await run(0.5)
    const poisson = await run(1)
    expect(bursty, 'γ = 0.5 → CV² ≈ 2 (±15 %)').toBeGreaterThan(1.7)
    expect(bursty, 'γ = 0.5 → CV² ≈ 2 (±15 %)').toBeLessThan(2.3)
    expect(poisson, 'γ = 1 → CV² ≈ 1 (±15 %)').toBeGreaterThan(0.85)
    expect(poisson, 'γ = 1 → CV² ≈ 1 (±15 %)').toBeLessThan(1.15)
  })

  it('is deterministic for a seed', async () => {
    const schedule = async (seed: number) => {
      const h = createHarness({ start: 0, seed })
      const spec: LoadSpec = { kind: 'poisson', ratePerS: 50, maxInFlight: 100, requests: 50 }
      await h.clock.run(executeLoad(spec, h.ctx))
      return h.sent.map((r) => r.scheduledAt)
    }
    const a = await schedule(42)
    expect(await schedule(42), 'same seed').toEqual(a)
    expect(await schedule(43), 'other seed').not.toEqual(a)
  })
})
