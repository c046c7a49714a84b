/**
 * Metric values of many runs at once, keyed by run: the one lookup leaderboard, run lists and comparisons
 * share (one index probe per run and name on run_metrics' primary key).
 * @module
 */
import { and, inArray } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type RunMetricRow, runMetrics } from '../schema.ts'

/** Figures every summary view shows first (METRICS.md names); memory and native ones appear when present. */
export const HEADLINE_METRICS = [
  'outputTokensPerS',
  'requestsPerS',
  'ttftMsP50',
  'ttftMsP95',
  'tpotMsP50',
  'tpotMsP95',
  'errorRate',
  'goodputRequestsPerS',
  'promptTokensPerS',
  'genTokensPerS',
  'peakRssBytes',
  'vramBytes',
] as const

export type MetricValues = Record<string, Pick<RunMetricRow, 'value' | 'unit' | 'direction' | 'n'>>

/** run id → metric name → row, for the given names (all names when `names` is undefined). */
export async function metricsOf(
  db: Db,
  runIds: readonly number[],
  names?: readonly string[],
): Promise<Map<number, MetricValues>> {
  const byRun = new Map<number, MetricValues>(runIds.map((id) => [id, {}]))
  if (runIds.length === 0 || names?.length === 0) return byRun
  const rows = await db
    .select()
    .from(runMetrics)
    .where(
      and(inArray(runMetrics.runId, [...runIds]), names ? inArray(runMetrics.name, [...names]) : undefined),
    )
  for (const r of rows) {
    const values = byRun.get(r.runId)
    if (values) values[r.name] = { value: r.value, unit: r.unit, direction: r.direction, n: r.n }
  }
  return byRun
}
