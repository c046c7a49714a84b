import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compareRuns,
  differingDimensions,
  getRunDetail,
  historySeries,
  leaderboard,
  listRunRequests,
  listRuns,
} from '../../db/queries/index.ts'
import type { EnvironmentInfo, VariantIdentity } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { engineInfo } from './fixtures/data.ts'
import { seedRuns } from './fixtures/seed.ts'

const environment: EnvironmentInfo = {
  cpuModel: 'Test CPU',
  cores: 2,
  ramBytes: 8 * 1024 ** 3,
  gpus: [],
  os: 'Linux test',
  nodeVersion: 'v20.20.2',
  engineVersions: {},
}
const base: VariantIdentity = { name: 'tiny', method: 'base', format: 'gguf', sha256: 'a'.repeat(64) }
const q4: VariantIdentity = {
  name: 'tiny-q4',
  method: 'quantized',
  format: 'gguf',
  quantLabel: 'Q4_0',
  parent: base,
}
const main = (commit: string) => ({ git: { branch: 'main', commit } })

describe.each(dbBackends())('queries on %s', (backend) => {
  let t: TestDatabase
  /** r[1] … r[8], as seeded below (index 0 unused). */
  let r: number[]
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    const ids = await seedRuns(t.db, [
      { tag: 1, startedAtIso: '2026-11-20T10:00:00Z', meta: main('c1') },
      {
        tag: 2,
        startedAtIso: '2026-11-20T11:00:00Z',
        errorRequests: 1,
        abortedRequests: 1,
        meta: main('c2'),
      },
      // Another engine version: a different fingerprint of target A.
      {
        tag: 3,
        startedAtIso: '2026-11-20T10:30:00Z',
        meta: { ...main('c1'), engine: { ...engineInfo, engineVersion: 'mock-2' } },
      },
      {
        tag: 4,
        startedAtIso: '2026-11-20T12:00:00Z',
        state: 'failed',
        meta: { ...main('c2'), target: { name: 'B' } },
      },
      {
        tag: 5,
        startedAtIso: '2026-11-20T09:00:00Z',
        meta: { ...main('c1'), target: { name: 'B' }, variant: q4, environment },
      },
      { tag: 6, startedAtIso: '2026-11-20T12:30:00Z', state: 'failed', meta: main('c3') },
      {
        tag: 7,
        startedAtIso: '2026-11-20T11:30:00Z',
        meta: { scenario: { name: 'other', hash: 'scenario-hash-2', source: {} }, ...main('c2') },
      },
      { tag: 8, startedAtIso: '2026-11-20T13:00:00Z', meta: { git: { branch: 'feature', commit: 'f1' } } },
    ])
    r = [0, ...ids]
  })
  afterAll(async () => {
    await t?.dispose()
  })
  const tags = (ids: number[]) => ids.map((id) => r.indexOf(id))

  it('lists runs newest first with filters and paging', async () => {
    expect(tags((await listRuns(t.db)).map((x) => x.id)), 'all').toEqual([8, 6, 4, 7, 2, 3, 1, 5])
    expect(tags((await listRuns(t.db, { scenario: 'db-test' })).map((x) => x.id)), 'scenario').toEqual([
      8, 6, 4, 2, 3, 1, 5,
    ])
    expect(tags((await listRuns(t.db, { target: 'B' })).map((x) => x.id)), 'target').toEqual([4, 5])
    expect(tags((await listRuns(t.db, { state: 'failed' })).map((x) => x.id)), 'state').toEqual([6, 4])
    expect(tags((await listRuns(t.db, { branch: 'feature' })).map((x) => x.id)), 'branch').toEqual([8])
    const window = await listRuns(t.db, {
      since: new Date('2026-11-20T11:00:00Z'),
      until: new Date('2026-11-20T12:30:00Z'),
    })
    expect(tags(window.map((x) => x.id)), 'since (inclusive) / until (exclusive)').toEqual([4, 7, 2])
    expect(tags((await listRuns(t.db, { limit: 2, offset: 1 })).map((x) => x.id)), 'page').toEqual([6, 4])
    const [newest] = await listRuns(t.db, { limit: 1 })
    expect(newest?.metrics.ttftMsP50?.value, 'headline figure').toBe(8)
    expect(newest?.metrics.attempted?.value, 'attempted').toBe(3)
    expect(newest?.importedFormat, 'not imported').toBeNull()
    expect(newest?.gitBranch, 'branch').toBe('feature')
  })

  it('shows a run in full: identity, metrics, request counts', async () => {
    const d = await getRunDetail(t.db, r[5] as number)
    expect(d?.run.targetName, 'target').toBe('B')
    expect(d?.variant?.name, 'variant').toBe('tiny-q4')
    expect(
      d?.variantLineage.map((v) => v.name),
      'lineage',
    ).toEqual(['tiny'])
    expect(d?.environment?.cpuModel, 'environment').toBe('Test CPU')
    expect(d?.metrics.find((m) => m.name === 'ttftMsP50')?.value, 'ttftMsP50').toBe(5)
    expect(d?.requests, 'requests').toEqual({ total: 3, ok: 3, errors: 0, errorsByKind: {}, aborted: 0 })
    const two = await getRunDetail(t.db, r[2] as number)
    expect(two?.requests, 'an error and an aborted request').toEqual({
      total: 5,
      ok: 3,
      errors: 1,
      errorsByKind: { http: 1 },
      aborted: 1,
    })
    expect(two?.variant, 'no variant').toBeNull()
    expect(two?.run.imported, 'not imported').toBeNull()
    expect(await getRunDetail(t.db, 999_999), 'unknown id').toBeUndefined()
  })

  it('pages through requests with chunk gaps decoded and tpotMs computed', async () => {
    const page = await listRunRequests(t.db, r[2] as number, { limit: 2, offset: 1 })
    expect(
      page.map((q) => q.seq),
      'seqs',
    ).toEqual([1, 2])
    expect(page[0]?.chunkGapsMs, 'gaps').toEqual([1.5, 2.25, 3])
    // (e2eMs − ttftMs) / (outputTokens − 1) = 70 / 7.
    expect(page[0]?.tpotMs, 'tpotMs').toBe(10)
    const [error] = await listRunRequests(t.db, r[2] as number, { state: 'error' })
    expect(error?.seq, 'error seq').toBe(3)
    expect(error?.tpotMs, 'no tpot on errors').toBeNull()
    const [lean] = await listRunRequests(t.db, r[2] as number, { limit: 1, chunkGaps: false })
    expect(lean?.chunkGapsMs, 'gaps not read').toBeNull()
  })

  it('builds the leaderboard from the latest comparable completed run per target and fingerprint', async () => {
    const rows = await leaderboard(t.db, { scenario: 'db-test', rankBy: 'ttftMsP50' })
    expect(
      rows.map((x) => [x.targetName, r.indexOf(x.runId)]),
      'rows, best (lowest ttft) first',
    ).toEqual([
      ['mock', 3],
      ['B', 5],
      ['mock', 8],
    ])
    const [v2, b, v1] = rows
    expect(v2?.differsBy, 'labelled by what differs').toEqual(['engine: openai mock-2'])
    expect(v1?.differsBy, 'the other fingerprint').toEqual(['engine: openai mock-1'])
    expect(b?.differsBy, 'a target with one fingerprint').toEqual([])
    expect(v1?.runsInSeries, 'completed runs behind the row (failed ones excluded)').toBe(3)
    expect(v1?.metrics.ttftMsP50?.value, 'headline figure').toBe(8)
    expect(v1?.metrics.errorRate?.value, 'error rate').toBe(0)
    expect(v1?.metrics.tpotMsP95?.value, 'tpot p95').toBe(10)
    expect(v1?.metrics.promptTokensPerS, 'absent figure').toBeUndefined()
    const onMain = await leaderboard(t.db, { scenario: 'db-test', branch: 'main', rankBy: 'ttftMsP50' })
    expect(
      onMain.map((x) => r.indexOf(x.runId)),
      'branch filter',
    ).toEqual([2, 3, 5])
    expect(await leaderboard(t.db, { scenario: 'nothing' }), 'unknown scenario').toEqual([])
  })

  it('returns the history of one figure for one fingerprint, oldest first', async () => {
    const fingerprint = (await getRunDetail(t.db, r[2] as number))?.run.fingerprint as string
    const series = await historySeries(t.db, { fingerprint, metric: 'ttftMsP50' })
    expect(
      series.points.map((p) => [r.indexOf(p.runId), p.value, p.gitCommit]),
      'points',
    ).toEqual([
      [1, 1, 'c1'],
      [2, 2, 'c2'],
      [8, 8, 'f1'],
    ])
    expect(series.points[0]?.n, 'n').toBe(3)
    expect([series.unit, series.direction], 'unit and direction').toEqual(['ms', 'lower'])
    const main = await historySeries(t.db, { fingerprint, metric: 'ttftMsP50', branch: 'main' })
    expect(
      main.points.map((p) => p.value),
      'branch',
    ).toEqual([1, 2])
    const last = await historySeries(t.db, { fingerprint, metric: 'ttftMsP50', limit: 2 })
    expect(
      last.points.map((p) => p.value),
      'the most recent points',
    ).toEqual([2, 8])
    const none = await historySeries(t.db, { fingerprint, metric: 'genTokensPerS' })
    expect([none.points, none.unit], 'a figure the runs lack').toEqual([[], 'tokens/s'])
  })

  it('compares two runs with Δ% and per-request samples', async () => {
    const c = await compareRuns(t.db, r[1] as number, r[2] as number, { chunkGaps: true })
    expect(c?.comparable, 'same fingerprint').toBe(true)
    const ttft = c?.metrics.find((m) => m.name === 'ttftMsP50')
    expect([ttft?.base, ttft?.candidate, ttft?.deltaPct], 'ttftMsP50 1 → 2').toEqual([1, 2, 100])
    const errorRate = c?.metrics.find((m) => m.name === 'errorRate')
    // 0 → 0.25: no relative change from zero.
    expect([errorRate?.base, errorRate?.candidate, errorRate?.deltaPct], 'errorRate').toEqual([0, 0.25, null])
    expect(c?.metrics[0]?.name, 'headline first').toBe('outputTokensPerS')
    expect(c?.samples.base.ttftMs, 'base ttft samples').toEqual([1, 1, 1])
    expect(c?.samples.candidate.tpotMs, 'candidate tpot samples').toEqual([10, 10, 10])
    expect(c?.samples.candidate.e2eMs, 'e2e samples').toEqual([72, 72, 72])
    expect([c?.samples.candidate.ok, c?.samples.candidate.errors], 'ok / errors (aborted not)').toEqual([
      3, 1,
    ])
    expect(c?.samples.base.chunkGapsMs?.length, 'pooled gaps').toBe(9)
    const other = await compareRuns(t.db, r[1] as number, r[3] as number)
    expect(other?.comparable, 'different fingerprints').toBe(false)
    expect(other?.differsBy, 'what differs').toEqual({
      base: ['engine: openai mock-1'],
      candidate: ['engine: openai mock-2'],
    })
    const b = await compareRuns(t.db, r[1] as number, r[5] as number)
    expect(b?.differsBy.base, 'variant and environment').toEqual([
      'model: mock-model',
      'environment: unknown environment',
    ])
    expect(b?.differsBy.candidate[0], 'variant shown by name and quant').toBe('model: tiny-q4 Q4_0')
    expect(b?.differsBy.candidate[1], 'environment shown by machine').toMatch(
      /^environment: Test CPU ×2 \([0-9a-f]{8}\)$/,
    )
    expect(other?.samples.base.chunkGapsMs, 'gaps only on request').toBeUndefined()
    expect(await compareRuns(t.db, r[1] as number, 999_999), 'unknown run').toBeUndefined()
  })
})

describe('differingDimensions', () => {
  const source = {
    engineKind: 'openai',
    engineVersion: '1',
    engineModel: 'm',
    engineOptions: { api: 'chat', model: 'm' },
    load: { kind: 'concurrent', concurrency: 4 },
    scenarioHash: 'abcdef0123',
    environmentHash: null,
    cpuModel: null,
    cores: null,
    variantName: null,
    quantLabel: null,
    variantSha256: null,
  }
  it('names only what differs, option by option', () => {
    expect(
      differingDimensions([
        source,
        {
          ...source,
          engineOptions: { api: 'completions', model: 'm' },
          load: { kind: 'poisson', ratePerS: 2, burstiness: 0.5 },
        },
      ]),
      'options and load',
    ).toEqual([
      ['options.api: chat', 'load: concurrent 4'],
      ['options.api: completions', 'load: poisson 2/s γ=0.5'],
    ])
    expect(differingDimensions([source, { ...source }]), 'nothing differs').toEqual([[], []])
    expect(
      differingDimensions([
        source,
        { ...source, load: { kind: 'concurrent', concurrency: 4, rampUpMs: 10 } },
      ]),
      'a ramp tells two concurrent loads apart',
    ).toEqual([['load: concurrent 4'], ['load: concurrent 4 ramp 10ms']])
  })
})
