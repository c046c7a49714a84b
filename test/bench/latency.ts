/**
 * Latency of a repeated call as the database benchmarks (test/bench/db.ts, test/bench/dashboard.ts)
 * report it: p50 / p95 / max in ms over calls made one after another.
 * @module
 */
import { performance } from 'node:perf_hooks'
import { percentile } from '../../harness/metrics/percentile.ts'

export interface LatencySummary {
  p50Ms: number
  p95Ms: number
  maxMs: number
}

/** Of at least one sample, ms; sorts `samples` in place. */
export function summarizeLatency(samples: number[]): LatencySummary {
  samples.sort((a, b) => a - b)
  return { p50Ms: percentile(samples, 50), p95Ms: percentile(samples, 95), maxMs: samples.at(-1) ?? 0 }
}

/**
 * `call` min(20, iterations) times untimed, so lazily compiled code paths are not what gets measured,
 * then `iterations` times timed.
 */
export async function timeCalls(call: () => Promise<unknown>, iterations: number): Promise<LatencySummary> {
  for (let i = 0; i < Math.min(20, iterations); i++) await call()
  const samples: number[] = []
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now()
    await call()
    samples.push(performance.now() - t0)
  }
  return summarizeLatency(samples)
}
