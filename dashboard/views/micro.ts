/**
 * The run page's section for a micro run (runs.load_kind 'micro', harness/micro/README.md): what bounded
 * tinybench, and one row per task with its figures (metric rows `micro/<task>/<stat>`, METRICS.md "Micro
 * tasks"), in the order the scenario lists the tasks.
 * @module
 */
import { MICRO_METRICS, type MicroStat } from '../../harness/micro/metrics.ts'
import { describeMicroTask, microTaskId } from '../../harness/micro/task.ts'
import type { MicroSpec, MicroTask } from '../../harness/results.ts'
import type { RunModel } from '../data/run.ts'
import { formatNumber, formatValue } from './format.ts'
import { type Html, h } from './html.ts'

const PREFIX = 'micro/'

/** Columns after the task: the stat, its header, and the metric's description as the header's tooltip. */
const COLUMNS: readonly [MicroStat, string][] = [
  ['samples', 'samples'],
  ['meanMs', 'mean'],
  ['p50Ms', 'p50'],
  ['p99Ms', 'p99'],
  ['sdMs', 'sd'],
  ['rmePct', '± rme'],
  ['opsPerS', 'ops/s'],
]

/** Empty for any other run. */
export function microSection(m: RunModel): Html | string {
  const run = m.detail.run
  if (run.loadKind !== 'micro') return ''
  const spec = (run.load ?? {}) as Partial<MicroSpec>
  // Figures by task id, then stat; tasks in the spec's order, then any stored task the spec does not list.
  const byTask = new Map<string, Map<string, { value: number; unit: string }>>()
  for (const s of m.scalars) {
    if (!s.name.startsWith(PREFIX)) continue
    const slash = s.name.lastIndexOf('/')
    const id = s.name.slice(PREFIX.length, slash)
    const stats = byTask.get(id) ?? new Map()
    stats.set(s.name.slice(slash + 1), { value: s.value, unit: s.unit })
    byTask.set(id, stats)
  }
  const tasks: MicroTask[] = Array.isArray(spec.tasks) ? spec.tasks : []
  const ids = [
    ...tasks.map(microTaskId),
    ...[...byTask.keys()].filter((id) => !tasks.some((t) => microTaskId(t) === id)),
  ]
  const what = (id: string) => {
    const task = tasks.find((t) => microTaskId(t) === id)
    return task ? describeMicroTask(task) : ''
  }
  const bounds =
    typeof spec.timeMs === 'number'
      ? h`Each task ran until ${formatNumber(spec.timeMs)} ms of measured time and ${String(spec.iterations)} iterations were both reached, after a warmup of ${formatNumber(spec.warmupTimeMs ?? 0)} ms and ${String(spec.warmupIterations)} iterations (left out); stopped at ${formatNumber(spec.maxTimeMs ?? 0)} ms at most (then marked aborted).`
      : ''
  return h`<h2>Micro tasks</h2>
<p id="micro-bounds">tinybench, one iteration at a time in the engine's own process: no request, HTTP or streaming, so this run is on no leaderboard. ${bounds} Times per iteration in ms.</p>
<div class="table-wrap"><table class="data" id="micro">
<thead><tr><th scope="col">task</th><th scope="col">one iteration</th>${COLUMNS.map(([stat, label]) => h`<th scope="col"><abbr class="metric" title="${MICRO_METRICS[stat].description}">${label}</abbr></th>`)}<th scope="col"><abbr class="metric" title="${MICRO_METRICS.tokensPerS.description} ${MICRO_METRICS.charsPerS.description}">throughput</abbr></th><th scope="col">note</th></tr></thead>
<tbody>${ids.map((id) => {
    const stats = byTask.get(id)
    const cell = (stat: MicroStat) => {
      const v = stats?.get(stat)
      if (!v) return '–'
      return stat === 'rmePct'
        ? `${formatNumber(v.value)} %`
        : v.unit === 'ms'
          ? formatNumber(v.value)
          : formatValue(v.value, v.unit === 'count' || v.unit === 'ops/s' ? 'count' : v.unit)
    }
    const throughput = stats?.get('tokensPerS') ?? stats?.get('charsPerS')
    const aborted = stats?.get('aborted')?.value === 1
    return h`<tr data-task="${id}"><th scope="row"><code>${id}</code></th><td>${what(id)}</td>${COLUMNS.map(([stat]) => h`<td class="num">${cell(stat)}</td>`)}<td class="num">${throughput ? formatValue(throughput.value, throughput.unit) : '–'}</td><td>${stats ? (aborted ? 'aborted: maxTimeMs or the interrupt stopped it' : '') : 'not measured'}</td></tr>`
  })}</tbody></table></div>`
}
