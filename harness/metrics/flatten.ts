/**
 * RunMetrics → one flat row per figure (what run_metrics stores and the gate reads).
 * @module
 */
import type { RequestErrorKind } from '../errors.ts'
import {
  DISTRIBUTION_METRICS,
  DISTRIBUTION_STATS,
  type DistributionMetricName,
  errorKindMetricName,
  METRIC_CATALOGUE,
  NATIVE_METRICS,
  type NativeMetricName,
  SCALAR_METRICS,
  type ScalarMetricName,
  STAT_FIELDS,
  statInfo,
} from './catalogue.ts'
import type { MetricRow, RunMetrics } from './types.ts'

export { METRIC_CATALOGUE }

const unitOf = (name: NativeMetricName) => ({
  unit: NATIVE_METRICS[name].unit,
  direction: NATIVE_METRICS[name].direction,
})

/** Samples behind each scalar: the requests the figure was computed from. */
const SCALAR_SAMPLES: Readonly<Record<ScalarMetricName, (m: RunMetrics) => number>> = {
  windowMs: (m) => m.attempted,
  attempted: (m) => m.attempted,
  ok: (m) => m.attempted,
  errors: (m) => m.attempted,
  requestsPerS: (m) => m.ok,
  outputTokensPerS: (m) => m.ok,
  totalTokensPerS: (m) => m.ok,
  peakOutputTokensPerS: (m) => m.ok,
  effectiveConcurrency: (m) => m.attempted,
  errorRate: (m) => m.attempted,
  goodputRequestsPerS: (m) => m.attempted,
  goodFraction: (m) => m.attempted,
  droppedRequests: (m) => m.attempted,
  abortedRequests: (m) => m.attempted + (m.abortedRequests ?? 0),
  connectionRetries: (m) => m.attempted,
  promptCacheHits: (m) => m.serverTimingsN ?? 0,
  promptCachedTokensPct: (m) => m.serverTimingsN ?? 0,
  tokenCountDiscrepancyPct: (m) => m.tokenCountDiscrepancyN ?? 0,
  clientSaturated: (m) => m.attempted,
  eventLoopDelayP99Ms: (m) => m.attempted,
  tokensPerChunk: (m) => m.tokensPerChunkN ?? 0,
  peakRssBytes: (m) => m.peakRssSamplesN ?? 0,
  loadRssBytes: () => 1,
  loadPeakRssBytes: () => 1,
  loadMs: () => 1,
  modelBytes: () => 1,
  vramBytes: () => 1,
}

/**
 * Scalars under their own names (booleans as 1/0; absent optional figures give no row), one
 * `errors${Kind}` row per error kind that occurred, and each present distribution as `${name}${Stat}`
 * for Stat in Mean, Sd, Min, Max, P50, P90, P95, P99, P999. Unit and direction come from METRIC_CATALOGUE.
 */
export function flattenMetrics(m: RunMetrics): MetricRow[] {
  const rows: MetricRow[] = []
  for (const name of Object.keys(SCALAR_METRICS) as ScalarMetricName[]) {
    const value = m[name]
    if (value === undefined) continue
    const { unit, direction } = SCALAR_METRICS[name]
    rows.push({ name, value: Number(value), unit, direction, n: SCALAR_SAMPLES[name](m) })
  }
  for (const [kind, count] of Object.entries(m.errorsByKind) as [RequestErrorKind, number | undefined][]) {
    if (count === undefined) continue
    const name = errorKindMetricName(kind)
    const { unit, direction } = METRIC_CATALOGUE[name]
    rows.push({ name, value: count, unit, direction, n: m.attempted })
  }
  for (const base of Object.keys(DISTRIBUTION_METRICS) as DistributionMetricName[]) {
    const d = m[base]
    if (d === undefined) continue
    for (const stat of DISTRIBUTION_STATS) {
      const { unit, direction } = statInfo(base, stat)
      rows.push({ name: `${base}${stat}`, value: d[STAT_FIELDS[stat]], unit, direction, n: d.n })
    }
  }
  // llama-bench-style figures (NATIVE_METRICS), n = repetitions.
  const native = m.nativeSpeed
  for (const [base, test] of [
    ['promptTokensPerS', native?.pp],
    ['genTokensPerS', native?.tg],
  ] as const) {
    if (!test) continue
    const n = test.samplesTs.length
    const sd = `${base}Sd` as const
    rows.push(
      { name: base, value: test.avgTs, ...unitOf(base), n },
      { name: sd, value: test.sdTs, ...unitOf(sd), n },
    )
  }
  return rows
}
