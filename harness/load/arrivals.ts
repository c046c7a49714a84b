/**
 * Open-loop arrival schedules: when each arrival is intended, as milliseconds after the load's start.
 * @module
 */
import type { Random } from '../random.ts'
import type { LoadSpec } from '../results.ts'

export type OpenLoopSpec = Extract<LoadSpec, { kind: 'constant-rate' | 'poisson' }>

/** Constant-rate arrival `index` (0-based) is intended `index / ratePerS` seconds after the start. ms. */
export function constantRateOffsetMs(index: number, ratePerS: number): number {
  return (index * 1000) / ratePerS
}

/**
 * Intended arrival offsets (ms after the start), increasing. Ends after `requests` arrivals when given,
 * else endless (the executor stops at durationS).
 *
 * - constant-rate: arrival i at i / ratePerS (the first at the start).
 * - poisson: gamma inter-arrival gaps with shape γ = burstiness and scale 1 / (ratePerS·γ) (mean 1 / ratePerS,
 *   CV² = 1 / γ); the first arrival comes one gap after the start, as in a Poisson process. When the number
 *   of arrivals is known, all gaps are drawn up front and rescaled so the last arrival lands exactly at
 *   requests / ratePerS: the raw sum misses that by a few percent depending on the seed, and rescaling (as
 *   vLLM's `get_request` does) keeps the offered throughput the same across seeds. Duration-only loads
 *   cannot know the count, so their gaps are used as drawn.
 */
export function* arrivalOffsetsMs(spec: OpenLoopSpec, random: Random): Generator<number, void, undefined> {
  const { kind, requests, ratePerS } = spec
  switch (kind) {
    case 'constant-rate':
      for (let i = 0; requests === undefined || i < requests; i++) yield constantRateOffsetMs(i, ratePerS)
      return
    case 'poisson': {
      const shape = spec.burstiness ?? 1
      const scaleMs = 1000 / (ratePerS * shape)
      if (requests === undefined) {
        let offsetMs = 0
        for (;;) {
          offsetMs += random.gamma(shape, scaleMs)
          yield offsetMs
        }
      }
      const cumulativeMs = new Float64Array(requests)
      let sumMs = 0
      for (let i = 0; i < requests; i++) {
        sumMs += random.gamma(shape, scaleMs)
        cumulativeMs[i] = sumMs
      }
      const totalMs = (requests * 1000) / ratePerS
      // Dividing before multiplying makes the last offset exactly totalMs (sumMs / sumMs = 1).
      for (const c of cumulativeMs) yield (c / sumMs) * totalMs
      return
    }
    default: {
      const never: never = kind
      throw new Error(`unknown open-loop kind ${String(never)}`)
    }
  }
}
