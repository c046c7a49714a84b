/**
 * An accuracy run's figures from its items (METRICS.md "Accuracy"; stats.ts): what run_metrics stores
 * (flat rows, direction 'higher' for accuracies) and what `bench run` prints.
 *
 * Rows (unit 'ratio' for accuracies and stderrs, 'count' for counts):
 * - `acc` = correct / n over every scored item, `accStderr` = sqrt(acc·(1−acc)/(n−1)) (METRICS.md);
 * - `accWeighted` (= acc: lm-eval's size-weighted group average) with `accWeightedStderr`, lm-eval's pooled
 *   stderr; `accMacro` (unweighted mean of subjects) with `accMacroStderr`;
 * - `acc/<subject>`, `accStderr/<subject>` per subject;
 * - `accNorm`, `accNormStderr` (lm-eval acc_norm: argmax of loglik / choice length) for mmlu-continuation;
 * - `accItems` (scored), `accErrors` (failed, aborted excluded), `accErrorRate` = errors / attempted.
 * Items aborted by the run's interrupt are in no figure. Stderrs undefined (one item) give no row.
 * @module
 */
import type { MetricRow } from '../metrics/types.ts'
import type { ItemErrorKind, ItemOutcome } from '../results.ts'
import { type AccuracySummary, summarizeAccuracy } from './stats.ts'

export interface AccuracyRunSummary {
  /** Items that got an answer or an error (aborted ones excluded). */
  attempted: number
  /** Items scored (attempted − errors). */
  n: number
  correct: number
  errors: number
  errorsByKind: Partial<Record<ItemErrorKind, number>>
  /** errors / attempted; 0 when nothing was attempted. */
  errorRate: number
  /** Absent when no item was scored. */
  acc?: number
  accStderr?: number
  /** acc_norm (mmlu-continuation runs only) and its stderr, over the same scored items. */
  accNorm?: number
  accNormStderr?: number
  summary?: AccuracySummary
}

export function summarizeItems(items: readonly ItemOutcome[]): AccuracyRunSummary {
  const counted = items.filter((i) => i.error?.kind !== 'aborted')
  const scored = counted.filter((i): i is ItemOutcome & { correct: boolean } => i.correct !== null)
  const errorsByKind: Partial<Record<ItemErrorKind, number>> = {}
  for (const i of counted) if (i.error) errorsByKind[i.error.kind] = (errorsByKind[i.error.kind] ?? 0) + 1
  const errors = counted.length - scored.length
  const result: AccuracyRunSummary = {
    attempted: counted.length,
    n: scored.length,
    correct: scored.filter((i) => i.correct).length,
    errors,
    errorsByKind,
    errorRate: counted.length === 0 ? 0 : errors / counted.length,
  }
  if (scored.length === 0) return result
  const summary = summarizeAccuracy(scored)
  const stderr = (p: number) =>
    scored.length > 1 ? Math.sqrt((p * (1 - p)) / (scored.length - 1)) : undefined
  const acc = result.correct / scored.length
  const normed = scored.filter((i) => i.predictedNorm !== undefined)
  const accNorm =
    normed.length === scored.length
      ? normed.filter((i) => i.predictedNorm === i.answer).length / scored.length
      : undefined
  const accStderr = stderr(acc)
  const accNormStderr = accNorm === undefined ? undefined : stderr(accNorm)
  return {
    ...result,
    acc,
    ...(accStderr !== undefined ? { accStderr } : {}),
    ...(accNorm !== undefined ? { accNorm } : {}),
    ...(accNormStderr !== undefined ? { accNormStderr } : {}),
    summary,
  }
}

/** The flat rows stored in run_metrics (see the module comment). */
export function accuracyMetricRows(s: AccuracyRunSummary): MetricRow[] {
  const rows: MetricRow[] = [
    { name: 'accItems', value: s.n, unit: 'count', direction: 'none', n: s.attempted },
    { name: 'accErrors', value: s.errors, unit: 'count', direction: 'none', n: s.attempted },
    { name: 'accErrorRate', value: s.errorRate, unit: 'ratio', direction: 'lower', n: s.attempted },
  ]
  const ratio = (name: string, value: number | undefined, n: number, direction: MetricRow['direction']) => {
    if (value !== undefined) rows.push({ name, value, unit: 'ratio', direction, n })
  }
  if (s.summary === undefined) return rows
  ratio('acc', s.acc, s.n, 'higher')
  ratio('accStderr', s.accStderr, s.n, 'none')
  ratio('accNorm', s.accNorm, s.n, 'higher')
  ratio('accNormStderr', s.accNormStderr, s.n, 'none')
  ratio('accWeighted', s.summary.weighted.acc, s.n, 'higher')
  ratio('accWeightedStderr', s.summary.weighted.accStderr, s.n, 'none')
  ratio('accMacro', s.summary.macro.acc, s.n, 'higher')
  ratio('accMacroStderr', s.summary.macro.accStderr, s.n, 'none')
  for (const subject of s.summary.subjects) {
    ratio(`acc/${subject.subject}`, subject.acc, subject.n, 'higher')
    ratio(`accStderr/${subject.subject}`, subject.accStderr, subject.n, 'none')
  }
  return rows
}

/** `error rate 5.0 % (2 of 40) > max 1 %: timeout ×2`, or undefined when within the threshold. */
export function itemErrorRateReason(s: AccuracyRunSummary, maxErrorRate: number): string | undefined {
  if (s.errorRate <= maxErrorRate) return undefined
  const kinds = Object.entries(s.errorsByKind)
    .map(([kind, count]) => `${kind} ×${count}`)
    .join(', ')
  return (
    `item error rate ${(s.errorRate * 100).toFixed(1)} % (${s.errors} of ${s.attempted}) > max ` +
    `${+(maxErrorRate * 100).toFixed(2)} %: ${kinds}`
  )
}
