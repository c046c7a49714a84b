/**
 * The variant × engine table (issue 17 item 2) on the real database: rows are variants (a variant in two
 * formats shares a row; two targets on one engine split it), columns engines; each cell joins the load
 * step's run with the target's accuracy and quality runs (the latest, default branch); the load filter
 * never mixes steps and defaults to the first; sorting by any figure per engine or over engines; flagged
 * cells marked; a `load` or `sortEngine` the data lacks is a 404 naming the field and the choices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { loadLeaderboard } from '../../dashboard/data/leaderboard.ts'
import { loadVariants, type VariantRow, type VariantsModel } from '../../dashboard/data/variants.ts'
import { leaderboardQuery, parseQuery, variantsQuery } from '../../dashboard/params.ts'
import { metricsOf } from '../../db/queries/metrics-of.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { ACC_ITEMS, MATRIX, seedVariants, type VariantSeed } from './fixtures/variant-seed.ts'

describe.each(dbBackends())('variant × engine table on %s', (backend) => {
  let t: TestDatabase
  let s: VariantSeed

  beforeAll(async () => {
    delete process.env.BENCH_DEFAULT_BRANCH
    t = await createTestDatabase(backend)
    s = await seedVariants(t.db)
  }, 60_000)
  afterAll(async () => {
    await t?.dispose()
  })

  const table = (q: Record<string, string> = {}) =>
    loadVariants(t.db, parseQuery(variantsQuery, { scenario: MATRIX, ...q }))
  const rowOf = (m: VariantsModel, label: string): VariantRow => {
    const row = m.rows.find((r) => r.label === label)
    if (!row) throw new Error(`no row ${label} among ${m.rows.map((r) => r.label).join(', ')}`)
    return row
  }
  const cellRuns = (m: VariantsModel) =>
    m.rows.flatMap((r) => Object.values(r.cells).map((c) => c.runId)).filter((id) => id !== null)

  it('rows are variants, columns engines; a cell joins its load step, accuracy and quality runs', async () => {
    const m = await table()
    expect(m.engines, 'engine columns').toEqual(['llama-cpp', 'onnx', 'openai'])
    expect(m.loadChosen, 'default load').toBe('first-step')
    expect(
      m.loads.map((l) => l.label),
      'load steps in order',
    ).toEqual(['step 1: sequential', 'step 2: concurrent 4'])
    expect(m.load).toBe(m.loads[0]!.key)

    // F32 in GGUF on llama.cpp and FP32 in ONNX on onnxruntime: one variant, one row, two cells.
    const base = rowOf(m, 'tiny-f32 / tiny-onnx-fp32')
    expect(Object.keys(base.cells).sort(), 'base row cells').toEqual(['llama-cpp', 'onnx'])
    expect(base.cells['llama-cpp']!.runId).toBe(s.runs['tiny-f32']!.seq)
    expect(base.cells.onnx!.runId).toBe(s.runs['tiny-onnx-fp32']!.seq)
    expect([base.method, base.quant, base.bits], 'identity').toEqual([
      'base',
      'F32',
      { min: 32, max: 32.019 },
    ])

    // Two pruned F32 variants of tiny-f32 on one engine: a row each, named by target, parent shown.
    for (const name of ['tiny-layerdrop-f32', 'tiny-magprune50-f32']) {
      const r = rowOf(m, name)
      expect([r.method, r.parents, Object.keys(r.cells)], name).toEqual([
        'pruned',
        ['tiny-f32'],
        ['llama-cpp'],
      ])
    }

    // tiny-q4_0: main's run (not the PR branch's faster one), the newest accuracy run, its quality run.
    const q4 = rowOf(m, 'tiny-q4_0').cells['llama-cpp']!
    const stored = (
      await metricsOf(t.db, [s.runs['tiny-q4_0']!.seq!], ['outputTokensPerS', 'ttftMsP50'])
    ).get(s.runs['tiny-q4_0']!.seq!)!
    expect(q4, 'q4 cell').toMatchObject({
      runId: s.runs['tiny-q4_0']!.seq,
      accuracyRunId: s.runs['tiny-q4_0']!.acc,
      qualityRunId: s.runs['tiny-q4_0']!.quality,
      sizeBytes: 74_112,
      figures: {
        outputTokensPerS: stored.outputTokensPerS!.value,
        ttftMsP50: stored.ttftMsP50!.value,
        peakRssBytes: 74_112 + 50 * 1024 ** 2,
        acc: 24 / ACC_ITEMS,
        klDivergence: s.kld['tiny-q4_0'],
      },
    })
    expect(q4.figures.accStderr, 'acc stderr stored with acc').toBeCloseTo(
      Math.sqrt((0.6 * 0.4) / (ACC_ITEMS - 1)),
      12,
    )
    expect(cellRuns(m), 'old accuracy run and PR run never shown').not.toContain(s.prRun)
    expect(
      m.rows.flatMap((r) => Object.values(r.cells).map((c) => c.accuracyRunId)),
      'the older accuracy run is superseded',
    ).not.toContain(s.oldAccRun)

    // Measured for accuracy only: a cell without load-step figures.
    const accOnly = rowOf(m, 'tiny-acc-only').cells['llama-cpp']!
    expect([accOnly.runId, accOnly.figures.acc, accOnly.figures.outputTokensPerS]).toEqual([
      null,
      12 / ACC_ITEMS,
      undefined,
    ])
    // The endpoint has no variant: its row is its served model.
    expect(Object.keys(rowOf(m, 'mock-model').cells)).toEqual(['openai'])
    expect(m.figures, 'figures measured').toEqual([
      'outputTokensPerS',
      'ttftMsP50',
      'peakRssBytes',
      'acc',
      'klDivergence',
      'top1Agreement',
    ])
    expect(m.joined, 'joined accuracy and quality runs').toEqual({ accuracy: 9, quality: 7 })
  })

  it('the load filter shows one step only: concurrent figures never sit beside sequential ones', async () => {
    const first = await table()
    const concurrent = await table({ load: first.loads[1]!.key })
    expect(concurrent.loadChosen).toBe('asked')
    const seqRuns = new Set(Object.values(s.runs).map((r) => r.seq))
    const concRuns = Object.values(s.runs).flatMap((r) => (r.conc ? [r.conc] : []))
    expect(cellRuns(concurrent).sort(), 'concurrent cells: the concurrent runs').toEqual(concRuns.sort())
    expect(
      cellRuns(concurrent).some((id) => seqRuns.has(id)),
      'no sequential run',
    ).toBe(false)
    expect(cellRuns(first).sort(), 'sequential cells: the sequential runs').toEqual(
      Object.values(s.runs)
        .flatMap((r) => (r.seq ? [r.seq] : []))
        .sort(),
    )
    // Accuracy is the target's, whatever the step.
    expect(rowOf(concurrent, 'tiny-q4_0').cells['llama-cpp']!.figures.acc).toBe(24 / ACC_ITEMS)
  })

  it('sorts by any figure, per engine column or by the best over engines; rows without it last', async () => {
    const llama = await table({ sort: 'outputTokensPerS', sortEngine: 'llama-cpp' })
    expect(llama.dir, 'throughput: best first').toBe('desc')
    // Smaller inter-token gap, faster: q4 (3 ms) q8 (4) layerdrop (4.5) f16 (5) f32 (6) magprune (6.5).
    expect(llama.rows.slice(0, 6).map((r) => r.label)).toEqual([
      'tiny-q4_0',
      'tiny-q8_0',
      'tiny-layerdrop-f32',
      'tiny-f16',
      'tiny-f32 / tiny-onnx-fp32',
      'tiny-magprune50-f32',
    ])
    const asc = await table({ sort: 'outputTokensPerS', sortEngine: 'llama-cpp', dir: 'asc' })
    expect(asc.rows.slice(0, 6).map((r) => r.label)).toEqual(
      llama.rows
        .slice(0, 6)
        .map((r) => r.label)
        .reverse(),
    )
    expect(
      asc.rows.slice(6).every((r) => r.cells['llama-cpp']?.figures.outputTokensPerS === undefined),
      'rows without a llama-cpp throughput last, either direction',
    ).toBe(true)

    const kld = await table({ sort: 'klDivergence' })
    expect(kld.dir, 'KLD: lower is better').toBe('asc')
    expect(kld.rows.slice(0, 2).map((r) => r.label)).toEqual(['tiny-f32 / tiny-onnx-fp32', 'tiny-f16'])
    const bySize = await table({ sort: 'sizeBytes' })
    expect(bySize.rows[0]!.label, 'smallest file first').toBe('tiny-q4_0')
  })

  it('flagged cells are marked and counted; branch=* shows the PR run', async () => {
    const m = await table()
    const f16 = rowOf(m, 'tiny-f16')
    expect([f16.flags, f16.cells['llama-cpp']!.flags]).toEqual([['client-saturated'], ['client-saturated']])
    expect(m.flaggedCells).toBe(1)
    const html = await (
      await createApp({ db: t.db, auth: {} }).request(`/variants?scenario=${MATRIX}`)
    ).text()
    expect(html).toMatch(/<tr [^>]*data-flags="client-saturated" class="flagged"/)
    expect(html).toContain('<a href="/variants" aria-current="page">Variants</a>')
    expect(html, 'says which load step').toContain(
      'Load step: <strong>step 1: sequential</strong>, the scenario&#39;s first load step (the default)',
    )
    const any = await table({ branch: '*' })
    expect(rowOf(any, 'tiny-q4_0').cells['llama-cpp']!.runId, 'every branch: the newest, on the PR').toBe(
      s.prRun,
    )
  })

  it('the leaderboard ranks one load step too (the first by default, * every step), accuracy rows kept', async () => {
    const board = (q: Record<string, string> = {}) =>
      loadLeaderboard(t.db, parseQuery(leaderboardQuery, { scenario: MATRIX, ...q }))
    const first = await board()
    expect([first.loadChosen, first.load], 'default: the first step').toEqual([
      'first-step',
      first.loads[0]!.key,
    ])
    const seqRuns = Object.values(s.runs).flatMap((r) => (r.seq ? [r.seq] : []))
    const withThroughput = first.rows.filter((r) => r.metrics.outputTokensPerS !== undefined)
    expect(withThroughput.map((r) => r.runId).sort(), 'throughput rows: the sequential runs').toEqual(
      seqRuns.sort(),
    )
    expect(
      first.rows.filter((r) => r.loadKind === 'accuracy').length,
      'accuracy runs are no step: still listed',
    ).toBe(9)
    expect(first.recommendation.bestAccuracy?.label, 'best accuracy still picked').toMatch(/^tiny-(f32|f16)/)
    expect(
      first.rows.find((r) => r.runId === s.runs['tiny-q4_0']!.seq)?.label,
      'one step shown: the load and scenario hash leave the label',
    ).toBe('tiny-q4_0')
    const every = await board({ load: '*' })
    expect(every.loadChosen).toBe('every')
    expect(
      every.rows.filter((r) => r.metrics.outputTokensPerS !== undefined),
      'every step: both',
    ).toHaveLength(seqRuns.length * 2)
    expect(every.rows.find((r) => r.runId === s.runs['tiny-q4_0']!.seq)?.label).toBe(
      'tiny-q4_0 [load: sequential, scenario: scenario hash-mat]',
    )
    const concurrent = await board({ load: first.loads[1]!.key })
    expect(
      concurrent.recommendation.bestThroughput?.runId,
      'best throughput of the concurrent step: a concurrent run',
    ).toBe(s.runs.mock!.conc)
    const html = await (await createApp({ db: t.db, auth: {} }).request(`/?scenario=${MATRIX}`)).text()
    expect(html, 'the page says which step').toContain('Load step: <strong>step 1: sequential</strong>')
  })

  it('a load or sortEngine not in the data: 404 naming the field and the choices; a malformed one 400', async () => {
    const app = createApp({ db: t.db, auth: {} })
    const api = await app.request(`/api/variants?scenario=${MATRIX}&load=ffffffffffff`)
    expect(api.status).toBe(404)
    const body = (await api.json()) as { problems: string[] }
    expect(body.problems[0]).toMatch(
      /^load: scenario "matrix" has no load step ffffffffffff .*step 1: sequential/,
    )
    const engine = await app.request(`/api/variants?scenario=${MATRIX}&sortEngine=vllm`)
    expect(engine.status).toBe(404)
    expect(((await engine.json()) as { problems: string[] }).problems).toEqual([
      'sortEngine: no engine column "vllm" here; use one of llama-cpp, onnx, openai, or leave it out to sort by each row\'s best',
    ])
    expect((await app.request(`/variants?scenario=${MATRIX}&load=xyz`)).status).toBe(400)
    expect((await app.request(`/variants?scenario=${MATRIX}&sort=nope`)).status).toBe(400)
  })
})
