/**
 * The leaderboard's order, pure: best first by one figure in its catalogue direction.
 * @module
 */
import { metricInfo } from '../../harness/metrics/catalogue.ts'

/** What ordering reads of a row. */
export interface OrderableRow {
  runId: number
  targetName: string
  metrics: Readonly<Record<string, { value: number } | undefined>>
}

/**
 * A new array of `rows`, best first by `figure`: ascending for a lower-is-better metric of the catalogue,
 * descending otherwise (higher-is-better, 'none', or unknown); rows without the figure last. Ties, and
 * rows both without it, by target name (localeCompare) then run id.
 */
export function orderByFigure<T extends OrderableRow>(rows: readonly T[], figure: string): T[] {
  const sign = metricInfo(figure)?.direction === 'lower' ? 1 : -1
  return [...rows].sort((a, b) => {
    const va = a.metrics[figure]?.value
    const vb = b.metrics[figure]?.value
    if (va !== undefined && vb !== undefined && va !== vb) return sign * (va - vb)
    if ((va === undefined) !== (vb === undefined)) return va === undefined ? 1 : -1
    return a.targetName.localeCompare(b.targetName) || a.runId - b.runId
  })
}
