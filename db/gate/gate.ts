/**
 * The gate over stored runs: groups candidate runs by fingerprint (repetitions and confirmations pool into
 * one candidate), finds each group's baseline (start-point history, explicit runs, or a file), and
 * evaluates every requested metric with harness/regression. A group with no comparable history whose
 * scenario and target do have runs on the baseline branch is refused, naming the differing dimensions.
 * @module
 */

import { HarnessError } from '../../harness/errors.ts'
import {
  DISTRIBUTION_METRICS,
  DISTRIBUTION_STATS,
  METRIC_CATALOGUE,
  metricInfo,
} from '../../harness/metrics/catalogue.ts'
import {
  type EvaluateOptions,
  evaluate,
  type GatedDirection,
  type Verdict,
} from '../../harness/regression/index.ts'
import type { Db } from '../client.ts'
import { baselineHistory, type GateRun, incomparableBecause, metricValues } from './runs.ts'

export interface GateRow {
  /** `target · step n` of the series. */
  series: string
  fingerprint: string | null
  /** The first candidate run of the series (not a confirmation): where limits and alerts are stored. */
  runId: number | null
  candidateRunIds: number[]
  metric: string
  verdict: Verdict
}

export interface Refusal {
  series: string
  runId: number
  /** The baseline-branch run compared against. */
  otherRunId: number
  differences: string[]
}

export interface GateReport {
  rows: GateRow[]
  refused: Refusal[]
  /** Baseline provenance per series, and other notes for the reader. */
  notes: string[]
}

export interface GateDbOptions {
  metrics: readonly string[]
  evaluate: EvaluateOptions
  /** @default 'main' */
  baselineBranch: string
  /** Baseline points used at most (history). */
  maxSamples: number
  /** Use these runs as the baseline instead of the branch history. */
  baselineRunIds?: readonly number[]
  /** Use these values (metric → values) as the baseline of every series. */
  baselineValues?: ReadonlyMap<string, readonly number[]>
}

/** Direction of a gated metric; throws for unknown metrics and for ones that have none. */
export function gatedDirection(metric: string): GatedDirection {
  const info = metricInfo(metric)
  if (!info) throw new HarnessError(`unknown metric "${metric}": ${metricNameHint(metric)}`)
  if (info.direction === 'none')
    throw new HarnessError(`metric "${metric}" has no better direction and is never gated`)
  return info.direction
}

export async function gateStoredRuns(
  db: Db,
  candidates: readonly GateRun[],
  o: GateDbOptions,
): Promise<GateReport> {
  const directions = new Map(o.metrics.map((m) => [m, gatedDirection(m)] as const))
  const groups = new Map<string, GateRun[]>()
  for (const run of candidates) groups.set(run.fingerprint, [...(groups.get(run.fingerprint) ?? []), run])
  const report: GateReport = { rows: [], refused: [], notes: [] }
  const excludeIds = candidates.map((c) => c.id)
  for (const [fingerprint, group] of groups) {
    const first = group[0]
    if (!first) continue
    const series = `${first.targetName} · step ${first.loadIndex}`
    const candidateValues = await metricValues(
      db,
      group.map((r) => r.id),
      o.metrics,
    )
    let baselineOf: (metric: string) => number[]
    if (o.baselineValues) {
      const file = o.baselineValues
      baselineOf = (m) => [...(file.get(m) ?? [])]
    } else {
      let ids: number[]
      if (o.baselineRunIds && o.baselineRunIds.length > 0) {
        ids = [...o.baselineRunIds]
        report.notes.push(`${series}: baseline runs ${ids.join(', ')}`)
      } else {
        const history = await baselineHistory(db, first, {
          branch: o.baselineBranch,
          maxSamples: o.maxSamples,
          excludeIds,
        })
        if (history.runs.length === 0) {
          const why = await incomparableBecause(db, first, o.baselineBranch)
          if (why) {
            report.refused.push({
              series,
              runId: first.id,
              otherRunId: why.runId,
              differences: why.differences,
            })
            continue
          }
        }
        ids = history.runs.map((r) => r.id)
        report.notes.push(`${series}: baseline ${history.runs.length} run(s), ${history.startPoint}`)
      }
      const values = await metricValues(db, ids, o.metrics)
      baselineOf = (m) => ids.flatMap((id) => values.get(id)?.get(m) ?? [])
    }
    for (const [metric, direction] of directions) {
      const cand = group.flatMap((r) => candidateValues.get(r.id)?.get(metric) ?? [])
      report.rows.push({
        series,
        fingerprint,
        runId: first.id,
        candidateRunIds: group.map((r) => r.id),
        metric,
        verdict: evaluate(direction, baselineOf(metric), cand, { ...o.evaluate, maxSamples: o.maxSamples }),
      })
    }
  }
  return report
}

/** The gate with no database: baseline and candidate values from files. */
export function gateValues(
  metrics: readonly string[],
  baseline: ReadonlyMap<string, readonly number[]>,
  candidate: ReadonlyMap<string, readonly number[]>,
  options: EvaluateOptions,
): GateReport {
  return {
    rows: metrics.map((metric) => ({
      series: 'file',
      fingerprint: null,
      runId: null,
      candidateRunIds: [],
      metric,
      verdict: evaluate(
        gatedDirection(metric),
        baseline.get(metric) ?? [],
        candidate.get(metric) ?? [],
        options,
      ),
    })),
    refused: [],
    notes: [],
  }
}

/**
 * Known names sharing the unknown one's stem (`ttftP95` → `ttftMsP95`): the usual slip is a unit or a
 * statistic left out. Distribution names are offered with the statistic the user wrote (P95 when none).
 */
function metricNameHint(metric: string): string {
  const stat = DISTRIBUTION_STATS.find((s) => metric.endsWith(s)) ?? 'P95'
  const stem = metric
    .slice(0, metric.endsWith(stat) ? -stat.length : undefined)
    .replace(/(Ms|PerS)$/, '')
    .toLowerCase()
  const near =
    stem.length < 3
      ? []
      : Object.keys(METRIC_CATALOGUE)
          .filter((name) => name.toLowerCase().startsWith(stem) || stem.startsWith(name.toLowerCase()))
          .map((name) => (Object.hasOwn(DISTRIBUTION_METRICS, name) ? `${name}${stat}` : name))
  const didYouMean = near.length > 0 ? `did you mean ${near.slice(0, 4).join(', ')}? ` : ''
  return `${didYouMean}names and definitions are in harness/metrics/README.md; a distribution takes a statistic suffix (${DISTRIBUTION_STATS.join(', ')}), e.g. ttftMsP95`
}
