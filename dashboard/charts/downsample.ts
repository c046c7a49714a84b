/**
 * Server-side downsampling of a series past a point budget, so a history of 100 k runs sends a few hundred
 * points and still shows its spikes: Largest-Triangle-Three-Buckets (Steinarsson 2013). The first and last
 * points are always kept; each bucket in between keeps the point forming the largest triangle with the
 * previous kept point and the next bucket's average, which is what keeps outliers visible.
 * @module
 */

export interface XY {
  x: number
  y: number
}

/**
 * At most `budget` of `points` (sorted by x), the original objects, in order; all of them when they fit.
 * Points for which `keep` returns true are kept as well (alert or change-point runs), so the result can
 * exceed the budget by their number.
 * @param budget points to keep, ≥ 3 (smaller budgets keep first and last only)
 */
export function lttb<T extends XY>(points: readonly T[], budget: number, keep?: (p: T) => boolean): T[] {
  const n = points.length
  if (n <= Math.max(2, budget)) return [...points]
  if (budget < 3) return mergeKept([points[0]!, points[n - 1]!], points, keep)
  const sampled: T[] = [points[0]!]
  const bucketSize = (n - 2) / (budget - 2)
  let a = 0
  for (let i = 0; i < budget - 2; i++) {
    const nextStart = Math.floor((i + 1) * bucketSize) + 1
    const nextEnd = Math.min(Math.floor((i + 2) * bucketSize) + 1, n)
    let avgX = 0
    let avgY = 0
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += points[j]!.x
      avgY += points[j]!.y
    }
    const span = nextEnd - nextStart
    avgX /= span
    avgY /= span
    const from = Math.floor(i * bucketSize) + 1
    const to = Math.floor((i + 1) * bucketSize) + 1
    const pa = points[a]!
    let best = from
    let bestArea = -1
    for (let j = from; j < to; j++) {
      const p = points[j]!
      const area = Math.abs((pa.x - avgX) * (p.y - pa.y) - (pa.x - p.x) * (avgY - pa.y))
      if (area > bestArea) {
        bestArea = area
        best = j
      }
    }
    sampled.push(points[best]!)
    a = best
  }
  sampled.push(points[n - 1]!)
  return mergeKept(sampled, points, keep)
}

function mergeKept<T extends XY>(sampled: T[], points: readonly T[], keep?: (p: T) => boolean): T[] {
  if (!keep) return sampled
  const chosen = new Set<T>(sampled)
  for (const p of points) if (keep(p)) chosen.add(p)
  if (chosen.size === sampled.length) return sampled
  return points.filter((p) => chosen.has(p))
}
