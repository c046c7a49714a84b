/**
 * `bench runs list` and `bench runs show <id>`: the queries, and the tables they print.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { canonicalJson } from '../../../db/identity.ts'
import { HEADLINE_METRICS, type MetricValues } from '../../../db/queries/metrics-of.ts'
import { getRunDetail, type RunDetail, storesRequestRows } from '../../../db/queries/run-detail.ts'
import { listRuns, type RunFilter, type RunListItem } from '../../../db/queries/runs.ts'
import { HarnessError } from '../../errors.ts'
import { dbOptions } from '../commands/db.ts'
import type { ListOptions } from '../commands/runs.ts'
import { describeStoredRun } from '../describe-run.ts'

export async function listCommand(opts: ListOptions): Promise<undefined> {
  const filter: RunFilter = {
    limit: opts.limit,
    offset: opts.offset,
    ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
    ...(opts.target !== undefined ? { target: opts.target } : {}),
    ...(opts.branch !== undefined ? { branch: opts.branch } : {}),
    ...(opts.state !== undefined ? { state: opts.state } : {}),
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    ...(opts.until !== undefined ? { until: opts.until } : {}),
  }
  const database = await createDb(dbOptions(opts.db))
  try {
    const items = await listRuns(database, filter)
    process.stdout.write(opts.json ? `${JSON.stringify(items, null, 2)}\n` : formatRunList(items))
  } finally {
    await database.close()
  }
  return undefined
}

export async function showCommand(id: number, opts: { json?: boolean; db?: string }): Promise<undefined> {
  const database = await createDb(dbOptions(opts.db))
  try {
    const detail = await getRunDetail(database, id)
    if (!detail) throw new HarnessError(`run ${id} does not exist in ${database.location}`)
    process.stdout.write(opts.json ? `${JSON.stringify(detail, null, 2)}\n` : formatRunDetail(detail))
  } finally {
    await database.close()
  }
  return undefined
}

const LIST_COLUMNS: [header: string, metric: string, digits: number, scale?: number][] = [
  ['out tok/s', 'outputTokensPerS', 1],
  ['req/s', 'requestsPerS', 2],
  ['TTFT p50', 'ttftMsP50', 1],
  ['err %', 'errorRate', 1, 100],
  ['pp tok/s', 'promptTokensPerS', 1],
  ['tg tok/s', 'genTokensPerS', 1],
]

export function formatRunList(items: readonly RunListItem[]): string {
  if (items.length === 0) return 'no runs\n'
  const header = [
    'id',
    'started (UTC)',
    'scenario',
    'target',
    'load',
    'state',
    'git',
    ...LIST_COLUMNS.map((c) => c[0]),
  ]
  const rows = items.map((r) => [
    String(r.id),
    minuteOf(r.startedAt),
    r.scenarioName,
    r.targetName,
    describeStoredRun(r.load),
    r.importedFormat ? `${r.state} (imported)` : r.state,
    gitOf(r.gitBranch, r.gitCommit),
    ...LIST_COLUMNS.map(([, name, digits, scale]) => metricText(r.metrics, name, digits, scale)),
  ])
  return table(header, rows, new Set([0, ...LIST_COLUMNS.map((_, i) => 7 + i)]))
}

export function formatRunDetail(d: RunDetail): string {
  const r = d.run
  const fields: [string, string | null | undefined][] = [
    ['run', String(r.id)],
    ['scenario', `${r.scenarioName} (${r.scenarioHash.slice(0, 12)})`],
    ['target', r.targetName],
    ['state', r.error ? `${r.state}: ${r.error}` : r.state],
    ['started', r.startedAt.toISOString()],
    ['finished', r.finishedAt?.toISOString() ?? '-'],
    [
      'engine',
      [r.engineKind, r.engineVersion, r.engineDevice && `on ${r.engineDevice}`].filter(Boolean).join(' '),
    ],
    ['model', r.engineModel],
    ['options', Object.keys(r.engineOptions).length > 0 ? canonicalJson(r.engineOptions) : null],
    ['load', `${describeStoredRun(r.load)}${r.loadIndex > 0 ? ` (step ${r.loadIndex})` : ''}`],
    ['label', r.label],
    [
      'git',
      gitOf(r.gitBranch, r.gitCommit) + (r.gitMergeBase ? ` (merge-base ${r.gitMergeBase.slice(0, 7)})` : ''),
    ],
    ['fingerprint', r.fingerprint],
    [
      'variant',
      d.variant &&
        [
          d.variant.name,
          d.variant.method,
          d.variant.quantLabel,
          d.variant.bits !== null ? `${d.variant.bits.toFixed(2)} bits` : null,
          d.variant.sizeBytes !== null ? `${d.variant.sizeBytes} bytes` : null,
          d.variantLineage.length > 0 ? `from ${d.variantLineage.map((v) => v.name).join(' ← ')}` : null,
        ]
          .filter(Boolean)
          .join(', '),
    ],
    [
      'environment',
      d.environment &&
        `${d.environment.cpuModel} ×${d.environment.cores}, ${(d.environment.ramBytes / 1024 ** 3).toFixed(1)} GiB, ` +
          `${d.environment.gpus.length > 0 ? d.environment.gpus.map((g) => g.name).join(' + ') : 'no GPU'}, ` +
          `${d.environment.os}, Node ${d.environment.nodeVersion}`,
    ],
    ['imported', r.imported && `${r.imported.format} from ${r.imported.file} on ${r.imported.importedAt}`],
    [
      'requests',
      // Micro, accuracy, quality, checklist and llama-bench runs store none: "0" would read as a loss.
      storesRequestRows(r.loadKind)
        ? `${d.requests.total} (${d.requests.ok} ok, ${d.requests.errors} error${d.requests.errors === 1 ? '' : 's'}${
            d.requests.errors > 0
              ? `: ${Object.entries(d.requests.errorsByKind)
                  .map(([k, n]) => `${n} ${k}`)
                  .join(', ')}`
              : ''
          }${d.requests.aborted > 0 ? `; ${d.requests.aborted} aborted` : ''})`
        : null,
    ],
  ]
  const shown = fields.filter(
    (f): f is [string, string] => f[1] !== null && f[1] !== undefined && f[1] !== '',
  )
  const width = Math.max(...shown.map(([k]) => k.length))
  const lines = shown.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`)
  for (const note of r.imported?.notes ?? []) lines.push(`${''.padEnd(width)}  note: ${note}\n`)
  const metrics =
    d.metrics.length === 0
      ? 'no summary metrics\n'
      : table(
          ['metric', 'value', 'unit', 'n', 'better'],
          headlineFirst(d.metrics).map((m) => [
            m.name,
            formatNumber(m.value),
            m.unit,
            String(m.n),
            m.direction,
          ]),
          new Set([1, 3]),
        )
  return `${lines.join('')}\n${metrics}`
}

/** Headline figures in their usual order, then the rest by name. */
function headlineFirst<T extends { name: string }>(rows: readonly T[]): T[] {
  const rank = new Map<string, number>(HEADLINE_METRICS.map((name, i) => [name, i]))
  const last = rank.size
  return [...rows].sort(
    (a, b) => (rank.get(a.name) ?? last) - (rank.get(b.name) ?? last) || a.name.localeCompare(b.name),
  )
}

function metricText(metrics: MetricValues, name: string, digits: number, scale = 1): string {
  const v = metrics[name]?.value
  return v === undefined ? '-' : (v * scale).toFixed(digits)
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v)
  const abs = Math.abs(v)
  return abs >= 100 ? v.toFixed(1) : abs >= 1 ? v.toFixed(3) : v.toPrecision(4)
}

function minuteOf(at: Date): string {
  return at.toISOString().slice(0, 16).replace('T', ' ')
}

function gitOf(branch: string | null, commit: string | null): string {
  if (!branch && !commit) return '-'
  return [branch, commit?.slice(0, 7)].filter(Boolean).join('@')
}

function table(header: readonly string[], rows: readonly string[][], right: ReadonlySet<number>): string {
  const all = [header, ...rows]
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd()
  return `${[line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')}\n`
}
