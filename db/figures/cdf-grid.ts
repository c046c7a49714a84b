/**
 * A CDF computed by the database at a fixed grid of fractions, pure: the grid to ask percentile_disc for,
 * and the CDF points its answer gives (db/queries/run-series.ts asks; a run of 100 k requests then ships
 * a few hundred numbers instead of every sample).
 * @module
 */

/** Fractions (j + 0.5) / points: percentile_disc at these hits ranks ⌈f·n⌉, every rank when n ≤ points. */
export function cdfGrid(points: number): number[] {
  return Array.from({ length: points }, (_, j) => (j + 0.5) / points)
}

/**
 * CDF points from percentile_disc results at `grid` over n samples: (value, rank / n) for each grid point,
 * one point per value (its highest rank), led by (smallest, 0). Same as empiricalCdf when n ≤ grid size.
 */
export function cdfFromGrid(
  n: number,
  grid: readonly number[],
  values: readonly (number | null)[],
): { x: number; y: number }[] {
  if (n === 0 || values.length === 0) return []
  const points: { x: number; y: number }[] = []
  grid.forEach((f, j) => {
    const x = values[j]
    if (x === null || x === undefined) return
    // percentile_disc's rank for fraction f, computed as PostgreSQL does (same doubles, same result).
    const y = Math.ceil(f * n) / n
    const last = points.at(-1)
    if (last && last.x === x) last.y = Math.max(last.y, y)
    else points.push({ x, y })
  })
  const first = points[0]
  return first ? [{ x: first.x, y: 0 }, ...points] : []
}
