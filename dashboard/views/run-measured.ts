/**
 * The run page's "what was measured" line. A load step or `bench load` counts requests; a micro run times
 * tasks, an accuracy run scores items, a quality run scores tokens against a reference, a checklist
 * judges items and an imported llama-bench file lists its pp/tg tests — they store no request rows by design, so their request count (0) would read as a run that
 * lost everything. Each says what it measured in its own unit instead.
 * @module
 */
import { storesRequestRows } from '../../db/queries/run-detail.ts'
import type { MicroSpec } from '../../harness/results.ts'
import type { RunModel } from '../data/run.ts'
import { formatNumber } from './format.ts'
import { type Html, h } from './html.ts'

/** `<p id="measured">…</p>`: requests, micro tasks, scored items, scored tokens or checklist items. */
export function measuredLine(m: RunModel): Html {
  const { run, requests } = m.detail
  const scalar = (name: string) => m.scalars.find((s) => s.name === name)
  const count = (n: number, one: string, many = `${one}s`) => `${formatNumber(n)} ${n === 1 ? one : many}`
  switch (run.loadKind) {
    case 'micro': {
      // Figures are micro/<task>/<stat>; a task with no row was not measured (interrupted before it).
      const measured = new Set<string>()
      let samples = 0
      for (const s of m.scalars) {
        if (!s.name.startsWith('micro/')) continue
        measured.add(s.name.slice('micro/'.length, s.name.lastIndexOf('/')))
        if (s.name.endsWith('/samples')) samples += s.value
      }
      const listed = (run.load as Partial<MicroSpec> | null)?.tasks
      const asked = Array.isArray(listed) ? listed.length : measured.size
      return h`<p id="measured">Micro tasks: ${measured.size} of ${asked} measured, ${count(samples, 'timed iteration')} in all (tinybench; a micro run sends no request).</p>`
    }
    case 'accuracy': {
      const items = scalar('accItems')
      const errors = scalar('accErrors')
      if (!items)
        return h`<p id="measured">Items: none scored yet (an accuracy run scores items, not requests).</p>`
      return h`<p id="measured">Items: ${formatNumber(items.n)} (${formatNumber(items.value)} scored, ${count(errors?.value ?? 0, 'error')}; an accuracy run scores items, not requests).</p>`
    }
    case 'quality': {
      const tokens = scalar('qualityTokens')
      const reference = (run.load as { reference?: unknown } | null)?.reference
      const against = typeof reference === 'string' ? h` against ${reference}` : ''
      return h`<p id="measured">Scored tokens: ${tokens ? formatNumber(tokens.value) : 'none yet'}${against} (a quality run compares next-token distributions, not requests).</p>`
    }
    case 'checklist': {
      const verdicts = m.scalars.filter((s) => /^checklist\/[^/]+$/.test(s.name)).map((s) => s.value)
      const of = (score: (v: number) => boolean) => verdicts.filter(score).length
      return h`<p id="measured">Checklist items: ${verdicts.length} (${of((v) => v >= 1)} pass, ${of((v) => v > 0 && v < 1)} warn, ${of((v) => v <= 0)} fail; its probes and loads are not stored as requests).</p>`
    }
    case 'llama-bench': {
      // db/import/llama-bench.ts stores each test as { test: 'pp64', repetitions } (null: no samples kept).
      const listed = (run.load as { tests?: unknown } | null)?.tests
      const tests = (Array.isArray(listed) ? listed : []) as { test?: unknown; repetitions?: unknown }[]
      const each = tests.map(
        (t) =>
          `${String(t.test)} (${typeof t.repetitions === 'number' ? count(t.repetitions, 'repetition') : 'repetitions not recorded'})`,
      )
      return h`<p id="measured">llama-bench tests: ${each.length > 0 ? each.join(', ') : 'none recorded'} (imported engine figures, no requests).</p>`
    }
    default:
      // A kind added to storesRequestRows' list needs its own line above.
      if (!storesRequestRows(run.loadKind))
        return h`<p id="measured">No requests: a ${run.loadKind} run stores none.</p>`
      return h`<p id="measured">Requests: ${requests.total} (${requests.ok} ok, ${requests.errors} errors${requests.aborted > 0 ? h`, ${requests.aborted} aborted by the interrupt` : ''}).</p>`
  }
}
