/**
 * The pure parts of procurement: figures derived from throughput, memory, price and goodput (with the
 * reason for each missing one), ranking by each objective with unpriced targets last, the recommendation
 * sentence, stored rows turned back into outcomes for the harness's goodput, and the chart builders.
 */
import { describe, expect, it } from 'vitest'
import { SERIES_COLOURS } from '../../../dashboard/charts/palette.ts'
import {
  type FigureRow,
  rankedBarChart,
  type ScatterPlan,
  tradeOffScatter,
} from '../../../dashboard/charts/procurement.ts'
import { type ProcurementSlo, type RankedTarget, recommend } from '../../../dashboard/data/procurement.ts'
import {
  deriveFigures,
  type GoodputAtSlo,
  goodputOfOutcomes,
  type ProcurementFigures,
  rankProcurement,
} from '../../../db/queries/procurement.ts'
import { fromRequestRow } from '../../../db/request-rows.ts'
import type { RequestRow } from '../../../db/schema.ts'
import { summarizeRun } from '../../../harness/metrics/run.ts'
import type { RequestOutcome } from '../../../harness/results.ts'

const computed = (goodputRequestsPerS: number): GoodputAtSlo => ({
  state: 'computed',
  goodputRequestsPerS,
  goodFraction: 0.5,
  good: 1,
  attempted: 2,
  windowMs: 1000,
})

describe('deriveFigures', () => {
  it('divides by the price and the memory, and turns a rate per second into a count per dollar', () => {
    const { figures, why } = deriveFigures({
      outputTokensPerS: 120,
      memory: { metric: 'peakRssBytes', bytes: 3e9 },
      usdPerHour: 4,
      goodput: computed(2),
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

  it('leaves out what it cannot compute and says why', () => {
    const { figures, why } = deriveFigures({
      outputTokensPerS: 120,
      memory: { metric: 'vramBytes', bytes: 0 },
      goodput: { state: 'unavailable', reason: 'no per-request rows are stored' },
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
})

function target(runId: number, label: string, figures: Partial<ProcurementFigures>, noPrice = false) {
  const { figures: all, why } = deriveFigures({
    outputTokensPerS: figures.outputTokensPerS ?? undefined,
    memory: figures.memoryBytes ? { metric: 'peakRssBytes', bytes: figures.memoryBytes } : undefined,
    usdPerHour: noPrice ? undefined : (figures.usdPerHour ?? undefined),
    goodput: figures.goodputRequestsPerS != null ? computed(figures.goodputRequestsPerS) : computed(0),
    noPriceReason: `no hourly price is entered for ${label}'s environment`,
  })
  return { runId, label, figures: all, why }
}

describe('rankProcurement', () => {
  const rows = [
    target(1, 'a', { outputTokensPerS: 100, usdPerHour: 10, memoryBytes: 1e9, goodputRequestsPerS: 1 }),
    target(2, 'b', { outputTokensPerS: 60, usdPerHour: 2, memoryBytes: 4e9, goodputRequestsPerS: 3 }),
    target(3, 'c', { outputTokensPerS: 500, memoryBytes: 2e9, goodputRequestsPerS: 2 }, true),
    target(4, 'd', { outputTokensPerS: 30, usdPerHour: 1, goodputRequestsPerS: 0.5 }),
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

describe('recommend', () => {
  const slo: ProcurementSlo = { ttftMs: 200, tpotMs: 60, source: 'query' }
  const as = (ranked: ReturnType<typeof rankProcurement>) => ranked as unknown as RankedTarget[]
  const rows = [
    target(1, 'a', { outputTokensPerS: 100, usdPerHour: 10, goodputRequestsPerS: 1 }),
    target(2, 'b', { outputTokensPerS: 60, usdPerHour: 2, goodputRequestsPerS: 3 }),
    target(3, 'c', { outputTokensPerS: 500 }, true),
  ]

  it('names the best, how far ahead it is, and what could not be ranked', () => {
    const r = recommend(as(rankProcurement(rows, 'cost-efficiency')), 'cost-efficiency', slo)
    expect(r.best, 'best').toEqual({ runId: 2, label: 'b', value: 30 })
    expect(r.text, 'sentence').toBe(
      "By cost efficiency, choose b: 30 tokens/s per $/h (108,000 output tokens per dollar at $2/h), 3× the next, a (10 tokens/s per $/h). Not ranked, listed last: c (no hourly price is entered for c's environment).",
    )
  })

  it('states the SLO for goodput objectives, and when nothing can be ranked', () => {
    expect(recommend(as(rankProcurement(rows, 'goodput')), 'goodput', slo).text, 'goodput').toBe(
      // Goodput needs no price: c is ranked too, last with 0 requests/s.
      'By goodput at the SLO (SLO ttftMs ≤ 200 ms and tpotMs ≤ 60 ms), choose b: 3 requests/s, 3× the next, a (1 requests/s).',
    )
    const unpriced = [target(3, 'c', { outputTokensPerS: 500 }, true)]
    expect(
      recommend(as(rankProcurement(unpriced, 'cost-efficiency')), 'cost-efficiency', slo).text,
      'none',
    ).toBe(
      "No target can be ranked by cost efficiency. Not ranked, listed last: c (no hourly price is entered for c's environment).",
    )
    expect(recommend([], 'goodput', slo), 'no rows').toEqual({ best: null, text: 'No target to compare.' })
  })
})

const row = (fields: Partial<RequestRow>): RequestRow => ({
  runId: 1,
  seq: 0,
  state: 'ok',
  promptIndex: 0,
  errorKind: null,
  httpStatus: null,
  message: null,
  scheduledAtMs: 0,
  startedAtMs: 0,
  ttftMs: 100,
  e2eMs: 1000,
  chunks: 10,
  promptTokens: 16,
  outputTokens: 10,
  tokensSource: 'server',
  serverOutputTokens: null,
  tokenizerOutputTokens: null,
  finishReason: null,
  serverTimings: null,
  connectionRetries: 0,
  chunkGapsMs: null,
  ...fields,
})

describe('stored requests as outcomes', () => {
  it('gives the same goodput as the harness on the outcomes they were stored from', () => {
    const original: RequestOutcome[] = [
      {
        state: 'ok',
        seq: 0,
        promptIndex: 0,
        scheduledAt: 0,
        startedAt: 0,
        ttftMs: 100,
        e2eMs: 1000,
        chunkGapsMs: [100, 100],
        chunks: 10,
        outputTokens: 10,
        tokensSource: 'server',
      },
      {
        state: 'error',
        seq: 1,
        promptIndex: 0,
        scheduledAt: 500,
        startedAt: 500,
        error: { kind: 'timeout', message: 'x' },
        ttftMs: 200,
        e2eMs: 2500,
      },
    ]
    const stored = [
      row({}),
      row({
        seq: 1,
        state: 'error',
        errorKind: 'timeout',
        scheduledAtMs: 500,
        startedAtMs: 500,
        ttftMs: 200,
        e2eMs: 2500,
        outputTokens: null,
        chunks: null,
      }),
    ]
    const outcomes = stored.map(fromRequestRow) as RequestOutcome[]
    const slo = { ttftMs: 150, tpotMs: 100 }
    const harness = summarizeRun(original, { slo })
    // The error's partial progress ends the window at 500 + 2500 = 3000 ms: 1 good / 3 s.
    expect(goodputOfOutcomes(outcomes, slo), 'from stored rows').toEqual({
      state: 'computed',
      goodputRequestsPerS: harness.goodputRequestsPerS,
      goodFraction: harness.goodFraction,
      good: 1,
      attempted: 2,
      windowMs: 3000,
    })
    expect(harness.goodputRequestsPerS, 'hand-computed').toBeCloseTo(1 / 3, 12)
  })

  it('says why rows cannot give a goodput', () => {
    expect(fromRequestRow(row({ startedAtMs: Number.NaN })), 'imported, no send times').toMatch(
      /no send times/,
    )
    expect(fromRequestRow(row({ ttftMs: null })), 'ok without ttft').toBe(
      'ok request 0 has no stored ttftMs, e2eMs or outputTokens',
    )
    expect(goodputOfOutcomes([], {}), 'no rows').toEqual({
      state: 'unavailable',
      reason: 'no per-request rows are stored',
    })
  })
})

describe('procurement charts', () => {
  const rows: FigureRow[] = [
    {
      runId: 1,
      label: 'best',
      href: '/runs/1',
      colour: 2,
      figures: { cost: 30, goodput: 1, memory: 2e9, tps: 10 },
    },
    {
      runId: 2,
      label: 'second',
      href: '/runs/2',
      colour: 0,
      figures: { cost: 10, goodput: 3, memory: null, tps: 20 },
    },
    { runId: 3, label: 'unpriced', colour: 1, figures: { cost: null, goodput: 2, memory: 1e9, tps: 5 } },
  ]
  const axis = (figure: string, unit = 'u') => ({ figure, title: figure, unit, better: 'higher' as const })

  it('draws the objective as bars in the given order, leaving out rows without it', () => {
    const config = rankedBarChart(rows, axis('cost', 'tokens/s per $/h'))!
    expect(config.type, 'bar').toBe('bar')
    expect(config.options.indexAxis, 'horizontal').toBe('y')
    expect(config.data.labels, 'ranked order, unpriced left out').toEqual(['best', 'second'])
    const dataset = config.data.datasets[0]!
    expect(dataset.data, 'values').toEqual([30, 10])
    expect(dataset.backgroundColor, 'each target its own colour').toEqual([
      SERIES_COLOURS[2],
      SERIES_COLOURS[0],
    ])
    expect(dataset.benchLinks, 'links to the runs').toEqual(['/runs/1', '/runs/2'])
    expect(config.options.scales?.x?.title?.text, 'axis title with unit').toBe('cost (tokens/s per $/h)')
    expect(config.options.benchTooltip, 'tooltip unit').toEqual({ xUnit: 'tokens/s per $/h' })
    expect(rankedBarChart(rows, axis('absent')), 'nothing to draw').toBeUndefined()
  })

  it('scatters the first trade-off two rows have, with its Pareto front', () => {
    const plans: ScatterPlan[] = [
      { id: 'cost-goodput', x: axis('cost'), y: axis('goodput') },
      {
        id: 'tps-memory',
        x: axis('tps'),
        y: { ...axis('memory', 'bytes'), better: 'lower', format: 'bytes' },
      },
    ]
    const first = tradeOffScatter(rows, plans)!
    expect(first.plan.id, 'cost vs goodput: two rows have both').toBe('cost-goodput')
    expect(first.runIds, 'rows drawn').toEqual([1, 2])
    const [front, ...targets] = first.config.data.datasets
    // best (30, 1) and second (10, 3): neither dominates the other, both on the front.
    expect(front?.data, 'front, by x').toEqual([
      { x: 10, y: 3, label: 'second', href: '/runs/2' },
      { x: 30, y: 1, label: 'best', href: '/runs/1' },
    ])
    expect(
      targets.map((d) => d.label),
      'one series per target, front marked',
    ).toEqual(['best ◆', 'second ◆'])
    const memory = tradeOffScatter(
      [rows[0]!, { ...rows[1]!, figures: { ...rows[1]!.figures, goodput: null } }, rows[2]!],
      plans,
    )!
    expect(memory.plan.id, 'falls back to throughput vs memory').toBe('tps-memory')
    expect(memory.runIds, 'rows with memory').toEqual([1, 3])
    expect(memory.config.options.scales?.y?.benchFormat, 'bytes axis').toBe('bytes')
    expect(memory.config.options.benchTooltip, 'no unit appended to bytes').toEqual({
      y: 'bytes',
      xUnit: 'u',
    })
    expect(tradeOffScatter([rows[0]!], plans), 'one row: no trade-off').toBeUndefined()
  })
})
