/**
 * db/figures/procurement.ts with hand-computed numbers: each derived figure, the reason for each missing
 * one, the peak memory chosen, and the ranking by each objective (ties, unranked rows last).
 */
import { describe, expect, it } from 'vitest'
import type { GoodputAtSlo } from '../../../db/figures/goodput.ts'
import { deriveFigures, peakMemoryOf, rankProcurement } from '../../../db/figures/procurement.ts'
import { computedGoodput, procurementTarget } from '../../helpers/procurement-target.ts'

const noRows: GoodputAtSlo = { state: 'unavailable', reason: 'no per-request rows are stored' }

describe('deriveFigures', () => {
  it('divides by the price and the memory, and turns a rate per second into a count per dollar', () => {
    const { figures, why } = deriveFigures({
      outputTokensPerS: 120,
      memory: { metric: 'peakRssBytes', bytes: 3e9 },
      usdPerHour: 4,
      goodput: computedGoodput(2),
      noPriceReason: 'unused',
    })
    expect(figures, 'every figure').toEqual({
      outputTokensPerS: 120,
      memoryBytes: 3e9,
      memoryMetric: 'peakRssBytes',
      usdPerHour: 4,
      outputTokensPerSPerUsdHour: 30, // 120 / 4
      outputTokensPerUsd: 108_000, // 120 × 3600 / 4
      outputTokensPerSPerGB: 40, // 120 / 3
      goodputRequestsPerS: 2,
      goodFraction: 0.5,
      goodRequestsPerUsd: 1800, // 2 × 3600 / 4
    })
    expect(why, 'nothing missing').toEqual({})
  })

  it('prices a small CPU machine: 2 vCPU at $0.10/h serving 1,215 tokens/s', () => {
    const { figures } = deriveFigures({
      outputTokensPerS: 1215,
      memory: { metric: 'peakRssBytes', bytes: 2.5e9 },
      usdPerHour: 0.1,
      goodput: computedGoodput(3),
      noPriceReason: 'unused',
    })
    // 1,215 tokens/s / $0.10/h = 12,150 tokens/s per $/h.
    expect(figures.outputTokensPerSPerUsdHour, 'tokens/s per $/h').toBeCloseTo(12_150, 6)
    // 1,215 × 3,600 = 4,374,000 tokens an hour for $0.10 → 43,740,000 tokens per dollar,
    // i.e. $1 / 43.74 M tokens = $0.02286 ≈ $0.0229 per million output tokens.
    expect(figures.outputTokensPerUsd, 'tokens per $').toBeCloseTo(43_740_000, 3)
    expect(1e6 / figures.outputTokensPerUsd!, '$ per million tokens').toBeCloseTo(0.022862, 6)
    // 2.5 GB peak RSS: 1,215 / 2.5 = 486 tokens/s per GB.
    expect(figures.outputTokensPerSPerGB, 'tokens/s per GB').toBeCloseTo(486, 9)
    // 3 good requests/s × 3,600 s / $0.10 = 108,000 requests meeting the SLO per dollar.
    expect(figures.goodRequestsPerUsd, 'good requests per $').toBeCloseTo(108_000, 6)
  })

  it('leaves out what it cannot compute and says why', () => {
    const { figures, why } = deriveFigures({
      outputTokensPerS: 120,
      memory: { metric: 'vramBytes', bytes: 0 },
      goodput: noRows,
      noPriceReason: 'no price for #3',
    })
    expect(
      [figures.outputTokensPerSPerUsdHour, figures.outputTokensPerSPerGB, figures.goodRequestsPerUsd],
      'missing',
    ).toEqual([null, null, null])
    expect(figures.memoryMetric, 'zero bytes is no measurement').toBeNull()
    expect(why, 'reasons').toEqual({
      memoryBytes: 'no peak memory was measured (peakRssBytes or vramBytes)',
      memoryMetric: 'no peak memory was measured (peakRssBytes or vramBytes)',
      usdPerHour: 'no price for #3',
      outputTokensPerSPerUsdHour: 'no price for #3',
      outputTokensPerUsd: 'no price for #3',
      outputTokensPerSPerGB: 'no peak memory was measured (peakRssBytes or vramBytes)',
      goodputRequestsPerS: 'no per-request rows are stored',
      goodFraction: 'no per-request rows are stored',
      goodRequestsPerUsd: 'no per-request rows are stored; no price for #3',
    })
  })

  it('reads a zero price as no price instead of dividing by it', () => {
    const { figures, why } = deriveFigures({
      outputTokensPerS: 100,
      usdPerHour: 0,
      goodput: computedGoodput(1),
      noPriceReason: 'unused: a price was given',
    })
    expect(
      [figures.usdPerHour, figures.outputTokensPerSPerUsdHour, figures.outputTokensPerUsd],
      'no figure per dollar',
    ).toEqual([null, null, null])
    expect(figures.goodRequestsPerUsd, 'nor goodput per dollar').toBeNull()
    expect(why.outputTokensPerSPerUsdHour, 'the reason names the bad price').toBe(
      'the hourly price must be a number > 0 $/h, got 0',
    )
    const negative = deriveFigures({
      outputTokensPerS: 100,
      usdPerHour: -2,
      goodput: noRows,
      noPriceReason: '',
    })
    expect(negative.why.usdPerHour, 'negative').toBe('the hourly price must be a number > 0 $/h, got -2')
  })

  it('keeps a zero throughput: 0 tokens/s costs nothing per token but is still a figure', () => {
    const { figures, why } = deriveFigures({
      outputTokensPerS: 0,
      memory: { metric: 'peakRssBytes', bytes: 1e9 },
      usdPerHour: 2,
      goodput: computedGoodput(0),
      noPriceReason: 'unused',
    })
    // 0 / 2 = 0; 0 × 3600 / 2 = 0; 0 / 1 GB = 0; 0 good requests/s × 3600 / 2 = 0.
    expect(
      [
        figures.outputTokensPerSPerUsdHour,
        figures.outputTokensPerUsd,
        figures.outputTokensPerSPerGB,
        figures.goodRequestsPerUsd,
      ],
      'zeros, not nulls',
    ).toEqual([0, 0, 0, 0])
    expect(why, 'nothing missing').toEqual({})
  })

  it('says a run without outputTokensPerS has no throughput figure, and goodput still stands', () => {
    const { figures, why } = deriveFigures({
      usdPerHour: 4,
      goodput: computedGoodput(2),
      noPriceReason: 'unused',
    })
    expect(figures.outputTokensPerS, 'throughput').toBeNull()
    expect(why.outputTokensPerSPerUsdHour, 'reason').toBe('the run has no outputTokensPerS')
    expect(why.outputTokensPerSPerGB, 'both reasons').toBe(
      'the run has no outputTokensPerS; no peak memory was measured (peakRssBytes or vramBytes)',
    )
    expect(figures.goodRequestsPerUsd, '2 × 3600 / 4').toBe(1800)
  })
})

describe('peakMemoryOf', () => {
  const m = (value: number) => ({ value })
  it('takes peakRssBytes, else vramBytes, else nothing', () => {
    expect(peakMemoryOf({ peakRssBytes: m(2e9), vramBytes: m(8e9) }), 'RSS first').toEqual({
      metric: 'peakRssBytes',
      bytes: 2e9,
    })
    expect(peakMemoryOf({ vramBytes: m(8e9), outputTokensPerS: m(10) }), 'device memory').toEqual({
      metric: 'vramBytes',
      bytes: 8e9,
    })
    expect(peakMemoryOf({ outputTokensPerS: m(10) }), 'none').toBeUndefined()
  })

  it('keeps a stored 0 B RSS as the choice, which deriveFigures then reads as not measured', () => {
    const memory = peakMemoryOf({ peakRssBytes: m(0), vramBytes: m(8e9) })
    expect(memory, 'chosen').toEqual({ metric: 'peakRssBytes', bytes: 0 })
    const { figures } = deriveFigures({ outputTokensPerS: 10, memory, goodput: noRows, noPriceReason: '' })
    expect(figures.outputTokensPerSPerGB, 'no per-GB figure').toBeNull()
  })
})

describe('rankProcurement', () => {
  const rows = [
    procurementTarget(1, 'a', {
      outputTokensPerS: 100,
      usdPerHour: 10,
      memoryBytes: 1e9,
      goodputRequestsPerS: 1,
    }),
    procurementTarget(2, 'b', {
      outputTokensPerS: 60,
      usdPerHour: 2,
      memoryBytes: 4e9,
      goodputRequestsPerS: 3,
    }),
    procurementTarget(3, 'c', { outputTokensPerS: 500, memoryBytes: 2e9, goodputRequestsPerS: 2 }, true),
    procurementTarget(4, 'd', { outputTokensPerS: 30, usdPerHour: 1, goodputRequestsPerS: 0.5 }),
  ]

  it('ranks by cost efficiency with unpriced targets last, saying so', () => {
    const ranked = rankProcurement(rows, 'cost-efficiency')
    // tokens/s per $/h: a 10, b 30, d 30, c no price. b and d tie at 30: label order.
    expect(
      ranked.map((r) => [r.label, r.rank, r.value]),
      'order',
    ).toEqual([
      ['b', 1, 30],
      ['d', 2, 30],
      ['a', 3, 10],
      ['c', null, null],
    ])
    expect(ranked[3]?.unrankedReason, 'reason').toBe("no hourly price is entered for c's environment")
  })

  it('ranks by throughput per GB, goodput and goodput per dollar', () => {
    const order = (objective: Parameters<typeof rankProcurement>[1]) =>
      rankProcurement(rows, objective).map((r) => `${r.label}${r.rank === null ? '-' : ''}`)
    // per GB: a 100, c 250, b 15, d no memory.
    expect(order('throughput-per-gb'), 'per GB').toEqual(['c', 'a', 'b', 'd-'])
    // goodput needs no price: b 3, c 2, a 1, d 0.5.
    expect(order('goodput'), 'goodput').toEqual(['b', 'c', 'a', 'd'])
    // good requests per $: a 360, b 5400, d 1800, c unpriced.
    expect(order('goodput-per-dollar'), 'goodput per dollar').toEqual(['b', 'd', 'a', 'c-'])
  })

  it('breaks a tie of value and label by run id, and ranks a zero figure before a missing one', () => {
    const tied = [
      procurementTarget(9, 'same', { outputTokensPerS: 40, usdPerHour: 2 }), // 20 tokens/s per $/h
      procurementTarget(5, 'same', { outputTokensPerS: 20, usdPerHour: 1 }), // 20 as well
      procurementTarget(7, 'idle', { outputTokensPerS: 0, usdPerHour: 1 }), // 0: ranked, last of the ranked
      procurementTarget(6, 'free', { outputTokensPerS: 50 }, true), // no price: unranked
    ]
    expect(
      rankProcurement(tied, 'cost-efficiency').map((r) => [r.runId, r.rank, r.value]),
      'order',
    ).toEqual([
      [5, 1, 20],
      [9, 2, 20],
      [7, 3, 0],
      [6, null, null],
    ])
  })

  it('lists unranked rows by label and falls back to the figure name when no reason is known', () => {
    const bare = (runId: number, label: string) => ({ ...procurementTarget(runId, label, {}), why: {} })
    const ranked = rankProcurement([bare(2, 'z'), bare(1, 'y')], 'throughput-per-gb')
    expect(
      ranked.map((r) => [r.label, r.unrankedReason]),
      'label order, generic reason',
    ).toEqual([
      ['y', 'no outputTokensPerSPerGB'],
      ['z', 'no outputTokensPerSPerGB'],
    ])
  })

  it('keeps the input intact and handles no rows', () => {
    const before = rows.map((r) => r.label)
    rankProcurement(rows, 'goodput')
    expect(
      rows.map((r) => r.label),
      'input order',
    ).toEqual(before)
    expect(rankProcurement([], 'cost-efficiency'), 'empty').toEqual([])
  })
})
