/** db/figures/compare.ts: relative change from base to candidate, and the figures of two runs side by side. */
import { describe, expect, it } from 'vitest'
import { compareMetrics, type MetricValue, relativeChangePct } from '../../../db/figures/compare.ts'

describe('relativeChangePct', () => {
  it('is the change over the magnitude of the base, in percent', () => {
    expect(relativeChangePct(200, 230), '(230 − 200) / 200 = +15 %').toBeCloseTo(15, 12)
    expect(relativeChangePct(80, 60), '(60 − 80) / 80 = −25 %').toBe(-25)
    // A negative base: (−40 − (−50)) / |−50| = 10 / 50 = +20 %, an increase although both are negative.
    expect(relativeChangePct(-50, -40), 'negative base').toBe(20)
    expect(relativeChangePct(3, 3), 'no change').toBe(0)
  })

  it('is null from a base of 0 or when a side is missing', () => {
    expect(relativeChangePct(0, 5), 'base 0').toBeNull()
    expect(relativeChangePct(undefined, 5), 'no base').toBeNull()
    expect(relativeChangePct(5, undefined), 'no candidate').toBeNull()
  })
})

describe('compareMetrics', () => {
  const v = (value: number, unit: string, direction: MetricValue['direction'], n: number): MetricValue => ({
    value,
    unit,
    direction,
    n,
  })

  it('lists every figure either run has, the given ones first, the rest by name', () => {
    const base = {
      zeta: v(1, 'u', 'none', 1),
      ttftMsP50: v(100, 'ms', 'lower', 10),
      alpha: v(4, 'x', 'higher', 2),
    }
    const candidate = {
      ttftMsP50: v(90, 'ms', 'lower', 12),
      outputTokensPerS: v(50, 'tokens/s', 'higher', 12),
    }
    const rows = compareMetrics(base, candidate, ['outputTokensPerS', 'ttftMsP50'])
    expect(
      rows.map((r) => r.name),
      'order',
    ).toEqual(['outputTokensPerS', 'ttftMsP50', 'alpha', 'zeta'])
    expect(rows[1], 'both sides: (90 − 100) / 100 = −10 %').toEqual({
      name: 'ttftMsP50',
      unit: 'ms',
      direction: 'lower',
      base: 100,
      candidate: 90,
      baseN: 10,
      candidateN: 12,
      deltaPct: -10,
    })
    expect(rows[0], 'candidate only: its unit, no change').toMatchObject({
      unit: 'tokens/s',
      base: null,
      candidate: 50,
      baseN: null,
      deltaPct: null,
    })
    expect(rows[2], 'base only').toMatchObject({ base: 4, candidate: null, candidateN: null, deltaPct: null })
  })

  it('takes unit and direction from the base, then the candidate, then the catalogue', () => {
    const [differing] = compareMetrics({ m: v(1, 'a', 'higher', 1) }, { m: v(2, 'b', 'lower', 1) })
    expect([differing?.unit, differing?.direction], 'base wins').toEqual(['a', 'higher'])
    expect(compareMetrics({}, {}), 'nothing to compare').toEqual([])
  })
})
