/**
 * A micro run's metric rows: per task `micro/<task>/<stat>` (METRICS.md "Micro tasks"; units and
 * directions from harness/metrics/catalogue.ts MICRO_METRICS), n = the task's measured iterations.
 * @module
 */

import type { MetricRow } from '../metrics/types.ts'
import type { MicroTaskResult } from '../results.ts'
import { MICRO_METRICS, type MicroStat } from './metrics.ts'

/** `micro/forward-128/meanMs`. */
export function microMetricName(taskId: string, stat: MicroStat): string {
  return `micro/${taskId}/${stat}`
}

/** The rows of every measured task, in task order; a figure that is not finite (rme of a zero mean) is left out. */
export function microMetricRows(results: readonly MicroTaskResult[]): MetricRow[] {
  const rows: MetricRow[] = []
  for (const r of results) {
    const add = (stat: MicroStat, value: number | undefined) => {
      if (value === undefined || !Number.isFinite(value)) return
      const info = MICRO_METRICS[stat]
      rows.push({
        name: microMetricName(r.id, stat),
        value,
        unit: info.unit,
        direction: info.direction,
        n: r.samples,
      })
    }
    const l = r.latencyMs
    add('meanMs', l.mean)
    add('sdMs', l.sd)
    add('p50Ms', l.p50)
    add('p99Ms', l.p99)
    add('minMs', l.min)
    add('maxMs', l.max)
    add('rmePct', l.rmePct)
    add('samples', r.samples)
    add('opsPerS', r.opsPerS)
    if (r.task.kind === 'tokenize') {
      add('charsPerS', r.opsPerS * r.unitsPerOp)
      add('tokensPerOp', r.tokensPerOp)
    } else add('tokensPerS', r.opsPerS * r.unitsPerOp)
    add('aborted', r.state === 'aborted' ? 1 : 0)
  }
  return rows
}
