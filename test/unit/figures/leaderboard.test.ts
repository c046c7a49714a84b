/** db/figures/leaderboard.ts: best first by a figure in its catalogue direction, missing last, ties by name. */
import { describe, expect, it } from 'vitest'
import { orderByFigure } from '../../../db/figures/leaderboard.ts'

const row = (runId: number, targetName: string, metrics: Record<string, number>) => ({
  runId,
  targetName,
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, value]) => [k, { value }])),
})

describe('orderByFigure', () => {
  const rows = [
    row(1, 'b', { outputTokensPerS: 50, ttftMsP95: 30 }),
    row(2, 'a', { outputTokensPerS: 80, ttftMsP95: 90 }),
    row(3, 'c', { ttftMsP95: 10 }),
    row(4, 'a', { outputTokensPerS: 50, ttftMsP95: 30 }),
  ]
  const ids = (figure: string) => orderByFigure(rows, figure).map((r) => r.runId)

  it('puts the highest first for a higher-is-better figure, rows without it last', () => {
    // 80 (a #2), then the tie at 50 by target name: a #4 before b #1; c has no throughput.
    expect(ids('outputTokensPerS'), 'throughput').toEqual([2, 4, 1, 3])
  })

  it('puts the lowest first for a lower-is-better figure', () => {
    // 10 (c), the tie at 30 (a #4, b #1), 90 (a #2).
    expect(ids('ttftMsP95'), 'latency').toEqual([3, 4, 1, 2])
  })

  it('orders by name, then run id, when no row has the figure, and leaves the input alone', () => {
    expect(ids('unknownFigure'), 'names').toEqual([2, 4, 1, 3])
    expect(
      rows.map((r) => r.runId),
      'input order',
    ).toEqual([1, 2, 3, 4])
  })
})
