import { describe, expect, it } from 'vitest'
import { createRandom } from '../../../harness/random.ts'
import { detectChangePoints } from '../../../harness/regression/change-points.ts'

function noisy(seed: number, levels: readonly [level: number, count: number][], cv: number): number[] {
  const random = createRandom(seed)
  return levels.flatMap(([level, count]) =>
    Array.from({ length: count }, () => level * (1 + cv * random.normal())),
  )
}

describe('detectChangePoints (E-divisive + t-test, as Otava)', () => {
  it('finds the split of 1 1 2 2 with q̂ computed by hand', () => {
    // τ = 2, κ = 4: X = [1, 1], Y = [2, 2], four cross pairs at distance 1, none within:
    // q̂ = 2/(2 + 2) · 4 = 2. Both sides have no spread and different means, so p = 0.
    const [cp, ...rest] = detectChangePoints([1, 1, 2, 2])
    expect(rest, 'one change point').toEqual([])
    expect(cp?.index, 'index').toBe(2)
    expect(cp?.qHat, 'q̂').toBe(2)
    expect(cp?.changePct, 'mean 1 → 2').toBe(100)
    expect(cp?.magnitude, 'max(|2/1 − 1|, |1/2 − 1|)').toBe(1)
    expect(cp?.pValue, 'p').toBe(0)
  })

  it('finds a clean 10 % step at its index', () => {
    const series = noisy(
      1,
      [
        [100, 20],
        [110, 20],
      ],
      0.01,
    )
    const points = detectChangePoints(series)
    expect(
      points.map((p) => p.index),
      'one change point at 20',
    ).toEqual([20])
    const [cp] = points
    expect(cp?.changePct, '≈ +10 %').toBeGreaterThan(8)
    expect(cp?.changePct, '≈ +10 %').toBeLessThan(12)
    expect(cp?.pValue, 'p').toBeLessThan(1e-10)
    expect(cp?.before.n, 'points before').toBe(20)
    expect(cp?.after.n, 'points after').toBe(20)
  })

  it('finds a step up and back down across overlapping windows', () => {
    const series = noisy(
      2,
      [
        [100, 30],
        [120, 30],
        [100, 30],
      ],
      0.01,
    )
    expect(
      detectChangePoints(series).map((p) => p.index),
      'at 30 and 60',
    ).toEqual([30, 60])
  })

  it('finds nothing in constant 5 % noise (seeded) or in a constant series', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(detectChangePoints(noisy(seed, [[500, 60]], 0.05)), `noise, seed ${seed}`).toEqual([])
    }
    expect(detectChangePoints(Array.from({ length: 40 }, () => 7)), 'constant').toEqual([])
    expect(detectChangePoints([3]), 'one point').toEqual([])
    expect(detectChangePoints([]), 'empty').toEqual([])
  })

  it('drops a change below minMagnitude', () => {
    const series = noisy(
      3,
      [
        [100, 30],
        [102, 30],
      ],
      0.002,
    )
    expect(
      detectChangePoints(series).map((p) => p.index),
      '2 % step on 0.2 % noise',
    ).toEqual([30])
    expect(detectChangePoints(series, { minMagnitude: 0.05 }), 'under a 5 % minimum').toEqual([])
  })

  it('rejects non-finite values and bad options', () => {
    expect(() => detectChangePoints([1, Number.NaN, 2]), 'NaN').toThrow(RangeError)
    expect(() => detectChangePoints([1, 2, 3], { windowLen: 1 }), 'window 1').toThrow(RangeError)
    expect(() => detectChangePoints([1, 2, 3], { maxPValue: 0 }), 'p 0').toThrow(RangeError)
  })
})

describe('detectChangePoints (E-divisive + permutation test)', () => {
  it('finds the clean step; no shuffle beats it, so p = 1 / (199 + 1)', () => {
    const series = noisy(
      1,
      [
        [100, 20],
        [110, 20],
      ],
      0.01,
    )
    const points = detectChangePoints(series, { significance: 'permutation', seed: 7 })
    expect(
      points.map((p) => p.index),
      'at 20',
    ).toEqual([20])
    expect(points[0]?.pValue, '(0 + 1) / 200').toBe(0.005)
  })

  it('is reproducible for a seed and finds nothing in noise', () => {
    const noise = noisy(4, [[300, 40]], 0.05)
    expect(detectChangePoints(noise, { significance: 'permutation', seed: 3 }), 'noise').toEqual([])
    // maxPValue 1 accepts every split, so the p-values themselves are compared.
    const weak = noisy(
      5,
      [
        [100, 20],
        [103, 20],
      ],
      0.05,
    )
    const options = { significance: 'permutation', seed: 3, permutations: 49, maxPValue: 1 } as const
    const first = detectChangePoints(weak, options)
    expect(first.length, 'splits accepted').toBeGreaterThan(0)
    expect(detectChangePoints(weak, options), 'same seed, same result').toEqual(first)
  })
})
