import { describe, expect, it } from 'vitest'
import type { RequestOutcome } from '../../../harness/results.ts'
import { SaturationDetector, slope } from '../../../harness/sweep/saturation.ts'
import { searchKnee } from '../../../harness/sweep/search.ts'
import { goodputSlo, parseSloSpec, parseSloSpecs, SloSpecError } from '../../../harness/sweep/slo.ts'

/** A server whose true knee is `knee`: every rate ≤ it passes. */
const server = (knee: number) => async (rate: number) => ({ pass: rate <= knee, result: rate })
const options = { minRatePerS: 1, maxRatePerS: 256, tolerance: 0.05, maxSteps: 30 }

describe('searchKnee', () => {
  it('doubles until a failure, then bisects to within the tolerance of the true knee', async () => {
    for (const knee of [1, 1.7, 12.5, 100, 200]) {
      const r = await searchKnee(server(knee), options)
      expect(r.end, `knee ${knee}`).toBe('bracketed')
      expect(r.knee!).toBeLessThanOrEqual(knee)
      expect(r.firstFailing!).toBeGreaterThan(knee)
      expect((r.firstFailing! - r.knee!) / r.knee!).toBeLessThanOrEqual(0.05)
    }
  })

  it('runs coarse steps first at doubling rates, then bisection midpoints', async () => {
    const r = await searchKnee(server(12.5), { ...options, minRatePerS: 4 })
    expect(r.steps.map((s) => [s.phase, s.ratePerS])).toEqual([
      ['coarse', 4],
      ['coarse', 8],
      ['coarse', 16],
      ['bisect', 12],
      ['bisect', 14],
      ['bisect', 13],
      ['bisect', 12.5],
    ])
    expect(r.knee).toBe(12.5)
    expect(r.firstFailing).toBe(13)
  })

  it('lowest-fails when the first rate fails; max-rate when the cap passes (capped, not doubled past it)', async () => {
    const low = await searchKnee(server(0.5), options)
    expect(low.end).toBe('lowest-fails')
    expect(low.knee).toBeUndefined()
    expect(low.steps).toHaveLength(1)
    const high = await searchKnee(server(1000), { ...options, maxRatePerS: 48 })
    expect(high.end).toBe('max-rate')
    expect(high.knee).toBe(48)
    expect(high.steps.map((s) => s.ratePerS)).toEqual([1, 2, 4, 8, 16, 32, 48])
  })

  it('stops at maxSteps with the best rate so far, and at once when a step aborts', async () => {
    const r = await searchKnee(server(12.5), { ...options, maxSteps: 6 })
    expect(r.end).toBe('max-steps')
    expect(r.steps).toHaveLength(6)
    expect(r.knee!).toBeLessThanOrEqual(12.5)
    let n = 0
    const aborted = await searchKnee(
      async (rate) => ({ pass: true, abort: ++n === 3, result: rate }),
      options,
    )
    expect(aborted.end).toBe('aborted')
    expect(aborted.steps).toHaveLength(3)
  })

  it('refuses settings that cannot end', async () => {
    await expect(searchKnee(server(1), { ...options, tolerance: 0 })).rejects.toThrow(RangeError)
    await expect(searchKnee(server(1), { ...options, minRatePerS: 10, maxRatePerS: 5 })).rejects.toThrow(
      RangeError,
    )
  })
})

describe('--slo specs', () => {
  it('parse NAME=MS for the four latencies at P50/P90/P95/P99', () => {
    expect(parseSloSpec('ttftMsP95=500')).toEqual({
      name: 'ttftMsP95',
      metric: 'ttftMs',
      percentile: 95,
      maxMs: 500,
    })
    expect(parseSloSpec('tpotMsP99=12.5').maxMs).toBe(12.5)
    expect(parseSloSpec('e2eMsP50=2000').metric).toBe('e2eMs')
    expect(goodputSlo(parseSloSpecs(['ttftMsP95=500', 'ttftMsP99=800', 'tpotMsP95=50']))).toEqual({
      ttftMs: 500,
      tpotMs: 50,
    })
  })

  it('a bad one is one line naming --slo, what is wrong and the accepted form', () => {
    for (const [spec, why] of [
      ['ttftMsP95', /missing "="/],
      ['ttftP95=500', /unknown metric "ttftP95"/],
      ['ttftMsP97=500', /unsupported percentile P97/],
      ['tpotMsP95=fast', /must be a number of milliseconds > 0, got "fast"/],
      ['tpotMsP95=-1', /> 0/],
    ] as const) {
      const err = (() => {
        try {
          parseSloSpec(spec)
        } catch (e) {
          return e as Error
        }
        throw new Error(`${spec} was accepted`)
      })()
      expect(err).toBeInstanceOf(SloSpecError)
      expect(err.message).toMatch(/^--slo "/)
      expect(err.message).toMatch(why)
      expect(err.message).toMatch(/use NAME=MS .* e\.g\. --slo ttftMsP95=500$/)
      expect(err.message).not.toMatch(/\n/)
    }
    expect(() => parseSloSpecs([])).toThrow(/give at least one bound/)
    expect(() => parseSloSpecs(['ttftMsP95=1', 'ttftMsP95=2'])).toThrow(/given twice/)
  })
})

const ok = (startedAt: number, ttftMs: number, lagMs = 0): RequestOutcome => ({
  state: 'ok',
  seq: 0,
  scheduledAt: startedAt - lagMs,
  startedAt,
  promptIndex: 0,
  ttftMs,
  e2eMs: ttftMs + 100,
  chunkGapsMs: [],
  chunks: 10,
  outputTokens: 10,
  tokensSource: 'server',
})

describe('SaturationDetector', () => {
  it('slope is the least-squares fit', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12)
    expect(slope([1, 1], [0, 5])).toBe(0)
  })

  it('says nothing while TTFT is flat, even above the bound', () => {
    const d = new SaturationDetector({ ttftBoundMs: 100 })
    for (let i = 0; i < 30; i++) expect(d.observe(ok(i * 100, 250 + (i % 2)))).toBeUndefined()
  })

  it('stops when TTFT rises past factor × the bound', () => {
    const d = new SaturationDetector({ ttftBoundMs: 100 })
    let verdict: string | undefined
    let at = -1
    for (let i = 0; i < 40 && verdict === undefined; i++) {
      verdict = d.observe(ok(i * 100, 20 + i * 15)) // +150 ms of TTFT per second
      at = i
    }
    expect(verdict).toMatch(/^over-saturated: TTFT rising/)
    // The last five's median passes 200 ms when i − 2 > 12, i.e. at i = 15.
    expect(at).toBe(15)
  })

  it('stops when the client falls behind its schedule', () => {
    const d = new SaturationDetector({ ttftBoundMs: 1000 })
    let verdict: string | undefined
    for (let i = 0; i < 40 && verdict === undefined; i++)
      verdict = d.observe(ok(i * 10, 20, i < 10 ? 0 : 200))
    expect(verdict).toMatch(/^client saturated: schedule lag growing/)
  })
})
