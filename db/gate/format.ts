/**
 * The gate's report as a Markdown table (stdout and $GITHUB_STEP_SUMMARY), a plain table, or JSON.
 * @module
 */
import type { GateReport, GateRow, Refusal } from './gate.ts'

export type GateFormat = 'md' | 'json' | 'table'

const HEAD = ['metric', 'candidate', 'baseline', 'Δ%', 'limit', 'verdict'] as const

export function formatGateReport(report: GateReport, format: GateFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2)
  const multi = new Set(report.rows.map((r) => r.series)).size > 1
  const cells = report.rows.map((r) => rowCells(r, multi))
  if (format === 'md') {
    const refused = report.refused.map((r) =>
      [`${refusalHead(r)}:`, ...refusalFields(r).map((f) => `  - ${f}`)].join('\n'),
    )
    const lines = [
      `| ${HEAD.join(' | ')} |`,
      `|${HEAD.map((_, i) => (i === 0 || i === 5 ? ' --- ' : ' ---: ')).join('|')}|`,
      ...cells.map((c) => `| ${c.join(' | ')} |`),
    ]
    const notes = [...refused, ...report.notes].map((n) => `- ${n}`)
    return [...(cells.length > 0 ? lines : []), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
  }
  const all = [[...HEAD], ...cells]
  const widths = HEAD.map((_, i) => Math.max(...all.map((row) => row[i]?.length ?? 0)))
  const table = all.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  )
  const refused = report.refused.map((r) =>
    [`${refusalHead(r)}:`, ...refusalFields(r).map((f) => `  ${f}`)].join('\n'),
  )
  return [...(cells.length > 0 ? table : []), ...refused, ...report.notes].join('\n')
}

/** `REFUSED mock · concurrent 4 (run 12): not comparable with main's run 7; fields that differ (main vs candidate)` */
export function refusalHead(r: Refusal): string {
  return (
    `REFUSED ${r.series} (run ${r.runId}): not comparable with ${r.baselineBranch}'s run ${r.otherRunId}; ` +
    `fields that differ (${r.baselineBranch} vs candidate)`
  )
}

/** One line per differing field: `mock.itl.ms: 3 vs 2` (baseline first). */
export function refusalFields(r: Refusal): string[] {
  return r.differences.map((d) => `${d.field}: ${d.baseline} vs ${d.candidate}`)
}

function rowCells(r: GateRow, multi: boolean): string[] {
  const v = r.verdict
  const limit =
    v.direction === 'higher'
      ? v.lowerLimit !== undefined
        ? `≥ ${num(v.lowerLimit)}`
        : '–'
      : v.upperLimit !== undefined
        ? `≤ ${num(v.upperLimit)}`
        : '–'
  const mark =
    v.verdict === 'regression'
      ? '❌ regression'
      : v.verdict === 'improvement'
        ? '✅ improvement'
        : v.verdict === 'ok'
          ? '✅ ok'
          : '⚠️ insufficient-data'
  return [
    multi ? `${r.series} ${r.metric}` : r.metric,
    v.candidate !== undefined ? `${num(v.candidate)}${v.candidateN > 1 ? ` (n=${v.candidateN})` : ''}` : '–',
    v.baselineValue !== undefined ? `${num(v.baselineValue)} (n=${v.baseline?.n ?? 0})` : '–',
    v.deltaPct !== undefined ? `${v.deltaPct >= 0 ? '+' : ''}${v.deltaPct.toFixed(1)}` : '–',
    limit,
    mark,
  ]
}

function num(x: number): string {
  const a = Math.abs(x)
  return a >= 100 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(3)
}
