/**
 * db/figures/cdf-grid.ts: a CDF from percentile_disc at a grid of fractions equals the empirical CDF for
 * samples no larger than the grid, and thins a larger one to the grid's ranks.
 */
import { describe, expect, it } from 'vitest'
import { empiricalCdf } from '../../../dashboard/charts/cdf.ts'
import { cdfFromGrid, cdfGrid } from '../../../db/figures/cdf-grid.ts'

describe('cdfFromGrid', () => {
  /** What percentile_disc returns at each grid fraction: the value at rank ⌈f·n⌉ of the sorted sample. */
  const percentileDisc = (values: number[], grid: number[]) => {
    const sorted = [...values].sort((a, b) => a - b)
    return grid.map((f) => sorted[Math.ceil(f * sorted.length) - 1]!)
  }

  it('is the exact empirical CDF when the sample is no larger than the grid', () => {
    const grid = cdfGrid(200)
    for (const values of [[5], [3, 1, 2, 2], Array.from({ length: 200 }, (_, i) => (i * 37) % 101)]) {
      expect(cdfFromGrid(values.length, grid, percentileDisc(values, grid)), `n = ${values.length}`).toEqual(
        empiricalCdf(values),
      )
    }
  })

  it('thins a larger sample to the grid ranks (hand-computed)', () => {
    // n = 10 on a 4-point grid: fractions 0.125, 0.375, 0.625, 0.875 → ranks 2, 4, 7, 9.
    const grid = cdfGrid(4)
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    expect(cdfFromGrid(10, grid, percentileDisc(values, grid)), 'points').toEqual([
      { x: 20, y: 0 },
      { x: 20, y: 0.2 },
      { x: 40, y: 0.4 },
      { x: 70, y: 0.7 },
      { x: 90, y: 0.9 },
    ])
    expect(cdfFromGrid(0, grid, []), 'no samples').toEqual([])
  })
})
