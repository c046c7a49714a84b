/**
 * Runs page: filters, the list newest first with paging, and radio buttons that send two runs to compare.
 * @module
 */
import { raw } from 'hono/html'
import { describeStoredLoad } from '../../db/queries/index.ts'
import { runStates } from '../../db/schema.ts'
import type { RunsModel } from '../data/runs.ts'
import { runFlags } from '../data/scope.ts'
import { formatCell, formatTime, shortSha } from './format.ts'
import { type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'
import { flagTags } from './scope.ts'
import { sweepTag } from './sweep.ts'

export function runsPage(m: RunsModel): Html {
  const q = m.query
  const filters = {
    scenario: q.scenario,
    target: q.target,
    branch: q.branch,
    state: q.state,
    since: q.since?.toISOString(),
    until: q.until?.toISOString(),
    limit: q.limit === 50 ? undefined : q.limit,
  }
  const prev =
    q.offset > 0 ? link('/runs', { ...filters, offset: Math.max(0, q.offset - q.limit) || undefined }) : null
  const next = m.hasMore ? link('/runs', { ...filters, offset: q.offset + q.limit }) : null
  return page({
    title: 'Runs',
    active: 'runs',
    charts: false,
    body: h`<form class="filters" method="get" action="/runs">
  <label>scenario
    <select name="scenario" data-autosubmit>
      <option value="">any</option>
      ${m.scenarios.map((s) => h`<option value="${s}"${s === q.scenario ? raw(' selected') : ''}>${s}</option>`)}
      ${q.scenario !== undefined && !m.scenarios.includes(q.scenario) ? h`<option value="${q.scenario}" selected>${q.scenario}</option>` : ''}
    </select>
  </label>
  <label>target <input name="target" value="${q.target ?? ''}" placeholder="any" size="12"></label>
  <label>branch <input name="branch" value="${q.branch ?? ''}" placeholder="any" size="12"></label>
  <label>state
    <select name="state" data-autosubmit>
      <option value="">any</option>
      ${runStates.map((s) => h`<option value="${s}"${s === q.state ? raw(' selected') : ''}>${s}</option>`)}
    </select>
  </label>
  <label>since <input name="since" value="${q.since?.toISOString() ?? ''}" placeholder="2026-11-01" size="12"></label>
  <label>until <input name="until" value="${q.until?.toISOString() ?? ''}" placeholder="2026-12-01" size="12"></label>
  <button type="submit">filter</button>
  <a class="reset" href="/runs">reset</a>
</form>
${
  m.runs.length === 0
    ? notice('No runs match.', 'warn')
    : h`<form method="get" action="/compare">
<div class="table-wrap"><table class="data" id="runs">
<thead><tr>
  <th scope="col" title="base run">A</th><th scope="col" title="candidate run">B</th>
  <th scope="col">id</th><th scope="col">started</th><th scope="col">scenario</th><th scope="col">target</th>
  <th scope="col">state</th><th scope="col">engine</th><th scope="col">load</th><th scope="col">commit</th>
  <th scope="col">${metricName('outputTokensPerS', true)}<br><small class="unit">tokens/s</small></th>
  <th scope="col">${metricName('ttftMsP50', true)}<br><small class="unit">ms</small></th>
  <th scope="col">${metricName('errorRate', true)}</th><th scope="col">label</th>
</tr></thead>
<tbody>
${m.runs.map((r) => {
  // Marked as on the leaderboard: figures of a saturated client or of a run losing > 1 % of requests.
  const flags = runFlags(r.metrics)
  return h`<tr data-run-id="${r.id}"${flags.length > 0 ? raw(` data-flags="${flags.join(' ')}" class="flagged"`) : ''}>
  <td><input type="radio" name="a" value="${r.id}" aria-label="compare: base run ${r.id}"></td>
  <td><input type="radio" name="b" value="${r.id}" aria-label="compare: candidate run ${r.id}"></td>
  <td><a href="/runs/${r.id}">${r.id}</a></td>
  <td class="nowrap">${formatTime(r.startedAt)}</td>
  <td>${r.scenarioName}</td>
  <td>${r.targetName}</td>
  <td><span class="state state-${r.state}">${r.state}</span>${flagTags(flags, r.metrics.errorRate?.value)}${r.role === 'confirm' ? h` <span class="tag" title="a bench gate --confirm re-run: never a baseline, left out of the leaderboard and history unless asked">confirm re-run</span>` : ''}${r.importedFormat ? h` <span class="tag">imported: ${r.importedFormat}</span>` : ''}${sweepTag(r.sweepId, r.sweepStep)}</td>
  <td class="nowrap">${r.engineKind}<br><small>${r.engineModel}</small></td>
  <td class="nowrap">${describeStoredLoad(r.load)}</td>
  <td><code>${shortSha(r.gitCommit)}</code>${r.gitBranch ? h` <small>${r.gitBranch}</small>` : ''}</td>
  <td class="num">${formatCell(r.metrics.outputTokensPerS?.value, 'tokens/s')}</td>
  <td class="num">${formatCell(r.metrics.ttftMsP50?.value, 'ms')}</td>
  <td class="num">${formatCell(r.metrics.errorRate?.value, 'ratio')}</td>
  <td>${r.label ?? ''}</td>
</tr>`
})}
</tbody></table></div>
<p><button type="submit">compare A → B</button></p>
</form>`
}
<nav class="pager">
  ${prev ? h`<a href="${prev}" rel="prev">← newer</a>` : ''}
  <span>runs ${q.offset + 1}–${q.offset + m.runs.length}</span>
  ${next ? h`<a href="${next}" rel="next">older →</a>` : ''}
</nav>`,
  })
}
