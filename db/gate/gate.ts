/**
 * The gate over stored runs: groups candidate runs by fingerprint (repetitions and confirmations pool into
 * one candidate), finds each group's baseline (start-point history, explicit runs, or a file), and
 * evaluates every requested metric with harness/regression. A group with no comparable history whose
 * scenario and target do have runs on the baseline branch is refused, listing each differing field.
 *
 * Accuracy figures (`acc`, `accNorm`, `acc/<subject>`) are judged on accuracy runs only, latency figures
 * on the other runs only, so `--metric ttftMsP95 --metric acc` gates each kind on its own runs. An
 * accuracy run is compared item by item with ONE baseline run — the latest of its start-point history, or
 * the latest named accuracy run — with harness/regression/accuracy.ts: runs of the same items are not
 * independent observations, so neither side pools repetitions (the candidate is the group's first run).
 * @module
 */

import { describeStoredRun } from '../../harness/cli/describe-run.ts'
import { HarnessError } from '../../harness/errors.ts'
import {
  ACCURACY_METRICS,
  DISTRIBUTION_METRICS,
  DISTRIBUTION_STATS,
  METRIC_CATALOGUE,
  metricInfo,
} from '../../harness/metrics/catalogue.ts'
import {
  compareItems,
  type EvaluateOptions,
  evaluate,
  evaluateAccuracy,
  type GatedDirection,
  type ItemResult,
  type Verdict,
} from '../../harness/regression/index.ts'
import type { Db } from '../client.ts'
import {
  accuracyItemsOf,
  type BaselineHistory,
  type BaselineQuery,
  baselineHistory,
  type FieldDifference,
  type GateItem,
  type GateRun,
  gateRuns,
  incomparableBecause,
  metricValues,
} from './runs.ts'

export interface GateRow {
  /** `target · load` of the series (`mock · concurrent 4`), with ` (step n)` when two steps read alike. */
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
  /** The baseline-branch run compared against, and its branch. */
  otherRunId: number
  baselineBranch: string
  /** Each differing field, baseline's value and the candidate's (`mock.itl.ms: 3 vs 2`). */
  differences: FieldDifference[]
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
  /**
   * Candidate commit → the start point's commit (`--baseline-ref`: its merge-base with that ref), instead
   * of the merge-base stored with the candidate run.
   */
  mergeBaseOf?: ReadonlyMap<string, string>
  /** Whether a commit is an ancestor of another in the gate's clone (git), to word an empty history. */
  isAncestor?: (ancestor: string, of: string) => Promise<boolean | undefined>
}

/** The accuracy figures the gate judges on items (the others are not one proportion over items). */
export interface AccuracyMetric {
  /** `acc` counts `correct`; `accNorm` counts predictedNorm = answer. */
  figure: 'acc' | 'accNorm'
  /** acc/<subject>: that subject's items only. */
  subject?: string
}

/**
 * The accuracy figure a metric names, undefined for a latency metric; throws for an accuracy run's
 * figure that is no single proportion over items (accMacro, accErrorRate, …).
 */
export function accuracyMetricOf(metric: string): AccuracyMetric | undefined {
  if (metric === 'acc' || metric === 'accNorm') return { figure: metric }
  if (metric.startsWith('acc/') && metric.length > 4) return { figure: 'acc', subject: metric.slice(4) }
  const base = metricInfo(metric)?.base
  if (base !== undefined && Object.hasOwn(ACCURACY_METRICS, base))
    throw new HarnessError(
      `metric "${metric}" is not one proportion over items; the gate judges acc, accNorm and acc/<subject> of accuracy runs`,
    )
  return undefined
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
  const accuracyMetrics = new Map<string, AccuracyMetric>()
  for (const m of o.metrics) {
    const a = accuracyMetricOf(m)
    if (a) accuracyMetrics.set(m, a)
  }
  const latencyMetrics = o.metrics.filter((m) => !accuracyMetrics.has(m))
  const groups = new Map<string, GateRun[]>()
  for (const run of candidates) groups.set(run.fingerprint, [...(groups.get(run.fingerprint) ?? []), run])
  const report: GateReport = { rows: [], refused: [], notes: [] }
  const excludeIds = candidates.map((c) => c.id)
  const seriesOf = seriesNames(candidates)
  for (const [fingerprint, group] of groups) {
    const first = group[0]
    if (!first) continue
    const series = seriesOf(first)
    if (first.loadKind === 'accuracy') {
      if (accuracyMetrics.size > 0)
        await gateAccuracyGroup(db, group, series, accuracyMetrics, o, excludeIds, report)
      continue
    }
    if (latencyMetrics.length === 0) continue
    const candidateValues = await metricValues(
      db,
      group.map((r) => r.id),
      latencyMetrics,
    )
    let baselineOf: (metric: string) => number[]
    /** Why the start-point history is empty though the branch has comparable runs. */
    let emptyBecause: string | undefined
    if (o.baselineValues) {
      const file = o.baselineValues
      baselineOf = (m) => [...(file.get(m) ?? [])]
    } else {
      let ids: number[]
      if (o.baselineRunIds && o.baselineRunIds.length > 0) {
        ids = [...o.baselineRunIds]
        report.notes.push(`${series}: baseline runs ${ids.join(', ')}`)
      } else {
        const history = await baselineHistory(db, first, historyQuery(o, first, o.maxSamples, excludeIds))
        if (history.runs.length === 0) {
          const why = await incomparableBecause(db, first, o.baselineBranch)
          if (why) {
            report.refused.push({
              series,
              runId: first.id,
              otherRunId: why.runId,
              baselineBranch: o.baselineBranch,
              differences: why.differences,
            })
            continue
          }
        }
        ids = history.runs.map((r) => r.id)
        emptyBecause = history.emptyBecause
        report.notes.push(
          `${series}: baseline ${history.runs.length} run(s), ${history.startPoint}` +
            (emptyBecause ? `; ${emptyBecause}` : ''),
        )
      }
      const values = await metricValues(db, ids, latencyMetrics)
      baselineOf = (m) => ids.flatMap((id) => values.get(id)?.get(m) ?? [])
    }
    for (const metric of latencyMetrics) {
      const direction = directions.get(metric) ?? gatedDirection(metric)
      const cand = group.flatMap((r) => candidateValues.get(r.id)?.get(metric) ?? [])
      const verdict = evaluate(direction, baselineOf(metric), cand, {
        ...o.evaluate,
        maxSamples: o.maxSamples,
      })
      report.rows.push({
        series,
        fingerprint,
        runId: first.id,
        candidateRunIds: group.map((r) => r.id),
        metric,
        verdict:
          emptyBecause && verdict.verdict === 'insufficient-data'
            ? { ...verdict, reason: `no baseline: ${emptyBecause}` }
            : verdict,
      })
    }
  }
  const kinds = new Set(candidates.map((c) => c.loadKind === 'accuracy'))
  if (accuracyMetrics.size > 0 && !kinds.has(true))
    report.notes.push(
      `${[...accuracyMetrics.keys()].join(', ')}: no accuracy run among the candidates; not gated`,
    )
  if (latencyMetrics.length > 0 && !kinds.has(false))
    report.notes.push(`${latencyMetrics.join(', ')}: no latency run among the candidates; not gated`)
  return report
}

/** One accuracy series: its first run against one baseline run, item by item, for each accuracy figure. */
async function gateAccuracyGroup(
  db: Db,
  group: readonly GateRun[],
  series: string,
  metrics: ReadonlyMap<string, AccuracyMetric>,
  o: GateDbOptions,
  excludeIds: readonly number[],
  report: GateReport,
): Promise<void> {
  const [first] = group
  if (!first) return
  const row = (metric: string, verdict: Verdict) =>
    report.rows.push({
      series,
      fingerprint: first.fingerprint,
      runId: first.id,
      candidateRunIds: [first.id],
      metric,
      verdict,
    })
  if (group.length > 1)
    report.notes.push(
      `${series}: accuracy of run ${first.id}; ${group.length - 1} more run(s) of the same items not pooled (the same items are not independent observations)`,
    )
  let baseline: GateRun | undefined
  let history: BaselineHistory | undefined
  if (o.baselineValues) {
    baseline = undefined
  } else if (o.baselineRunIds && o.baselineRunIds.length > 0) {
    const named = (await gateRuns(db, o.baselineRunIds)).filter((r) => r.loadKind === 'accuracy')
    baseline = named.findLast((r) => r.fingerprint === first.fingerprint) ?? named.at(-1)
    if (baseline) report.notes.push(`${series}: baseline accuracy run ${baseline.id} (of --baseline-run)`)
  } else {
    history = await baselineHistory(db, first, historyQuery(o, first, 1, excludeIds))
    baseline = history.runs.at(-1)
    if (!baseline && history.emptyBecause)
      report.notes.push(`${series}: no baseline accuracy run; ${history.emptyBecause}`)
    if (!baseline) {
      const why = await incomparableBecause(db, first, o.baselineBranch)
      if (why) {
        report.refused.push({
          series,
          runId: first.id,
          otherRunId: why.runId,
          baselineBranch: o.baselineBranch,
          differences: why.differences,
        })
        return
      }
    } else
      report.notes.push(`${series}: baseline accuracy run ${baseline.id}, ${history.startPoint} (the latest)`)
  }
  const items = await accuracyItemsOf(db, baseline ? [first.id, baseline.id] : [first.id])
  const candidateItems = items.get(first.id) ?? []
  for (const [metric, which] of metrics) {
    const cand = itemResults(candidateItems, which)
    if (!baseline) {
      const scored = cand.filter((i) => i.correct !== null)
      row(metric, {
        method: 'mcnemar-exact',
        direction: 'higher',
        verdict: 'insufficient-data',
        candidateN: scored.length,
        ...(scored.length > 0 ? { candidate: scored.filter((i) => i.correct).length / scored.length } : {}),
        reason: o.baselineValues
          ? 'a values file has no items: the accuracy test needs a baseline accuracy run'
          : o.baselineRunIds && o.baselineRunIds.length > 0
            ? 'none of the --baseline-run runs is a completed accuracy run'
            : history?.emptyBecause
              ? `no baseline: ${history.emptyBecause}`
              : `no ${o.baselineBranch} accuracy run with the candidate's fingerprint yet`,
      })
      continue
    }
    const compared = compareItems(itemResults(items.get(baseline.id) ?? [], which), cand)
    const verdict = evaluateAccuracy(compared.comparison, o.evaluate)
    const extra = [
      ...(compared.unpairedBecause ? [`unpaired: ${compared.unpairedBecause}`] : []),
      ...(compared.leftOut.base + compared.leftOut.candidate > 0
        ? [
            `failed items left out: ${compared.leftOut.base} baseline, ${compared.leftOut.candidate} candidate${compared.comparison?.kind === 'paired' ? ' (each pair with one)' : ''}`,
          ]
        : []),
    ]
    row(metric, extra.length > 0 ? { ...verdict, reason: `${verdict.reason}; ${extra.join('; ')}` } : verdict)
  }
}

/** The start-point query of one series: the branch, the --baseline-ref merge-base, git's ancestry. */
function historyQuery(
  o: GateDbOptions,
  candidate: GateRun,
  maxSamples: number,
  excludeIds: readonly number[],
): BaselineQuery {
  const mergeBase = candidate.gitCommit === null ? undefined : o.mergeBaseOf?.get(candidate.gitCommit)
  return {
    branch: o.baselineBranch,
    maxSamples,
    excludeIds,
    ...(mergeBase !== undefined ? { mergeBase } : {}),
    ...(o.isAncestor ? { isAncestor: o.isAncestor } : {}),
  }
}

/**
 * Series names as `bench runs show` describes loads: `mock · concurrent 4`, `mock · accuracy loglik 5-shot
 * 40 items`; ` (step n)` is added only where two steps of one target read the same.
 */
function seriesNames(candidates: readonly GateRun[]): (run: GateRun) => string {
  const name = (r: GateRun) => `${r.targetName} · ${describeStoredRun(r.load)}`
  const steps = new Map<string, Set<number>>()
  for (const r of candidates) steps.set(name(r), (steps.get(name(r)) ?? new Set()).add(r.loadIndex))
  return (r) => ((steps.get(name(r))?.size ?? 0) > 1 ? `${name(r)} (step ${r.loadIndex})` : name(r))
}

/** The outcomes one accuracy figure counts: a subject's items only, accNorm's choice for accNorm. */
function itemResults(items: readonly GateItem[], which: AccuracyMetric): ItemResult[] {
  return items
    .filter((i) => which.subject === undefined || i.subject === which.subject)
    .map((i) => ({
      id: i.itemId,
      correct:
        i.correct === null
          ? null
          : which.figure === 'accNorm'
            ? i.predictedNorm === null
              ? null
              : i.predictedNorm === i.answer
            : i.correct,
    }))
}

/** The gate with no database: baseline and candidate values from files. */
export function gateValues(
  metrics: readonly string[],
  baseline: ReadonlyMap<string, readonly number[]>,
  candidate: ReadonlyMap<string, readonly number[]>,
  options: EvaluateOptions,
): GateReport {
  for (const metric of metrics)
    if (accuracyMetricOf(metric))
      throw new HarnessError(
        `${metric} is gated item by item on stored accuracy runs: it needs the database, not values files`,
      )
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
