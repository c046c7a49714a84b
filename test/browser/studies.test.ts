/**
 * A study launched from the dashboard in a real browser (Debian's Chromium via playwright-core; the real
 * server on 127.0.0.1, port 0, over PGlite, with an in-process `bench worker` that knows the spec-study
 * kind): without the token the launch is refused with the server's reason and nothing is queued; with it,
 * the form queues scenarios/spec-fixture-study.ts (teacher-f32 ← teacher-q4_0, K 1..4, real
 * node-llama-cpp), the study's page follows its progress, reloads when it has completed, and draws its three
 * charts — no console error on the way. Screenshot: test-results/studies.png. An endpoint study of 10 K
 * (`bench spec-endpoints`' record, test/db/endpoint-study-fixture.ts) draws its two charts, every K
 * labelled, a gap where the server gave no τ (test-results/studies-endpoint.png).
 */
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { installQueue, queueConnection } from '../../db/queue/connection.ts'
import { registerJobKind } from '../../db/queue/kinds.ts'
import { startWorker, type WorkerHandle } from '../../db/queue/worker.ts'
import { saveEndpointStudy } from '../../db/studies/endpoint-store.ts'
import { enqueueStudy, specStudyKind } from '../../db/studies/queue.ts'
import { listStudies, readStudy, storeStudyResult } from '../../db/studies/store.ts'
import { detectEnvironment } from '../../harness/environment.ts'
import { loadStudy } from '../../harness/speculative/study-file.ts'
import { knownEndpointStudy } from '../db/endpoint-study-fixture.ts'
import { knownStudy } from '../db/studies-fixture.ts'
import {
  type Browser,
  CHARTS_DRAWN,
  canvasInk,
  hasChromium,
  inChromium,
  launchBrowser,
  SCREENSHOTS,
} from '../helpers/browser.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { fixtureStudyDir, type StudyDir } from '../helpers/study-dir.ts'

const TOKEN = 'studies-browser-token'
registerJobKind(specStudyKind)

describe.skipIf(!hasChromium)(inChromium('studies launched from the dashboard'), () => {
  let t: TestDatabase
  let server: RunningDashboard
  let browser: Browser
  let worker: WorkerHandle
  let studies: StudyDir

  beforeAll(async () => {
    // The study file with its models pointed at this run's fixtures (a fresh clone has no .bench/models).
    studies = await fixtureStudyDir()
    t = await createTestDatabase('pglite')
    const connection = queueConnection(t.db, t.options)
    await installQueue(connection)
    ;[browser, worker, server] = await Promise.all([
      launchBrowser(),
      detectEnvironment().then((environment) => startWorker({ db: t.db, connection, environment })),
      startDashboard({ db: t.db, auth: { token: TOKEN }, port: 0 }),
    ])
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await worker?.stop()
    await t?.dispose()
    studies?.dispose()
  })

  const visit = (route: string) => browser.visit(new URL(route, server.url))

  it('without the token the launch is refused and nothing is queued', async () => {
    const { page, problems } = await visit('/studies')
    await page.selectOption('#launch-study-form select[name="study"]', 'spec-fixture-study.ts')
    await page.click('#launch-study-form button[type="submit"]')
    // A function, not a string: the page's CSP forbids eval (CHARTS_DRAWN in test/helpers/browser.ts).
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { getElementById(id: string): { dataset: Record<string, string | undefined> } | null }
          }
        ).document.getElementById('launch-study-form')?.dataset.launchError !== undefined,
    )
    await page.screenshot({ path: path.join(SCREENSHOTS, 'studies-refused.png'), fullPage: true })
    const status = await page.textContent('#launch-study-form output')
    expect(status).toMatch(/^not launched: 401 Unauthorized: .*Bearer/)
    // The refused request is the only problem: the browser reports the 401 it got.
    expect(
      problems.every((p) => /401/.test(p)),
      problems.join('\n'),
    ).toBe(true)
    expect(await listStudies(t.db)).toEqual([])
  })

  it('with the token a study is queued, run by the worker, and its charts drawn', async () => {
    const { page, problems } = await visit('/studies')
    expect(await page.locator('#no-worker').count(), 'the in-process worker is alive').toBe(0)
    await page.fill('#launch-study-form [data-token-field]', TOKEN)
    await page.selectOption('#launch-study-form select[name="study"]', 'spec-fixture-study.ts')
    await page.fill('#launch-study-form input[name="label"]', '<i>from the browser</i>')
    await page.click('#launch-study-form button[type="submit"]')
    await page.waitForURL(/\/studies\/\d+$/)
    const id = Number(new URL(page.url()).pathname.split('/').pop())
    // The page polls the study and reloads when it has ended; the reloaded page draws the charts.
    // (Polled from here: a string predicate that waits in the page is an eval, which the page's CSP forbids.)
    const deadline = Date.now() + 90_000
    for (;;) {
      const done = await page
        .evaluate(
          `document.getElementById('study-status')?.dataset.state === 'completed' && document.documentElement.dataset.chartsDrawn === '3'`,
        )
        .catch(() => false) // the page reloading: ask again
      if (done === true) break
      if (Date.now() > deadline) throw new Error('the study did not complete and draw within 90 s')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await page.waitForFunction(CHARTS_DRAWN)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'studies.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    const ink = await canvasInk(page)
    expect(ink.map((c) => c.id)).toEqual([
      'chart-study-speedup',
      'chart-study-positions',
      'chart-study-lengths',
    ])
    for (const c of ink) expect(c.inked, `pixels drawn on ${c.id}`).toBeGreaterThan(500)
    const stored = await readStudy(t.db, id)
    expect(stored?.study).toMatchObject({ state: 'completed', label: '<i>from the browser</i>', progress: 1 })
    expect(await page.locator('#study-k tbody tr').count()).toBe(stored?.perK.length)
    expect(stored?.perK.map((r) => r.k)).toEqual([1, 2, 3, 4])
    // The label is shown as text, not markup.
    expect(await page.locator('#study-facts i').count()).toBe(0)
    expect(await page.textContent('#study-facts')).toContain('<i>from the browser</i>')
  }, 120_000)

  it('a study of 10 K values: every K labelled on every chart, each line and bar drawn', async () => {
    const id = await storeStudyResult(t.db, knownStudy(10, 'ten-k'))
    const { page, problems } = await visit(`/studies/${id}`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'studies-10k.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    const charts = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((canvas) => {
      const chart = window.Chart.getChart(canvas)
      return {
        id: canvas.id,
        ticks: chart.scales.x.ticks.map((t) => chart.scales.x.getLabelForValue(t.value)),
        datasets: chart.data.datasets.map((d, i) => ({ label: d.label, drawn: chart.getDatasetMeta(i).data.filter((e) => !e.skip && Number.isFinite(e.x) && Number.isFinite(e.y)).length })),
      }
    })`)) as { id: string; ticks: string[]; datasets: { label: string; drawn: number }[] }[]
    const ks = Array.from({ length: 10 }, (_, i) => i + 1)
    expect(charts.map((c) => [c.id, c.ticks])).toEqual([
      ['chart-study-speedup', ks.map((k) => `K = ${k}`)],
      ['chart-study-positions', ks.map(String)],
      ['chart-study-lengths', [0, ...ks].map(String)],
    ])
    const [speedup, positions] = charts
    for (const d of speedup!.datasets) expect(d.drawn, d.label).toBe(10)
    // K = k's line has k points (positions 1..k).
    expect(positions!.datasets.slice(0, 10).map((d) => d.drawn)).toEqual(ks)
    for (const c of await canvasInk(page)) expect(c.inked, c.id).toBeGreaterThan(500)
  })

  it('an endpoint study of 10 K values: speedup and position charts drawn, every K labelled', async () => {
    const ks = Array.from({ length: 10 }, (_, i) => i + 1)
    const id = await saveEndpointStudy(t.db, knownEndpointStudy(ks, { timingsOnlyAt: 3 }))
    const { page, problems } = await visit(`/studies/${id}`)
    await page.waitForFunction(CHARTS_DRAWN)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'studies-endpoint.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    const charts = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((canvas) => {
      const chart = window.Chart.getChart(canvas)
      return {
        id: canvas.id,
        ticks: chart.scales.x.ticks.map((t) => chart.scales.x.getLabelForValue(t.value)),
        datasets: chart.data.datasets.map((d, i) => ({ label: d.label, drawn: chart.getDatasetMeta(i).data.filter((e) => !e.skip && Number.isFinite(e.x) && Number.isFinite(e.y)).length })),
      }
    })`)) as { id: string; ticks: string[]; datasets: { label: string; drawn: number }[] }[]
    expect(charts.map((c) => [c.id, c.ticks])).toEqual([
      ['chart-study-speedup', ks.map((k) => `K = ${k}`)],
      ['chart-study-positions', ks.map(String)],
    ])
    const drawn = Object.fromEntries(charts[0]!.datasets.map((d) => [d.label.split(' ')[0], d.drawn]))
    // Measured at every K; the predicted line at the 9 K with τ (K = 3 had timings only: a gap).
    expect(drawn).toMatchObject({ measured: 10, predicted: 9 })
    // K = k's line has k points, K = 3's none.
    expect(charts[1]!.datasets.map((d) => d.drawn)).toEqual(ks.map((k) => (k === 3 ? 0 : k)))
    for (const c of await canvasInk(page)) expect(c.inked, c.id).toBeGreaterThan(500)
    expect(await page.locator('#study-k tbody tr').count()).toBe(10)
  })

  it('a queued study shows its progress bar and is cancelled from its page with the token', async () => {
    // Required tags this worker lacks: the study stays queued.
    const study = await loadStudy(path.join(studies.dir, 'spec-fixture-study.ts'))
    const queued = await enqueueStudy(t.db, {
      study,
      source: 'scenarios/spec-fixture-study.ts',
      baseDir: process.cwd(),
      requiredTags: ['gpu=h100'],
    })
    const { page, problems } = await visit(`/studies/${queued.studyId}`)
    expect(await page.getAttribute('#study-status', 'data-state')).toBe('queued')
    expect(await page.getAttribute('#study-status progress', 'value')).toBe('0')
    await page.fill('#cancel-study-form [data-token-field]', TOKEN)
    await page.click('#cancel-study-form button[type="submit"]')
    await page.waitForURL(`**/studies/${queued.studyId}`)
    const deadline = Date.now() + 10_000
    while ((await page.getAttribute('#study-status', 'data-state').catch(() => null)) !== 'cancelled') {
      if (Date.now() > deadline) throw new Error('the page never showed the study cancelled')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(problems, 'console and network').toEqual([])
    expect((await readStudy(t.db, queued.studyId))?.study.state).toBe('cancelled')
  })
})
