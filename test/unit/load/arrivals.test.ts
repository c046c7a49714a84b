import { describe, expect, it } from 'vitest'
import { arrivalOffsetsMs, constantRateOffsetMs } from '../../../harness/load/arrivals.ts'
import { createRandom } from '../../../harness/random.ts'

const take = (it: Iterator<number>, n: number) => {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const next = it.next()
    if (next.done) break
    out.push(next.value)
  }
  return out
}
const gaps = (offsets: number[]) => offsets.map((t, i) => t - (i === 0 ? 0 : offsets[i - 1]!))
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)
  return { mean, cv2: variance / mean ** 2 }
}

describe('arrivalOffsetsMs', () => {
  it('constant-rate: i/r from the start, ending after requests', () => {
    const offsets = [
      ...arrivalOffsetsMs(
        { kind: 'constant-rate', ratePerS: 8, maxInFlight: 1, requests: 4 },
        createRandom(1),
      ),
    ]
    expect(offsets, 'offsets').toEqual([0, 125, 250, 375])
    expect(constantRateOffsetMs(3, 8), 'offset of arrival 3').toBe(375)
  })

  it('constant-rate without requests is endless (the executor stops it at durationS)', () => {
    const it = arrivalOffsetsMs(
      { kind: 'constant-rate', ratePerS: 2, maxInFlight: 1, durationS: 1 },
      createRandom(1),
    )
    expect(take(it, 5), 'first five').toEqual([0, 500, 1000, 1500, 2000])
  })

  it('poisson γ: mean gap 1/r and CV² ≈ 1/γ over 100,000 unscaled gaps', () => {
    // Standard errors at n = 100,000: mean gap ≤ 1 % of 1/r; CV² ≤ 3 % (γ = 0.25 has the heaviest tail).
    for (const [burstiness, expectedCv2] of [
      [0.25, 4],
      [0.5, 2],
      [1, 1],
      [4, 0.25],
    ] as const) {
      const it = arrivalOffsetsMs(
        { kind: 'poisson', ratePerS: 10, burstiness, maxInFlight: 1, durationS: 1 },
        createRandom(5),
      )
      const { mean, cv2 } = stats(gaps(take(it, 100_000)))
      expect(mean, `γ=${burstiness}: mean gap ≈ 100 ms (±4 %)`).toBeGreaterThan(96)
      expect(mean, `γ=${burstiness}: mean gap ≈ 100 ms (±4 %)`).toBeLessThan(104)
      expect(cv2 / expectedCv2, `γ=${burstiness}: CV² ≈ ${expectedCv2} (±10 %)`).toBeGreaterThan(0.9)
      expect(cv2 / expectedCv2, `γ=${burstiness}: CV² ≈ ${expectedCv2} (±10 %)`).toBeLessThan(1.1)
    }
  })

  it('poisson with requests: exactly requests arrivals, the first after one gap, the last at requests/r', () => {
    const offsets = [
      ...arrivalOffsetsMs(
        { kind: 'poisson', ratePerS: 3, burstiness: 0.5, maxInFlight: 1, requests: 7 },
        createRandom(9),
      ),
    ]
    expect(offsets.length, 'count').toBe(7)
    expect(offsets[0], 'first arrival after a gap').toBeGreaterThan(0)
    expect(offsets.at(-1), 'last = 7 / 3 s').toBe(7000 / 3)
  })
})
