/**
 * The metric definitions a report's footnote carries, in the project's words: the row of harness/METRICS.md's
 * tables for a metric that has one (`| \`ttftMs\` | t1 − tSend (service view) |`), else the metric catalogue's
 * description (harness/metrics/catalogue.ts, which follows METRICS.md and names other tools' terms).
 * @module
 */
import { readFileSync } from 'node:fs'
import { metricInfo } from '../../harness/metrics/catalogue.ts'

export interface MetricDefinition {
  name: string
  /** Markdown-ish text: `code` spans are kept as backticks (the page renders them as code). */
  text: string
  source: 'METRICS.md' | 'catalogue'
}

const METRICS_MD = new URL('../../harness/METRICS.md', import.meta.url)

let table: Map<string, string> | undefined

/** name → definition cell of METRICS.md's table rows whose first cell is one `name`. */
export function metricsTableRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>()
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*`([A-Za-z0-9]+)`\s*\|\s*(.*?)\s*\|\s*$/.exec(line)
    if (m && m[2] !== '' && !rows.has(m[1]!)) rows.set(m[1]!, m[2]!)
  }
  return rows
}

export function metricDefinitions(names: readonly string[]): MetricDefinition[] {
  table ??= metricsTableRows(readFileSync(METRICS_MD, 'utf8'))
  const rows = table
  return names.flatMap((name): MetricDefinition[] => {
    const row = rows.get(name)
    if (row !== undefined) return [{ name, text: row, source: 'METRICS.md' }]
    const info = metricInfo(name)
    return info ? [{ name, text: info.description, source: 'catalogue' }] : []
  })
}
