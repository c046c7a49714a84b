/**
 * Procurement per serving machine, through the app on each backend, with runs written by the real sink:
 * one client box (2 cores, $0.1/h) ran every target — two llama-cpp targets and three openai endpoints.
 * Two endpoints of model m7 get serving identities (one declared in the scenario, one set on the
 * dashboard with the token), one endpoint of another model has none. Expected: each endpoint priced by
 * its own identity and never by the client's $0.1/h; ranking within model m7 across hardware and engines
 * (the random-weights fixture, fastest and cheapest, is another model); the unpriced endpoint listed with
 * how to set one; a confirm re-run and a PR-branch run left out; goodput at the scenario's e2eMs bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import type { ProcurementModel, RankedTarget } from '../../dashboard/data/procurement.ts'
import type { Db } from '../../db/client.ts'
import { markConfirmRuns } from '../../db/gate/runs.ts'
import { createPostgresSink } from '../../db/sink.ts'
import type { EngineInfo } from '../../harness/engines/engine.ts'
import { summarizeRun } from '../../harness/metrics/run.ts'
import type { EnvironmentInfo, RequestOutcome, RunMeta, VariantIdentity } from '../../harness/results.ts'
import { getJson } from '../helpers/app-json.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

const TOKEN = 'serving-token'
const SCENARIO = 'fleet'
const CLIENT: EnvironmentInfo = {
  cpuModel: 'AMD EPYC 7B13',
  cores: 2,
  ramBytes: 8 * 1024 ** 3,
  gpus: [],
  os: 'Linux client x64',
  nodeVersion: 'v20.20.2',
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}
const L4 = { hardware: 'AWS g6.xlarge', gpu: 'NVIDIA L4', gpuCount: 1, pricePerHour: 0.8 }
/** The scenario as the runner stores it with every run: l4 declares its serving machine, e2eMs SLO only. */
const SOURCE = {
  name: SCENARIO,
  slo: { e2eMs: 1500 },
  targets: [
    { name: 'local-q4', engine: { kind: 'llama-cpp', model: 'm7-q4.gguf' } },
    { name: 'l4', engine: { kind: 'openai', model: 'm7', baseUrl: 'http://l4/v1' }, serving: L4 },
    { name: 'h100', engine: { kind: 'openai', model: 'm7', baseUrl: 'http://h100/v1' } },
    { name: 'bare', engine: { kind: 'openai', model: 'other-model', baseUrl: 'http://bare/v1' } },
    { name: 'random', engine: { kind: 'llama-cpp', model: 'random.gguf' } },
  ],
}

const llama = (model: string): EngineInfo => ({
  kind: 'llama-cpp',
  engineVersion: '3.21.1',
  model,
  capabilities: { logprobs: false, scoreChoices: false, tokenize: true, memory: true, draft: false },
})
const openai = (model: string): EngineInfo => ({
  kind: 'openai',
  engineVersion: 'vllm-0.9',
  model,
  capabilities: { logprobs: false, scoreChoices: false, tokenize: false, memory: false, draft: false },
})
const variant = (name: string, family: string, format: VariantIdentity['format']): VariantIdentity => ({
  name,
  family,
  method: 'base',
  format,
})

/** [startedAt, ttftMs, e2eMs, outputTokens] per request. */
function outcomes(timings: readonly [number, number, number, number][]): RequestOutcome[] {
  return timings.map(([startedAt, ttftMs, e2eMs, outputTokens], seq) => ({
    state: 'ok',
    seq,
    promptIndex: 0,
    scheduledAt: startedAt,
    startedAt,
    ttftMs,
    e2eMs,
    chunkGapsMs: Array.from({ length: outputTokens - 1 }, () => (e2eMs - ttftMs) / (outputTokens - 1)),
    chunks: outputTokens,
    promptTokens: 16,
    outputTokens,
    tokensSource: 'server',
  }))
}

/**
 * One completed run of `target`, its stored outputTokensPerS set to `tps` (the seeded figure procurement
 * divides; goodput is recomputed from the requests).
 */
async function seed(db: Db) {
  const sink = createPostgresSink(db, { flushIntervalMs: 10 })
  let minute = 0
  const write = async (
    target: string,
    engine: EngineInfo,
    v: VariantIdentity | undefined,
    tps: number,
    options: { branch?: string; label?: string; timings?: [number, number, number, number][] } = {},
  ) => {
    const meta: RunMeta = {
      scenario: { name: SCENARIO, hash: 'hash-fleet', source: SOURCE },
      target: { name: target },
      ...(v ? { variant: v } : {}),
      engine,
      engineOptions: { kind: engine.kind, model: engine.model },
      load: { kind: 'concurrent', concurrency: 4, durationS: 60 },
      loadIndex: 0,
      ...(options.label ? { label: options.label } : {}),
      startedAtIso: `2026-11-20T01:${String(minute++).padStart(2, '0')}:00Z`,
      clockOrigin: 0,
      environment: CLIENT,
      git: { commit: 'c'.repeat(40), branch: options.branch ?? 'main' },
    }
    const recorder = await sink.startRun(meta)
    const list = outcomes(options.timings ?? [[0, 100, 1000, 10]])
    for (const o of list) recorder.record(o)
    await recorder.finish('completed', {
      ...summarizeRun(list, {}),
      outputTokensPerS: tps,
      ...(engine.kind === 'llama-cpp' ? { peakRssBytes: 1e9 } : {}),
    })
    return Number(recorder.runId)
  }
  try {
    const ids = {
      local: await write('local-q4', llama('m7-q4.gguf'), variant('m7-q4', 'm7', 'gguf'), 30),
      // Requests of e2e 1000, 1000 and 2000 ms over a 2 s window: 2 meet e2eMs ≤ 1500 → 1 request/s.
      l4: await write('l4', openai('m7'), variant('m7', 'm7', 'remote'), 400, {
        timings: [
          [0, 100, 1000, 10],
          [0, 100, 1000, 10],
          [0, 100, 2000, 10],
        ],
      }),
      h100: await write('h100', openai('m7'), variant('m7', 'm7', 'remote'), 4000),
      bare: await write('bare', openai('other-model'), undefined, 300),
      random: await write('random', llama('random.gguf'), variant('random', 'm7-random', 'gguf'), 5000),
      // Newer runs of l4 that must not become its row: a PR branch's, and a gate confirm re-run.
      pr: await write('l4', openai('m7'), variant('m7', 'm7', 'remote'), 88_888, { branch: 'pr-fast' }),
      confirm: await write('l4', openai('m7'), variant('m7', 'm7', 'remote'), 99_999, { label: 'confirm-1' }),
    }
    await markConfirmRuns(db, 'confirm-1')
    return ids
  } finally {
    await sink.close()
  }
}

describe.each(dbBackends())('procurement per serving machine on %s', (backend) => {
  let t: TestDatabase
  let app: ReturnType<typeof createApp>
  let ids: Awaited<ReturnType<typeof seed>>
  const errors: unknown[] = []

  beforeAll(async () => {
    t = await createTestDatabase(backend)
    ids = await seed(t.db)
    app = createApp({ db: t.db, auth: { token: TOKEN }, logError: (e) => errors.push(e) })
  })
  afterAll(async () => {
    expect(errors, 'no 500s logged').toEqual([])
    await t?.dispose()
  })

  const json = <T>(path: string, status = 200) => getJson<T>(app, path, status)
  const send = (path: string, body: unknown, token: string | null = TOKEN) =>
    app.request(path, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
  const row = (m: ProcurementModel, target: string): RankedTarget => {
    const r = m.rows.find((x) => x.targetName === target)
    if (!r) throw new Error(`no row ${target} among ${m.rows.map((x) => x.targetName).join(', ')}`)
    return r
  }

  it('prices each endpoint by its own serving identity, never the client, and ranks per model', async () => {
    const before = await json<ProcurementModel>(`/api/procurement?scenario=${SCENARIO}`)
    const client = before.environments.map((e) => [e.hardware, e.targets])
    expect(client, 'only native targets are on the client box; cores read as cores').toEqual([
      ['AMD EPYC 7B13 · 2 cores', ['local-q4', 'random']],
    ])
    const clientId = before.environments[0]!.id
    expect((await send(`/api/environments/${clientId}/price`, { usdPerHour: 0.1 })).status).toBe(200)
    const refused = await send(
      '/api/serving',
      {
        scenario: SCENARIO,
        target: 'h100',
        hardware: 'AWS p5.48xlarge',
        usdPerHour: 98.32,
      },
      null,
    )
    expect(refused.status, 'a serving write needs the token').toBe(401)
    const unknown = await send('/api/serving', {
      scenario: SCENARIO,
      target: 'nope',
      hardware: 'x',
      usdPerHour: 1,
    })
    expect(
      [unknown.status, ((await unknown.json()) as { problems: string[] }).problems],
      'unknown target',
    ).toEqual([404, ['scenario "fleet" has no run of target "nope"']])
    const native = await send('/api/serving', {
      scenario: SCENARIO,
      target: 'local-q4',
      hardware: 'x',
      usdPerHour: 1,
    })
    expect(
      [native.status, ((await native.json()) as { problems: string[] }).problems],
      'a native target is priced by its environment',
    ).toEqual([
      400,
      [
        `target: "local-q4" runs on llama-cpp, served by the machine that ran it: price its environment (#${clientId}) with PUT /api/environments/:id/price instead`,
      ],
    ])
    const bad = await send('/api/serving', {
      scenario: SCENARIO,
      target: 'h100',
      hardware: ' ',
      usdPerHour: 0,
    })
    expect(((await bad.json()) as { problems: string[] }).problems, 'bad fields named').toEqual([
      'hardware: describe the serving machine, e.g. "AWS g6.xlarge"',
      'usdPerHour: must be > 0 (US dollars per hour)',
    ])
    const set = await send('/api/serving', {
      scenario: SCENARIO,
      target: 'h100',
      hardware: 'AWS p5.48xlarge',
      gpu: 'NVIDIA H100',
      gpuCount: 8,
      usdPerHour: 98.32,
      by: 'ana',
    })
    expect(set.status, 'set with the token').toBe(200)

    const m = await json<ProcurementModel>(`/api/procurement?scenario=${SCENARIO}`)
    expect(m.model, 'the model with the most targets').toBe('family:m7')
    expect(
      m.rows.map((r) => [r.targetName, r.rank, r.hardware, r.servingSource, r.figures.usdPerHour]),
      'model m7 across hardware and engines: 400 / 0.8, 30 / 0.1, 4000 / 98.32',
    ).toEqual([
      ['l4', 1, '1× NVIDIA L4 · AWS g6.xlarge', 'scenario', 0.8],
      ['local-q4', 2, 'AMD EPYC 7B13 · 2 cores', 'environment', 0.1],
      ['h100', 3, '8× NVIDIA H100 · AWS p5.48xlarge', 'dashboard', 98.32],
    ])
    expect(row(m, 'l4').value, 'l4: 500 tokens/s per $/h, not 400 / 0.1').toBe(500)
    expect(row(m, 'h100').value, 'h100').toBeCloseTo(4000 / 98.32, 12)
    expect(row(m, 'l4').runId, 'main, no confirm re-run: the 400 tokens/s run').toBe(ids.l4)
    expect(m.view.branch, 'default branch').toBe('main')
    expect(
      m.models.map((x) => [x.key, x.targets, x.best?.label ?? null]),
      'each model and its best',
    ).toEqual([
      ['family:m7', 3, 'l4'],
      ['family:m7-random', 1, 'random'],
      ['model:other-model', 1, null],
    ])
    expect(m.recommendation.text, 'recommendation names the model').toMatch(
      /^By cost efficiency for model m7, choose l4: 500 tokens\/s per \$\/h \(1,800,000 output tokens per dollar at \$0\.8\/h\), 1\.67× the next, local-q4 \(300 tokens\/s per \$\/h\)\.$/,
    )
    expect(
      m.endpoints.map((e) => [
        e.targetName,
        e.identity?.source ?? 'unpriced',
        e.identity?.usdPerHour ?? null,
      ]),
      'endpoints with their serving identities; bare unpriced',
    ).toEqual([
      ['bare', 'unpriced', null],
      ['h100', 'dashboard', 98.32],
      ['l4', 'scenario', 0.8],
    ])

    const other = await json<ProcurementModel>(
      `/api/procurement?scenario=${SCENARIO}&model=model:other-model`,
    )
    expect(
      other.rows.map((r) => [r.targetName, r.rank, r.figures.usdPerHour, r.servingSource]),
      "the unpriced endpoint: no price, not the client's",
    ).toEqual([['bare', null, null, 'unpriced endpoint']])
    expect(other.rows[0]!.unrankedReason).toMatch(
      /^unpriced endpoint: the run's environment is the client that ran bench, never priced for a remote endpoint; add serving: \{ hardware, gpu, gpuCount, pricePerHour \} to the target in the scenario, or set it/,
    )

    const problems = async (query: string, status: number) =>
      (await json<{ problems: string[] }>(`/api/procurement?scenario=${SCENARIO}&${query}`, status)).problems
    expect(
      await problems(`model=model:other-model&targets=${row(m, 'l4').fingerprint}`, 400),
      'ticked targets of another model',
    ).toEqual([
      'targets: none of them serves model "model:other-model"; tick targets of that model, or leave model out to follow the targets',
    ])
    expect(await problems('model=nope', 404), 'unknown model').toEqual([
      'model: no target of this load serves "nope"; choose one of "family:m7", "family:m7-random", "model:other-model", or * for every model',
    ])
    const all = await json<ProcurementModel>(`/api/procurement?scenario=${SCENARIO}&model=*`)
    const random = row(all, 'random').fingerprint
    const ticked = await json<ProcurementModel>(`/api/procurement?scenario=${SCENARIO}&targets=${random}`)
    expect(ticked.model, 'the model follows the ticked targets').toBe('family:m7-random')
    expect(
      ticked.models.map((x) => [x.key, x.best?.label ?? null]),
      "every model's best whichever targets are ticked",
    ).toEqual([
      ['family:m7', 'l4'],
      ['family:m7-random', 'random'],
      ['model:other-model', null],
    ])
    expect(all.rows[0]?.targetName, 'every model together: the random fixture first').toBe('random')
    expect(all.recommendation.text, 'said to be different models').toContain(
      'These are different models ranked together (model=*)',
    )
    const everyBranch = await json<ProcurementModel>(
      `/api/procurement?scenario=${SCENARIO}&branch=*&role=any`,
    )
    expect(row(everyBranch, 'l4').runId, 'asked for every branch and role: the newest l4 run').toBe(
      ids.confirm,
    )

    const page = await (await app.request(`/procurement?scenario=${SCENARIO}`)).text()
    expect(page, 'endpoint serving form').toContain('data-serving-for="bare"')
    expect(page, 'unpriced endpoint says how').toContain('unpriced<br><small>add serving:')
    expect(page, 'cores as cores').toContain('AMD EPYC 7B13 · 2 cores')
    expect(page, 'no ×2').not.toContain('AMD EPYC 7B13 ×2')
  })

  it('measures goodput at every SLO bound the scenario sets, e2eMs included', async () => {
    const m = await json<ProcurementModel>(`/api/procurement?scenario=${SCENARIO}&rank=goodput`)
    expect(m.slo, "the scenario's e2eMs bound").toEqual({
      ttftMs: null,
      tpotMs: null,
      e2eMs: 1500,
      source: 'scenario',
    })
    const l4 = row(m, 'l4')
    expect(
      [l4.figures.goodputRequestsPerS, l4.figures.goodFraction],
      'l4: 2 of 3 requests within 1500 ms over 2 s',
    ).toEqual([1, 2 / 3])
    const asked = row(
      await json<ProcurementModel>(`/api/procurement?scenario=${SCENARIO}&rank=goodput&sloE2eMs=2500`),
      'l4',
    )
    expect(asked.figures.goodputRequestsPerS, 'sloE2eMs=2500: all 3 over 2 s').toBe(1.5)
  })
})
