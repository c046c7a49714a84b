/**
 * How many requests a load is expected to issue, for progress bars.
 * @module
 */
import type { LoadSpec } from '../results.ts'
import { constantRateOffsetMs } from './arrivals.ts'

/**
 * `requests` for closed loops (undefined when only durationS is given: the server sets the pace).
 * Open loops count arrivals (sent + dropped): exact for constant-rate (same arithmetic as the executor),
 * ratePerS·durationS rounded for poisson (its mean), capped by `requests` when both are given.
 */
export function expectedRequests(spec: LoadSpec): number | undefined {
  switch (spec.kind) {
    case 'sequential':
    case 'concurrent':
      return spec.requests
    case 'trace':
      // The line count is the trace's: the runner, which read it, knows it; the spec alone does not.
      return spec.requests
    case 'constant-rate':
    case 'poisson': {
      if (spec.durationS === undefined) return spec.requests
      const arrivals =
        spec.kind === 'constant-rate'
          ? constantRateArrivals(spec.ratePerS, spec.durationS)
          : Math.round(spec.ratePerS * spec.durationS)
      return Math.min(arrivals, spec.requests ?? Number.POSITIVE_INFINITY)
    }
    default: {
      const never: never = spec
      throw new Error(`unknown load kind ${JSON.stringify(never)}`)
    }
  }
}

/** Arrivals i ≥ 0 whose offset i/ratePerS is before the duration's end. */
function constantRateArrivals(ratePerS: number, durationS: number): number {
  const durationMs = durationS * 1000
  // Start from the real-number answer, then settle float rounding the way the executor compares.
  let n = Math.max(0, Math.ceil(ratePerS * durationS))
  while (n > 0 && constantRateOffsetMs(n - 1, ratePerS) >= durationMs) n--
  while (constantRateOffsetMs(n, ratePerS) < durationMs) n++
  return n
}
