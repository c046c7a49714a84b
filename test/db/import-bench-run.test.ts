/**
 * A run exported from one database (`bench export --format json`) stored in another: a new run with the
 * same identity, metrics, requests and chunk gaps (byte for byte), sharing variant and environment rows
 * with runs measured there; stored once however often it is sent; refused with every problem by path;
 * secrets redacted with the receiving machine's environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { count, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Db, selectRows } from '../../db/client.ts'
import { exportRun } from '../../db/export.ts'
import { BenchRunError, parseBenchRun, storeBenchRun } from '../../db/import/bench-run.ts'
import { ImportError, importFile } from '../../db/import/index.ts'
import { getRunDetail, listRunRequests } from '../../db/queries/index.ts'
import { runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { EnvironmentInfo, RequestOutcome, RunMeta, VariantIdentity } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { errorOutcome, okOutcome, runMeta } from './fixtures/data.ts'

const base: VariantIdentity = { name: 'tiny', family: 'tiny', method: 'base', format: 'gguf', bits: 32 }
const q4: VariantIdentity = {
  name: 'tiny-Q4_0',
  family: 'tiny',
  method: 'quantized',
  format: 'gguf',
  quantLabel: 'Q4_0',
  bits: 4.5,
  sizeBytes: 12_345_678,
  sha256: 'a'.repeat(64),
  parent: base,
}
const gpuBox: EnvironmentInfo = {
  cpuModel: 'EPYC 9654',
  cores: 96,
  ramBytes: 768 * 2 ** 30,
  gpus: [{ name: 'H100', vramBytes: 80 * 2 ** 30 }, { name: 'H100' }],
  os: 'Linux 6.1 x64',
  nodeVersion: 'v20.20.2',
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}

/** Gaps whose float32 values have long decimal forms, so a lossy round trip would show. */
const outcomes: RequestOutcome[] = [
  okOutcome(0, { chunkGapsMs: [0.1, 24.327685, 1 / 3, 1e-5, 9999.123], outputTokens: 6 }),
  okOutcome(1, { chunkGapsMs: [], outputTokens: 1, chunks: 1 }),
  errorOutcome(2, 'upstream said "no"'),
  okOutcome(3, { serverTimings: { promptN: 16, predictedMs: 12.5 }, tokensSource: 'tokenizer' }),
]

function meta(startedAtIso: string, overrides: Partial<RunMeta> = {}): RunMeta {
  return runMeta({
    startedAtIso,
    variant: q4,
    environment: gpuBox,
    git: { commit: 'c0ffee', branch: 'main', mergeBase: 'beef' },
    label: 'gpu nightly',
    invocationId: 'inv-1',
    ...overrides,
  })
}

/** One run through the real sink; returns its id. */
async function measure(db: Db, m: RunMeta, list = outcomes, state: 'completed' | 'failed' = 'completed') {
  const sink = createPostgresSink(db)
  const recorder = await sink.startRun(m)
  for (const o of list) recorder.record(o)
  await recorder.finish(state, summarizeRun(list), state === 'failed' ? 'engine crashed' : undefined)
  await sink.close()
  return Number(recorder.runId)
}

async function exported(db: Db, runId: number): Promise<string> {
  let text = ''
  await exportRun(db, runId, {
    format: 'json',
    write: (chunk) => {
      text += chunk
    },
  })
  return text
}

async function gapBytes(db: Db, runId: number) {
  return selectRows<{ seq: number; gaps: string | null }>(
    db,
    sql`select seq, encode(chunk_gaps_ms, 'hex') as gaps from requests where run_id = ${runId} order by seq`,
  )
}

const runCount = async (db: Db) => (await db.select({ n: count() }).from(runs))[0]?.n

describe.each(dbBackends())('bench-run documents on %s', (backend) => {
  let source: TestDatabase
  let central: TestDatabase
  let tmp: string
  let sourceId: number
  let localId: number
  let text: string
  beforeAll(async () => {
    ;[source, central] = await Promise.all([createTestDatabase(backend), createTestDatabase(backend)])
    tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-run-import-'))
    sourceId = await measure(source.db, meta('2026-11-25T10:00:00.123Z'))
    // Measured on the central machine too, on the same variant and (as far as the rows say) hardware.
    localId = await measure(central.db, meta('2026-11-24T09:00:00.000Z', { invocationId: 'inv-0' }))
    text = await exported(source.db, sourceId)
  })
  afterAll(async () => {
    await Promise.all([source?.dispose(), central?.dispose()])
    rmSync(tmp, { recursive: true, force: true })
  })

  let importedId: number
  it('stores the exported run as a new run: same identity, metrics, requests and chunk gap bytes', async () => {
    const file = path.join(tmp, 'run.json')
    writeFileSync(file, text)
    const result = await importFile(central.db, file, { env: {}, now: new Date('2026-11-26T00:00:00Z') })
    expect([result.format, result.state, result.runs.length], 'auto-detected and stored').toEqual([
      'bench-run',
      'imported',
      1,
    ])
    const stored = result.runs[0]
    importedId = stored?.id ?? 0
    expect(importedId, 'a new id').not.toBe(sourceId)
    expect([stored?.metrics, stored?.requests], 'rows written').toEqual([
      JSON.parse(text).metrics.length,
      outcomes.length,
    ])

    const [a, b] = await Promise.all([
      getRunDetail(source.db, sourceId),
      getRunDetail(central.db, importedId),
    ])
    const local = await getRunDetail(central.db, localId)
    if (!a || !b || !local) throw new Error('a run is missing')
    const identity = (d: typeof a) => {
      const {
        id: _id,
        variantId: _v,
        environmentId: _e,
        heartbeatAt: _h,
        imported: _i,
        // The writing process is this database's own (an imported run has none).
        writerPid: _p,
        writerHost: _w,
        ...rest
      } = d.run
      return rest
    }
    expect(identity(b), 'run identity, git, label, state and times kept').toEqual(identity(a))
    expect(b.run.startedAt.toISOString(), 'start time to the ms').toBe('2026-11-25T10:00:00.123Z')
    const figures = (d: typeof a) => d.metrics.map(({ runId: _r, ...m }) => m)
    expect(figures(b), 'every metric').toEqual(figures(a))
    expect(figures(b).length, 'metrics present').toBeGreaterThan(20)
    expect(b.requests, 'request counts').toEqual(a.requests)
    expect(b.run.variantId, 'variant row shared with the run measured here').toBe(local.run.variantId)
    expect(b.run.environmentId, 'environment row shared').toBe(local.run.environmentId)
    expect(
      b.variantLineage.map((v) => v.name),
      'lineage',
    ).toEqual(['tiny'])
    expect(b.run.imported, 'provenance').toEqual({
      format: 'bench-run',
      file: 'run.json',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      importedAt: '2026-11-26T00:00:00.000Z',
      notes: [`run ${sourceId} of the database it was exported from`],
    })

    const rows = async (db: Db, id: number) =>
      (await listRunRequests(db, id, { limit: 100 })).map(({ runId: _r, ...r }) => r)
    expect(await rows(central.db, importedId), 'every request field').toEqual(await rows(source.db, sourceId))
    const [gapsA, gapsB] = await Promise.all([
      gapBytes(source.db, sourceId),
      gapBytes(central.db, importedId),
    ])
    expect(gapsB, 'chunk gaps byte-identical').toEqual(gapsA)
    expect(gapsA[0]?.gaps?.length, '5 gaps × 4 bytes as hex').toBe(40)
  })

  it('stores a run once: the same document again, or re-exported from where it went, answers the same id', async () => {
    const before = await runCount(central.db)
    const again = await storeBenchRun(central.db, parseBenchRun(JSON.parse(text)), { source: 'x', env: {} })
    expect([again.state, again.id], 'same document').toEqual(['already-imported', importedId])
    // The copy's own export (new id, provenance, maybe a new label) is still the same run.
    const copy = JSON.parse(await exported(central.db, importedId))
    copy.run.label = 'relabelled'
    const hop = await storeBenchRun(central.db, parseBenchRun(copy), { source: 'x', env: {} })
    expect([hop.state, hop.id], 're-exported copy').toEqual(['already-imported', importedId])
    expect(await runCount(central.db), 'no run added').toBe(before)
    // Sent back to the machine that measured it: that run is the same one.
    const home = await storeBenchRun(source.db, parseBenchRun(copy), { source: 'x', env: {} })
    expect([home.state, home.id], 'back home').toEqual(['already-imported', sourceId])
    const parallel = JSON.parse(text)
    parallel.run.startedAt = '2026-11-25T11:00:00.000Z'
    const twice = await Promise.all([
      storeBenchRun(central.db, parseBenchRun(parallel), { source: 'x', env: {} }),
      storeBenchRun(central.db, parseBenchRun(parallel), { source: 'x', env: {} }),
    ])
    expect(twice.map((r) => r.state).sort(), 'two at once: one stores, the other finds it').toEqual([
      'already-imported',
      'imported',
    ])
    expect(twice[0]?.id, 'same id').toBe(twice[1]?.id)
  })

  it('keeps a failed run and its error, and a run without variant or environment', async () => {
    const failedId = await measure(
      source.db,
      meta('2026-11-25T12:00:00.000Z', { variant: undefined, environment: undefined, label: undefined }),
      [errorOutcome(0, 'boom')],
      'failed',
    )
    const doc = parseBenchRun(JSON.parse(await exported(source.db, failedId)))
    const stored = await storeBenchRun(central.db, doc, { source: 'x', env: {} })
    const detail = await getRunDetail(central.db, stored.id)
    expect(
      [detail?.run.state, detail?.run.error, detail?.run.label, detail?.variant, detail?.environment],
      'as measured',
    ).toEqual(['failed', 'engine crashed', null, null, null])
  })

  it('names every problem of a malformed document by its path', () => {
    const doc = JSON.parse(text)
    delete doc.run.fingerprint
    doc.run.state = 'running'
    doc.requests[1].ttftMs = 'fast'
    doc.requests[2].seq = 0
    doc.metrics[0].direction = 'up'
    doc.version = 2
    let problems: string[] = []
    try {
      parseBenchRun(doc)
    } catch (err) {
      expect(err, 'error class').toBeInstanceOf(BenchRunError)
      problems = (err as BenchRunError).problems
    }
    expect(problems, 'each problem at its path').toEqual([
      expect.stringMatching(/^version: expected 1, the version this bench reads/),
      expect.stringMatching(/^run\.fingerprint: /),
      expect.stringMatching(/^run\.state: the run is still running: push it once it has finished/),
      expect.stringMatching(/^metrics\[0\]\.direction: /),
      expect.stringMatching(/^requests\[1\]\.ttftMs: .*expected number/),
    ])
    const dup = JSON.parse(text)
    dup.requests[2].seq = 0
    dup.requestCounts.total = 9
    expect(() => parseBenchRun(dup), 'what zod cannot see').toThrow(
      /requests\[2\]\.seq: 0 appears more than once.*requests: 4 rows, but requestCounts\.total says 9: the document was cut short/,
    )
    expect(() => parseBenchRun([]), 'not an object').toThrow(/\(root\): expected a JSON object/)
    expect(() => parseBenchRun({ run: {} }), 'not ours').toThrow(
      /format: expected "bench-run": send the document `bench export <id> --format json` writes/,
    )
  })

  it('refuses a bad file naming it, with --format bench-run too', async () => {
    const file = path.join(tmp, 'cut.json')
    const doc = JSON.parse(text)
    doc.requests.pop()
    writeFileSync(file, JSON.stringify(doc))
    const error = await importFile(central.db, file, { format: 'bench-run', env: {} }).catch(
      (e: unknown) => e,
    )
    expect(error, 'class').toBeInstanceOf(ImportError)
    expect((error as Error).message, 'message').toMatch(
      /^cannot import .*cut\.json: not a valid bench-run document: requests: 3 rows, but requestCounts\.total says 4/,
    )
    const two = path.join(tmp, 'two.jsonl')
    writeFileSync(two, `${JSON.stringify(JSON.parse(text))}\n${JSON.stringify(JSON.parse(text))}\n`)
    await expect(importFile(central.db, two, { env: {} }), 'one run per file').rejects.toThrow(
      /two\.jsonl: it holds 2 documents; a bench-run file holds one run/,
    )
  })

  it('does not store secrets: credential keys dropped, this machine’s secret values redacted', async () => {
    const doc = JSON.parse(text)
    doc.run.startedAt = '2026-11-25T13:00:00.000Z'
    doc.run.engineOptions = {
      ...doc.run.engineOptions,
      headers: { Authorization: 'Bearer sk-live-header-0123456789' },
      apiKey: 'sk-live-option-0123456789',
    }
    doc.run.label = 'key sk-env-secret-0123456789 leaked'
    doc.requests[2].message = 'Incorrect API key provided: sk-env-secret-0123456789'
    const stored = await storeBenchRun(central.db, parseBenchRun(doc), {
      source: 'x',
      env: { OPENAI_API_KEY: 'sk-env-secret-0123456789' },
    })
    const [row] = await central.db.select().from(runs).where(eq(runs.id, stored.id))
    const requests = await listRunRequests(central.db, stored.id)
    const everything = JSON.stringify({ row, requests })
    for (const secret of ['sk-live-header', 'sk-live-option', 'sk-env-secret'])
      expect(everything.includes(secret), `${secret} not stored`).toBe(false)
    expect(row?.engineOptions, 'credential keys kept, values dropped').toMatchObject({
      headers: { Authorization: '[redacted]' },
      apiKey: '[redacted]',
    })
    expect(row?.label, 'env value replaced').toBe('key [redacted:OPENAI_API_KEY] leaked')
    expect(requests[2]?.message, 'request message').toBe(
      'Incorrect API key provided: [redacted:OPENAI_API_KEY]',
    )
  })

  it('inserts a large run in batches', async () => {
    const doc = JSON.parse(text)
    doc.run.startedAt = '2026-11-25T14:00:00.000Z'
    const template = doc.requests[0]
    const n = 12_345
    doc.requests = Array.from({ length: n }, (_, seq) => ({ ...template, seq, ttftMs: seq / 8 }))
    doc.requestCounts.total = n
    const stored = await storeBenchRun(central.db, parseBenchRun(doc), { source: 'x', env: {} })
    expect(stored.requests, 'reported').toBe(n)
    const [stats] = await selectRows<{ n: number; max_seq: number; sum_ttft: number }>(
      central.db,
      sql`select count(*)::int as n, max(seq) as max_seq, sum(ttft_ms) as sum_ttft from requests where run_id = ${stored.id}`,
    )
    // Σ seq/8 over 0 … n−1 = n(n−1)/16
    expect(stats, 'every row across batches').toEqual({ n, max_seq: n - 1, sum_ttft: (n * (n - 1)) / 16 })
  })

  it('streams a large file: the same rows as read whole, secrets redacted, a bad row refused with nothing kept', async () => {
    const doc = JSON.parse(text)
    doc.run.startedAt = '2026-11-25T15:00:00.000Z'
    doc.run.label = 'key sk-stream-secret-0123 leaked'
    const template = doc.requests[0]
    const n = 3_001
    doc.requests = Array.from({ length: n }, (_, seq) => ({ ...template, seq, ttftMs: seq / 8 }))
    doc.requestCounts.total = n
    const file = path.join(tmp, 'large.json')
    writeFileSync(file, JSON.stringify(doc, null, 2))
    const env = { OPENAI_API_KEY: 'sk-stream-secret-0123' }
    // Every file is "large" here: the streamed path, as for a file past 8 MiB.
    const result = await importFile(central.db, file, { env, streamAboveBytes: 0 })
    const id = result.runs[0]?.id as number
    expect([result.state, result.runs[0]?.requests], 'stored').toEqual(['imported', n])
    const [stats] = await selectRows<{ n: number; sum_ttft: number }>(
      central.db,
      sql`select count(*)::int as n, sum(ttft_ms) as sum_ttft from requests where run_id = ${id}`,
    )
    expect(stats, 'every row').toEqual({ n, sum_ttft: (n * (n - 1)) / 16 })
    const [row] = await central.db
      .select({ label: runs.label, state: runs.state })
      .from(runs)
      .where(eq(runs.id, id))
    expect(row, 'redacted, its own state').toEqual({
      label: 'key [redacted:OPENAI_API_KEY] leaked',
      state: 'completed',
    })
    expect((await importFile(central.db, file, { env, streamAboveBytes: 0 })).state, 'again').toBe(
      'already-imported',
    )

    const before = await runCount(central.db)
    doc.run.startedAt = '2026-11-25T16:00:00.000Z'
    doc.requests[2500].ttftMs = 'soon'
    writeFileSync(file, JSON.stringify(doc, null, 2))
    await expect(importFile(central.db, file, { env, streamAboveBytes: 0 }), 'bad row').rejects.toThrow(
      /requests\[2500\]\.ttftMs/,
    )
    expect(await runCount(central.db), 'nothing kept').toBe(before)
  })
})
