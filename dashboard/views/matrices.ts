/**
 * Matrices (`bench enqueue`, db/queue): the list with each matrix's progress, and one matrix job by job —
 * state, attempts, its completed run (linked), runs of earlier attempts, worker and last error. Every
 * value is escaped by `h`.
 * @module
 */
import type { MatrixStatus, MatrixSummary, StateCounts } from '../../db/queue/status.ts'
import { describeStoredRun } from '../../harness/cli/describe-run.ts'
import { formatTime } from './format.ts'
import { type Html, h, notice } from './html.ts'
import { page } from './layout.ts'

/** A bar of completed / total (the native element: accessible, no script) and the counts in words. */
function progress(c: StateCounts): Html {
  return h`<progress max="${Math.max(1, c.total)}" value="${c.completed}">${c.completed} of ${c.total}</progress>
  <span class="nowrap">${c.completed}/${c.total} completed</span>${c.running > 0 ? h` · ${c.running} running` : ''}${c.queued > 0 ? h` · ${c.queued} queued` : ''}${c.retrying > 0 ? h` · ${c.retrying} retrying` : ''}${c.dead > 0 ? h` · <strong>${c.dead} dead</strong>` : ''}`
}

export function matricesPage(list: readonly MatrixSummary[]): Html {
  return page({
    title: 'Matrices',
    charts: false,
    body: h`<p class="lede">Scenarios queued with <code>bench enqueue</code>, split into jobs (target × load step) that <code>bench worker</code> processes run, here or on other machines sharing the database. <a href="/api/matrices">JSON</a></p>
${
  list.length === 0
    ? notice(
        h`No matrices. Queue one: <code>npx bench enqueue scenarios/mock-sweep.ts</code>, then run <code>npx bench worker</code>`,
        'warn',
      )
    : h`<div class="table-wrap"><table class="data" id="matrices">
<thead><tr><th scope="col">matrix</th><th scope="col">queued</th><th scope="col">scenario</th><th scope="col">requires</th><th scope="col">progress</th><th scope="col">label</th></tr></thead>
<tbody>
${list.map(
  (m) => h`<tr data-matrix-id="${m.id}">
  <td><a href="/matrices/${m.id}">${m.id}</a></td>
  <td class="nowrap">${formatTime(m.createdAt)}</td>
  <td>${m.scenarioName}</td>
  <td>${m.requiredTags.join(' ')}</td>
  <td>${progress(m.counts)}</td>
  <td>${m.label ?? ''}</td>
</tr>`,
)}
</tbody></table></div>`
}`,
  })
}

/** A figure in ms with one decimal, or a dash. */
const ms = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(1))

export function matrixPage(m: MatrixStatus): Html {
  const step = (spec: unknown, kind: string) => {
    const s = spec as { step?: string; load?: unknown; micro?: unknown }
    if (s.step === 'micro') return describeStoredRun(s.micro)
    return s.step === 'load' ? describeStoredRun(s.load) : (s.step ?? kind)
  }
  return page({
    title: `Matrix ${m.id}`,
    charts: false,
    body: h`<p class="lede">Matrix ${m.id} of <strong>${m.scenarioName}</strong>${m.label ? h` (${m.label})` : ''}, queued ${formatTime(m.createdAt)}${m.requiredTags.length > 0 ? h`, for workers tagged <code>${m.requiredTags.join(' ')}</code>` : ''}; at most ${m.maxAttempts} attempts a job. <a href="/api/matrices/${m.id}">JSON</a></p>
<p>${progress(m.counts)}</p>
<div class="table-wrap"><table class="data" id="matrix-jobs">
<thead><tr><th scope="col">#</th><th scope="col">target</th><th scope="col">step</th><th scope="col">state</th><th scope="col">attempts</th><th scope="col">run</th><th scope="col">earlier attempts' runs</th><th scope="col">worker</th><th scope="col">last error</th></tr></thead>
<tbody>
${m.jobs.map(
  (j) => h`<tr data-job-state="${j.state}">
  <td class="num">${j.ordinal}</td>
  <td>${j.targetName}</td>
  <td>${j.loadIndex === null ? '' : h`${j.loadIndex}: `}${step(j.spec, j.kind)}</td>
  <td><span class="state state-${j.state}">${j.state}</span></td>
  <td class="num">${j.attempts}</td>
  <td>${j.runId === null ? '–' : h`<a href="/runs/${j.runId}">${j.runId}</a>`}</td>
  <td>${j.runIds.filter((r) => r !== j.runId).map((r, i) => h`${i > 0 ? ', ' : ''}<a href="/runs/${r}">${r}</a>`)}</td>
  <td><code>${j.workerId ?? ''}</code></td>
  <td>${j.lastError ?? ''}</td>
</tr>`,
)}
</tbody></table></div>
${
  m.groups.length > 0
    ? h`<h2>Steps split between clients</h2>
<p>Percentiles of the pooled per-request samples of every client's completed run (never an average of the clients' percentiles), ms; the start spread is how far apart the clients' runs began on the database clock.</p>
<div class="table-wrap"><table class="data" id="matrix-groups"><thead><tr><th scope="col">target</th><th scope="col">step</th><th scope="col">clients</th><th scope="col">runs</th><th scope="col">requests</th><th scope="col">TTFT p50</th><th scope="col">TTFT p90</th><th scope="col">TTFT p99</th><th scope="col">E2E p50</th><th scope="col">E2E p99</th><th scope="col">start spread</th></tr></thead><tbody>
${m.groups.map((g) => h`<tr><td>${g.targetName}</td><td class="num">${g.loadIndex}</td><td class="num">${g.clients}</td><td>${g.completedRuns.map((r, i) => h`${i > 0 ? ', ' : ''}<a href="/runs/${r}">${r}</a>`)}</td><td class="num">${g.requests}</td><td class="num">${ms(g.ttftMs?.p50)}</td><td class="num">${ms(g.ttftMs?.p90)}</td><td class="num">${ms(g.ttftMs?.p99)}</td><td class="num">${ms(g.e2eMs?.p50)}</td><td class="num">${ms(g.e2eMs?.p99)}</td><td class="num">${ms(g.startSpreadMs ?? undefined)}</td></tr>`)}
</tbody></table></div>`
    : ''
}
${
  m.workers.length > 0
    ? h`<h2>Workers</h2><div class="table-wrap"><table class="data" id="matrix-workers"><thead><tr><th scope="col">worker</th><th scope="col">host</th><th scope="col">pid</th><th scope="col">state</th><th scope="col">last heartbeat</th></tr></thead><tbody>
${m.workers.map((w) => h`<tr><td><code>${w.id}</code></td><td>${w.host}</td><td class="num">${w.pid}</td><td>${w.state}</td><td class="nowrap">${formatTime(w.heartbeatAt)}</td></tr>`)}
</tbody></table></div>`
    : ''
}`,
  })
}
