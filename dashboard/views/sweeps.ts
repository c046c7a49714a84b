/**
 * Sweeps page: every `bench sweep` newest first — model, endpoint, SLO, knee, state and how it ended,
 * steps — each linking to its page; paged like the runs list.
 * @module
 */
import { rateText } from '../charts/sweep.ts'
import type { SweepsModel } from '../data/sweeps.ts'
import { formatTime } from './format.ts'
import { type Html, h, link, notice } from './html.ts'
import { page } from './layout.ts'
import { sloText } from './sweep.ts'

export function sweepsPage(m: SweepsModel): Html {
  const q = m.query
  const limit = q.limit === 50 ? undefined : q.limit
  const prev =
    q.offset > 0 ? link('/sweeps', { limit, offset: Math.max(0, q.offset - q.limit) || undefined }) : null
  const next = m.hasMore ? link('/sweeps', { limit, offset: q.offset + q.limit }) : null
  return page({
    title: 'Sweeps',
    active: 'sweeps',
    charts: false,
    body: h`<p class="lede">Each <code>bench sweep</code>: the highest request rate an endpoint served within its SLO (the knee), found by raising the offered rate, then bisecting. Every step is a run. <a href="${link('/api/sweeps', { limit, offset: q.offset || undefined })}">JSON</a></p>
${
  m.sweeps.length === 0
    ? notice(
        h`No sweeps${q.offset > 0 ? ' on this page' : ''}. Run one: <code>npx bench sweep http://127.0.0.1:8000/v1 --slo ttftMsP95=500 --slo tpotMsP95=50</code>`,
        'warn',
      )
    : h`<div class="table-wrap"><table class="data" id="sweeps">
<thead><tr>
  <th scope="col">sweep</th><th scope="col">started</th><th scope="col">model</th><th scope="col">endpoint</th>
  <th scope="col">SLO</th><th scope="col">knee<br><small class="unit">requests/s</small></th>
  <th scope="col">state</th><th scope="col">steps</th><th scope="col">label</th>
</tr></thead>
<tbody>
${m.sweeps.map(
  (s) => h`<tr data-sweep-id="${s.id}">
  <td><a href="/sweeps/${s.id}">${s.id}</a></td>
  <td class="nowrap">${formatTime(s.startedAt)}</td>
  <td>${s.model}</td>
  <td><code>${s.baseUrl}</code></td>
  <td>${sloText(s.slo)}</td>
  <td class="num">${s.kneeRatePerS === null ? '–' : rateText(s.kneeRatePerS)}</td>
  <td>${s.orphaned ? h`<span class="state state-interrupted" title="stored as running; its last step was interrupted: its process ended">interrupted</span>` : h`<span class="state state-${s.state}">${s.state}</span>`}${s.end ? h` <small>${s.end}</small>` : ''}</td>
  <td class="num">${s.steps}</td>
  <td>${s.label ?? ''}</td>
</tr>`,
)}
</tbody></table></div>`
}
<nav class="pager">
  ${prev ? h`<a href="${prev}" rel="prev">← newer</a>` : ''}
  ${m.sweeps.length > 0 ? h`<span>sweeps ${q.offset + 1}–${q.offset + m.sweeps.length}</span>` : ''}
  ${next ? h`<a href="${next}" rel="next">older →</a>` : ''}
</nav>`,
  })
}
