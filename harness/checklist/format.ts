/**
 * The checklist as a plain table (terminal), GitHub-flavoured Markdown (a CI job summary:
 * `bench checklist … --format md >> "$GITHUB_STEP_SUMMARY"`) or JSON, and as metric rows to store.
 * @module
 */
import type { MetricRow } from '../metrics/types.ts'
import { type ChecklistItem, type Verdict, verdictScore } from './items.ts'

export interface ChecklistReport {
  baseUrl: string
  model: string
  items: ChecklistItem[]
  /** Any FAIL: the command exits 1. */
  passed: boolean
  counts: Record<Verdict, number>
  runId?: string
}

export function checklistReport(
  baseUrl: string,
  model: string,
  items: ChecklistItem[],
  runId?: string,
): ChecklistReport {
  const counts: Record<Verdict, number> = { PASS: 0, WARN: 0, FAIL: 0 }
  for (const i of items) counts[i.verdict]++
  return {
    baseUrl,
    model,
    items,
    passed: counts.FAIL === 0,
    counts,
    ...(runId !== undefined ? { runId } : {}),
  }
}

const HEADER = ['item', 'verdict', 'value', 'threshold', 'note'] as const
const cells = (i: ChecklistItem) => [i.id, i.verdict, i.value, i.threshold, i.note]

function summary(r: ChecklistReport): string {
  return `${r.counts.PASS} pass, ${r.counts.WARN} warn, ${r.counts.FAIL} fail${r.passed ? '' : ' — FAILED'}`
}

export function formatTable(r: ChecklistReport): string {
  const rows = r.items.map(cells)
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [
    `checklist of ${r.baseUrl} (model ${r.model})`,
    '',
    line(HEADER),
    ...rows.map(line),
    '',
    summary(r),
  ].join('\n')
}

/** A Markdown cell: pipes escaped, line breaks flattened, HTML-significant characters escaped. */
function mdCell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
}

const ICON: Record<Verdict, string> = { PASS: '✅ PASS', WARN: '⚠️ WARN', FAIL: '❌ FAIL' }

export function formatMarkdown(r: ChecklistReport): string {
  const row = (c: readonly string[]) => `| ${c.join(' | ')} |`
  return [
    `### Production checklist: ${mdCell(r.baseUrl)}`,
    '',
    `Model \`${r.model.replace(/`/g, "'")}\` · ${summary(r)}${r.runId !== undefined ? ` · run ${r.runId}` : ''}`,
    '',
    row(HEADER),
    row(HEADER.map(() => '---')),
    ...r.items.map((i) =>
      row([`\`${i.id}\``, ICON[i.verdict], ...[i.value, i.threshold, i.note].map(mdCell)]),
    ),
    '',
  ].join('\n')
}

export function formatJson(r: ChecklistReport): string {
  return JSON.stringify(r)
}

/**
 * The stored figures: `checklist/<item>` = 1 pass, 0.5 warn, 0 fail (higher is better), and the measured
 * number as `checklist/<item>/value` in its unit when the item has one.
 */
export function checklistMetricRows(items: readonly ChecklistItem[]): MetricRow[] {
  const rows: MetricRow[] = []
  for (const i of items) {
    rows.push({
      name: `checklist/${i.id}`,
      value: verdictScore(i.verdict),
      unit: 'ratio',
      direction: 'higher',
      n: 1,
    })
    if (i.number !== undefined && Number.isFinite(i.number))
      rows.push({
        name: `checklist/${i.id}/value`,
        value: i.number,
        unit: i.unit ?? 'count',
        direction: 'none',
        n: 1,
      })
  }
  return rows
}
