/**
 * The dashboard's pure parts of procurement: the recommendation sentence and the chart builders. The
 * figures and the ranking they word are db/figures' (test/unit/figures).
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
import { rankProcurement } from '../../../db/figures/procurement.ts'
import { procurementTarget } from '../../helpers/procurement-target.ts'

describe('recommend', () => {
  const slo: ProcurementSlo = { ttftMs: 200, tpotMs: 60, e2eMs: null, source: 'query' }
  const as = (ranked: ReturnType<typeof rankProcurement>) => ranked as unknown as RankedTarget[]
  const rows = [
    procurementTarget(1, 'a', { outputTokensPerS: 100, usdPerHour: 10, goodputRequestsPerS: 1 }),
    procurementTarget(2, 'b', { outputTokensPerS: 60, usdPerHour: 2, goodputRequestsPerS: 3 }),
    procurementTarget(3, 'c', { outputTokensPerS: 500 }, true),
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
    const unpriced = [procurementTarget(3, 'c', { outputTokensPerS: 500 }, true)]
    expect(
      recommend(as(rankProcurement(unpriced, 'cost-efficiency')), 'cost-efficiency', slo).text,
      'none',
    ).toBe(
      "No target can be ranked by cost efficiency. Not ranked, listed last: c (no hourly price is entered for c's environment).",
    )
    expect(recommend([], 'goodput', slo), 'no rows').toEqual({ best: null, text: 'No target to compare.' })
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
      { x: 10, y: 3, label: 'second', href: '/runs/2', benchTag: 'second' },
      { x: 30, y: 1, label: 'best', href: '/runs/1', benchTag: 'best' },
    ])
    expect(targets, 'both on the front: no other series').toEqual([])
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
