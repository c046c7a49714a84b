/**
 * The Studies pages and API through the app (createApp.request, PGlite): a stored study of 10 K values
 * (test/db/studies-fixture.ts, known figures) shows one per-K row each with measured, predicted and error,
 * its three charts carry the stored figures on one category per K, and every stored text is escaped; the
 * list shows state and best K; the launch is refused without the token (403 none configured, 401 wrong),
 * with a bad body (400 naming the field), for a file outside the catalogue (404), and while the database
 * has no job queue (409 naming `bench worker`); a completed study cannot be cancelled (409). An endpoint
 * study (test/db/endpoint-study-fixture.ts) is listed with its kind and shows its own per-K table (null
 * figures as –) and the charts that apply: speedup with gaps where no prediction, positions when counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { saveEndpointStudy } from '../../db/studies/endpoint-store.ts'
import { storeStudyResult } from '../../db/studies/store.ts'
import { endpointStudyRow } from '../../harness/speculative/endpoints/study.ts'
import { knownEndpointStudy } from '../db/endpoint-study-fixture.ts'
import { knownStudy } from '../db/studies-fixture.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { fixtureStudyDir, type StudyDir } from '../helpers/study-dir.ts'

const TOKEN = 'studies-token'
const HOSTILE = '<script>alert(1)</script>'

interface ChartBlock {
  data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] }
}

function chartOf(page: string, id: string): ChartBlock {
  const m = new RegExp(`<script type="application/json" data-chart-for="${id}">([^<]*)</script>`).exec(page)
  if (!m) throw new Error(`no chart ${id}`)
  return JSON.parse(m[1]!.replace(/\\u003c/g, '<')) as ChartBlock
}

describe('studies pages', () => {
  let t: TestDatabase
  let id: number
  let studies: StudyDir
  const result = knownStudy(10)
  beforeAll(async () => {
    studies = await fixtureStudyDir()
    t = await createTestDatabase('pglite')
    id = await storeStudyResult(t.db, result, { source: 'scenarios/x.ts', label: HOSTILE })
  })
  afterAll(async () => {
    await t?.dispose()
    studies?.dispose()
  })
  const app = () => createApp({ db: t.db, auth: { token: TOKEN }, cache: false })

  it('one study: a row per K with measured, predicted and error; three charts of the stored figures', async () => {
    const res = await app().request(`/studies/${id}`)
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).not.toContain(HOSTILE)
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).toContain('&lt;b&gt;Q&lt;/b&gt;: &amp; &quot;what&quot;')
    const rows = [...page.matchAll(/<tr data-k="(\d+)">([\s\S]*?)<\/tr>/g)]
    expect(rows.map((r) => Number(r[1]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    for (const [i, r] of rows.entries()) {
      const k = result.perK[i]!
      expect(r[2]).toContain(`<td class="num" data-measured>${k.measuredSpeedup.toFixed(2)}</td>`)
      expect(r[2]).toContain(`<td class="num" data-predicted>${k.predictedSpeedup.toFixed(2)}</td>`)
      const e = k.measuredSpeedup - k.predictedSpeedup
      expect(r[2]).toContain(`data-error>${e >= 0 ? '+' : '−'}${Math.abs(e).toFixed(2)}</td>`)
    }
    const speedup = chartOf(page, 'chart-study-speedup')
    expect(speedup.data.labels).toEqual(result.perK.map((r) => `K = ${r.k}`))
    const series = (label: RegExp) => speedup.data.datasets.find((d) => label.test(d.label))?.data
    expect(series(/^measured/)).toEqual(result.perK.map((r) => r.measuredSpeedup))
    expect(series(/^predicted/)).toEqual(result.perK.map((r) => r.predictedSpeedup))
    expect(series(/^error/)).toEqual(result.perK.map((r) => r.error))
    const positions = chartOf(page, 'chart-study-positions')
    expect(positions.data.labels).toHaveLength(10)
    // K = 2's line: its two rates, nothing past position 2; the model line α^i for α = 0.75.
    expect(positions.data.datasets[1]?.data).toEqual([0.5, 0.25, ...new Array(8).fill(null)])
    expect(positions.data.datasets.at(-1)?.data[1]).toBeCloseTo(0.75 ** 2, 12)
    const lengths = chartOf(page, 'chart-study-lengths')
    expect(lengths.data.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10'])
    // K = 2 kept 0, 1, 2 drafted tokens in 4, 2, 2 of 8 steps.
    expect(lengths.data.datasets[1]?.data.slice(0, 4)).toEqual([0.5, 0.25, 0.25, null])
  })

  it('the list shows the state and the best K; the JSON twin has every row', async () => {
    const page = await (await app().request('/studies')).text()
    expect(page).toContain(`<a href="/studies/${id}">${id}</a>`)
    expect(page).toContain('data-study-state="completed"')
    expect(page).toContain('id="launch-study-form"')
    expect(page).toContain('<option value="spec-fixture-study.ts">')
    // No bench worker has ever run on this database: a launch would wait, and the page says so.
    expect(page).toContain('<span id="no-worker">')
    // Who runs a launch: bench dashboard's own worker on the embedded database (it once said to start a
    // bench worker first, which the dashboard's own worker then refused to sit beside).
    expect(page).toContain('<code>bench dashboard</code> runs in its own process')
    expect(page).not.toContain('start the worker first')
    expect(page).not.toContain(HOSTILE)
    const json = (await (await app().request(`/api/studies/${id}`)).json()) as {
      perK: unknown[]
      perPrompt: unknown[]
    }
    expect(json.perK).toHaveLength(10)
    expect(json.perPrompt).toHaveLength(20)
    expect((await app().request('/studies/999999')).status).toBe(404)
    expect((await app().request('/studies/x')).status).toBe(400)
  })

  it('launching: refused without the token, with a bad body, outside the catalogue, and without a queue', async () => {
    const post = (body: unknown, token?: string, a = app()) =>
      a.request('/api/studies', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      })
    const readOnly = createApp({ db: t.db, auth: {}, cache: false })
    expect((await post({ study: 'spec-fixture-study.ts' }, undefined, readOnly)).status).toBe(403)
    expect((await post({ study: 'spec-fixture-study.ts' })).status).toBe(401)
    expect((await post({ study: 'spec-fixture-study.ts' }, 'wrong')).status).toBe(401)
    const bad = await post({ study: '../etc/passwd' }, TOKEN)
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain('study')
    const missing = await post({ study: 'spec-no-such-study.ts' }, TOKEN)
    expect(missing.status).toBe(404)
    const noQueue = await post({ study: 'spec-fixture-study.ts' }, TOKEN)
    expect(noQueue.status).toBe(409)
    expect(JSON.stringify(await noQueue.json())).toContain('bench worker')
    const cancel = await app().request(`/api/studies/${id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(cancel.status).toBe(409)
    expect(JSON.stringify(await cancel.json())).toContain('completed')
  })

  it("node-llama-cpp's own predictor figures get their own column, labelled as its own", async () => {
    const r = knownStudy(2, 'with-nlc')
    for (const row of r.perK)
      row.nodeLlamaCpp = {
        predictions: { used: 10, unused: 2, validated: 4, refuted: 6 },
        acceptanceRate: 0.4,
        tokensPerS: 36,
        baselineTokensPerS: 100,
        speedup: 0.36,
      }
    const nlcId = await storeStudyResult(t.db, r)
    const page = await (await app().request(`/studies/${nlcId}`)).text()
    expect(page).toContain('node-llama-cpp predictor')
    expect(page).toContain('refuted also counts stale drafts')
    expect(page.match(/<td class="num">0\.36 · 0\.40<\/td>/g)).toHaveLength(2)
    // Without them (the study above), no such column.
    expect(await (await app().request(`/studies/${id}`)).text()).not.toContain('node-llama-cpp predictor')
  })

  it('an endpoint study: its kind in the list, a row per K, the speedup and position charts, escaped', async () => {
    const ks = Array.from({ length: 10 }, (_, i) => i + 1)
    const record = knownEndpointStudy(ks, { timingsOnlyAt: 3, changedAt: 7, apiKeyEnv: 'SPEC_KEY' })
    record.study = { ...record.study, description: HOSTILE }
    const eid = await saveEndpointStudy(t.db, record, { label: HOSTILE })
    const list = await (await app().request('/studies')).text()
    expect(list).toMatch(
      new RegExp(
        `<a href="/studies/${eid}">${eid}</a></td>\\s*<td>known-endpoints</td>\\s*<td data-study-kind="endpoint">endpoint</td>`,
      ),
    )
    const page = await (await app().request(`/studies/${eid}`)).text()
    expect(page).not.toContain(HOSTILE)
    expect(page).toContain('The &lt;capital&gt; of &quot;Norland&quot; &amp;')
    expect(page, 'the study file default warmup 1').toContain(
      'after 1 unmeasured warm-up request per endpoint',
    )
    const rows = [...page.matchAll(/<tr data-k="(\d+)">([\s\S]*?)<\/tr>/g)]
    expect(rows.map((r) => Number(r[1]))).toEqual(ks)
    for (const [i, r] of rows.entries()) {
      const k = record.result.rows[i]!
      expect(r[2]).toContain(`<td class="num" data-measured>${k.measuredSpeedup.toFixed(2)}</td>`)
      if (k.predictedSpeedup === undefined) {
        expect(k.k).toBe(3)
        expect(r[2]).toContain('<td class="num" data-predicted>–</td>')
        expect(r[2]).toContain('<td class="num" data-error>–</td>')
        expect(r[2]).toContain('response timings')
        continue
      }
      expect(r[2]).toContain(`<td class="num" data-predicted>${k.predictedSpeedup.toFixed(2)}</td>`)
      const e = k.measuredSpeedup - k.predictedSpeedup
      expect(r[2]).toContain(`data-error>${e >= 0 ? '+' : '−'}${Math.abs(e).toFixed(2)}</td>`)
      expect(r[2]).toContain(k.k === 7 ? '<strong>no</strong>' : '<td>yes</td>')
    }
    const speedup = chartOf(page, 'chart-study-speedup')
    expect(speedup.data.labels).toEqual(ks.map((k) => `K = ${k}`))
    const series = (label: RegExp) => speedup.data.datasets.find((d) => label.test(d.label))?.data
    expect(series(/^measured/)).toEqual(record.result.rows.map((r) => r.measuredSpeedup))
    expect(series(/^predicted/)).toEqual(record.result.rows.map((r) => r.predictedSpeedup ?? null))
    expect(series(/^error/)?.[2]).toBeNull()
    const positions = chartOf(page, 'chart-study-positions')
    expect(positions.data.labels).toHaveLength(10)
    // K = 2's line: ⌊20 · 0.8⌋ / 20 and ⌊20 · 0.64⌋ / 20; K = 3 (timings only) has none; no model α line.
    expect(positions.data.datasets[1]?.data.slice(0, 3)).toEqual([0.8, 0.6, null])
    expect(positions.data.datasets[2]?.data.every((v) => v === null)).toBe(true)
    expect(positions.data.datasets).toHaveLength(10)
    expect(page).not.toContain('chart-study-lengths')
    // Timings alone everywhere: no position chart, and the page says why.
    const bare = await saveEndpointStudy(t.db, knownEndpointStudy([2], { timingsOnlyAt: 2, name: 'bare' }))
    const barePage = await (await app().request(`/studies/${bare}`)).text()
    expect(barePage).not.toContain('chart-study-positions')
    expect(barePage).toContain('id="no-positions"')
  })

  it('an endpoint study whose K server did not speculate: completed, the problem on its page and in the list', async () => {
    const problem = 'on[0].url (K = 2, http://127.0.0.1:9/v1): the server drafted no token over its pass'
    const id = await saveEndpointStudy(t.db, {
      ...knownEndpointStudy([2], { name: 'no-draft' }),
      problems: [problem],
    })
    const row = (await (await app().request('/studies')).text()).match(
      new RegExp(`<tr data-study-id="${id}">([\\s\\S]*?)</tr>`),
    )?.[1]
    expect(row).toContain('data-study-state="completed"')
    expect(row).toContain(problem)
    expect(await (await app().request(`/studies/${id}`)).text()).toContain(
      `<span class="reason">${problem}</span>`,
    )
    // A K server that reported no speculation at all: the page does not blame the counters.
    const silent = knownEndpointStudy([2], { name: 'silent' })
    const off = silent.result.off
    silent.result.rows = [endpointStudyRow(2, { ...off, decodeTokensPerS: 99 }, off, 0.5)]
    const silentPage = await (
      await app().request(`/studies/${await saveEndpointStudy(t.db, { ...silent, problems: [problem] })}`)
    ).text()
    expect(silentPage).toMatch(/id="no-positions">No acceptance by position: no server drafted a token/)
    expect(silentPage).not.toContain('did not count it')
  })
})
