/**
 * export → import keeps every field: a run of every outcome kind (test/db/fixtures/every-outcome.ts) with
 * a variant lineage, an environment, git, label and invocation, recorded through the real sink, exported
 * as a bench-run document and stored in another database, whole (storeBenchRun) and streamed
 * (streamBenchRun). Each stored request gives back its outcome (db/request-rows.ts), and the document
 * exported from the receiving database reads (db/bench-run-document.ts) the same as the one sent, but for
 * the source's id and the provenance the import adds. And the document as older exports wrote it (before
 * connectionRetries, roles and lineage were exported) still reads, with the values those versions meant.
 * An accuracy run's items (every form in every-outcome.ts) go the same way.
 */
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromItemRow, listAccuracyItems } from '../../db/accuracy-items.ts'
import { type BenchRunDocument, documentSchema } from '../../db/bench-run-document.ts'
import type { Db } from '../../db/client.ts'
import { exportRun } from '../../db/export.ts'
import { parseBenchRun, storeBenchRun } from '../../db/import/bench-run.ts'
import { streamBenchRun } from '../../db/import/bench-run-stream.ts'
import { fromRequestRow } from '../../db/request-rows.ts'
import { type RequestRow, requests } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { accuracyMetricRows, summarizeItems } from '../../harness/accuracy/run-metrics.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { EnvironmentInfo, VariantIdentity } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { runMeta } from './fixtures/data.ts'
import { accuracySpec, asStored, items, outcomes } from './fixtures/every-outcome.ts'

const base: VariantIdentity = { name: 'tiny', family: 'tiny', method: 'base', format: 'gguf', bits: 32 }
const q8: VariantIdentity = {
  name: 'tiny-Q8_0',
  family: 'tiny',
  method: 'quantized',
  format: 'gguf',
  quantLabel: 'Q8_0',
  bits: 8.5,
  sizeBytes: 7_654_321,
  sha256: 'b'.repeat(64),
  parent: base,
}
const pruned: VariantIdentity = { name: 'tiny-Q8_0-pruned', method: 'pruned', format: 'gguf', parent: q8 }
const machine: EnvironmentInfo = {
  cpuModel: 'Test CPU',
  cores: 8,
  ramBytes: 32 * 2 ** 30,
  gpus: [{ name: 'Test GPU', vramBytes: 24 * 2 ** 30 }, { name: 'Other GPU' }],
  os: 'Linux 6.1 x64',
  nodeVersion: 'v20.20.2',
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}

async function exported(db: Db, runId: number): Promise<string> {
  let text = ''
  await exportRun(db, runId, {
    format: 'json',
    env: {},
    write: (chunk) => {
      text += chunk
    },
  })
  return text
}

async function storedOutcomes(db: Db, runId: number) {
  const rows = await db.select().from(requests).where(eq(requests.runId, runId)).orderBy(asc(requests.seq))
  return rows.map((r) => fromRequestRow(r as RequestRow))
}

/** The document as read, without what differs by database: the run's source id and its provenance. */
function comparable(doc: BenchRunDocument) {
  const { id: _id, imported: _imported, ...run } = doc.run
  return { ...doc, run }
}

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

describe.each(dbBackends())('export → import round trip on %s', (backend) => {
  let source: TestDatabase
  let central: TestDatabase
  let text: string
  let sent: BenchRunDocument
  beforeAll(async () => {
    ;[source, central] = await Promise.all([createTestDatabase(backend), createTestDatabase(backend)])
    const sink = createPostgresSink(source.db)
    const recorder = await sink.startRun(
      runMeta({
        startedAtIso: '2026-11-25T10:00:00.123Z',
        variant: pruned,
        environment: machine,
        git: { commit: 'c0ffee', branch: 'main', mergeBase: 'beef' },
        label: 'every outcome',
        invocationId: 'inv-every',
      }),
    )
    for (const o of outcomes) recorder.record(o)
    await recorder.finish('failed', summarizeRun(outcomes), 'engine crashed at the end')
    await sink.close()
    text = await exported(source.db, Number(recorder.runId))
    sent = parseBenchRun(JSON.parse(text))
  })
  afterAll(async () => {
    await Promise.all([source?.dispose(), central?.dispose()])
  })

  it('sends every outcome kind, a two-step lineage and the failed state', () => {
    expect(
      sent.requests.map((r) => [r.seq, r.state, r.errorKind]),
      'requests',
    ).toEqual(outcomes.map((o) => [o.seq, o.state, o.state === 'error' ? o.error.kind : null]))
    expect([sent.variant?.name, ...sent.variantLineage.map((v) => v.name)], 'lineage').toEqual([
      'tiny-Q8_0-pruned',
      'tiny-Q8_0',
      'tiny',
    ])
    expect([sent.run.state, sent.run.error], 'state').toEqual(['failed', 'engine crashed at the end'])
  })

  it.each([
    [
      'whole',
      (db: Db) => storeBenchRun(db, parseBenchRun(JSON.parse(text)), { source: 'whole.json', env: {} }),
    ],
    // 97-byte chunks and batches of 3 rows: every request crosses a chunk edge, and rows go in several batches.
    [
      'streamed',
      (db: Db) => streamBenchRun(db, chunksOf(text, 97), { source: 'stream', env: {}, batchSize: 3 }),
    ],
  ] as const)('gives back every field stored %s', async (_how, store) => {
    // Each case stores into a fresh database: the same run twice would be answered as already here.
    const target = await createTestDatabase(backend)
    try {
      const stored = await store(target.db)
      expect(stored.state, 'a new run').toBe('imported')
      expect(await storedOutcomes(target.db, stored.id), 'every outcome, as the row codec reads it').toEqual(
        outcomes.map(asStored),
      )
      const back = parseBenchRun(JSON.parse(await exported(target.db, stored.id)))
      expect(comparable(back), 'the document exported from the receiving database').toEqual(comparable(sent))
      expect(back.run.imported?.format, 'provenance added').toBe('bench-run')
    } finally {
      await target.dispose()
    }
  })

  it('reads a document as older exports wrote it (no connectionRetries, role or lineage)', async () => {
    const old = JSON.parse(text) as Record<string, unknown> & {
      run: Record<string, unknown>
      requests: Record<string, unknown>[]
    }
    delete old.variantLineage
    delete old.run.role
    for (const r of old.requests) delete r.connectionRetries
    const doc = parseBenchRun(old)
    expect([doc.run.role, doc.variantLineage], 'defaults').toEqual(['run', []])
    expect(
      doc.requests.map((r) => r.connectionRetries),
      'never retried',
    ).toEqual(outcomes.map(() => 0))
    const stored = await storeBenchRun(central.db, doc, { source: 'old.json', env: {} })
    expect(stored.state, 'stored').toBe('imported')
    expect(
      (await storedOutcomes(central.db, stored.id)).map((o) =>
        typeof o === 'string' ? o : o.connectionRetries,
      ),
      'read back as never retried (absent)',
    ).toEqual(outcomes.map(() => undefined))
  })

  it('refuses a document of another version, saying which one this bench reads', () => {
    const result = documentSchema.safeParse({ ...JSON.parse(text), version: 2 })
    expect(result.success, 'version 2').toBe(false)
    expect(result.error?.issues[0]?.message, 'message').toMatch(/expected 1, the version this bench reads/)
  })
})

describe.each(dbBackends())('export → import of an accuracy run on %s', (backend) => {
  let source: TestDatabase
  let text: string
  beforeAll(async () => {
    source = await createTestDatabase(backend)
    const sink = createPostgresSink(source.db)
    const recorder = await sink.startRun(
      runMeta({ startedAtIso: '2026-11-25T11:00:00.000Z', load: accuracySpec, loadIndex: 1 }),
    )
    for (const item of items) recorder.recordItem(item)
    await recorder.finish('completed', accuracyMetricRows(summarizeItems(items)))
    await sink.close()
    text = await exported(source.db, Number(recorder.runId))
  })
  afterAll(async () => {
    await source?.dispose()
  })

  it.each([
    [
      'whole',
      (db: Db) => storeBenchRun(db, parseBenchRun(JSON.parse(text)), { source: 'acc.json', env: {} }),
    ],
    ['streamed', (db: Db) => streamBenchRun(db, chunksOf(text, 61), { source: 'stream', env: {} })],
  ] as const)('gives back every item, the spec and the figures stored %s', async (_how, store) => {
    const sent = parseBenchRun(JSON.parse(text))
    expect(sent.items, 'every item in the document').toHaveLength(items.length)
    expect(sent.run.loadKind, 'load kind').toBe('accuracy')
    const target = await createTestDatabase(backend)
    try {
      const stored = await store(target.db)
      expect(stored.state, 'a new run').toBe('imported')
      expect(
        (await listAccuracyItems(target.db, stored.id)).map(fromItemRow),
        'every item as scored (float8 scores exact)',
      ).toEqual(items)
      const back = parseBenchRun(JSON.parse(await exported(target.db, stored.id)))
      expect(comparable(back), 'the document exported from the receiving database').toEqual(comparable(sent))
      expect(back.metrics.find((m) => m.name === 'acc')?.direction, 'acc: higher is better').toBe('higher')
    } finally {
      await target.dispose()
    }
  })

  it('refuses a document naming an item twice', () => {
    const doc = JSON.parse(text) as { items: unknown[] }
    doc.items.push(doc.items[0])
    expect(() => parseBenchRun(doc), 'duplicate seq').toThrow(/items\[12\]\.seq: 0 appears more than once/)
  })
})
