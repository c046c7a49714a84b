/**
 * Procurement rows for tests of the ranking and the recommendation: a target's figures derived by
 * db/figures deriveFigures from the few inputs a test names, with a computed goodput.
 */
import type { GoodputAtSlo } from '../../db/figures/goodput.ts'
import { deriveFigures, type ProcurementFigures } from '../../db/figures/procurement.ts'

/** A computed goodput of `goodputRequestsPerS` (1 good of 2 over 1 s otherwise). */
export const computedGoodput = (goodputRequestsPerS: number): GoodputAtSlo => ({
  state: 'computed',
  goodputRequestsPerS,
  goodFraction: 0.5,
  good: 1,
  attempted: 2,
  windowMs: 1000,
})

/**
 * A rankable row: throughput, memory (as peakRssBytes), price and goodput from `figures` (goodput 0 when
 * not given); `noPrice` leaves the price out with the reason the database side would give.
 */
export function procurementTarget(
  runId: number,
  label: string,
  figures: Partial<ProcurementFigures>,
  noPrice = false,
) {
  const { figures: all, why } = deriveFigures({
    outputTokensPerS: figures.outputTokensPerS ?? undefined,
    memory: figures.memoryBytes ? { metric: 'peakRssBytes', bytes: figures.memoryBytes } : undefined,
    usdPerHour: noPrice ? undefined : (figures.usdPerHour ?? undefined),
    goodput: computedGoodput(figures.goodputRequestsPerS ?? 0),
    noPriceReason: `no hourly price is entered for ${label}'s environment`,
  })
  return { runId, label, figures: all, why }
}
