import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { runFingerprint } from '../../db/identity.ts'
import { describeDb } from '../../db/info.ts'
import { insertRequests, REQUEST_COLUMNS } from '../../db/insert-requests.ts'
import { markInterruptedRuns } from '../../db/liveness.ts'
import { environments, requests, runMetrics, runs, variants } from '../../db/schema.ts'
import { createPostgresSink, SinkWriteError } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { EnvironmentInfo, VariantIdentity } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { eventually } from './fixtures/child.ts'
import { errorOutcome, okOutcome, runMeta } from './fixtures/data.ts'

const environment: EnvironmentInfo = {
  cpuModel: 'Test CPU @ 2.0GHz',
  cores: 2,
  ramBytes: 24 * 1024 ** 3,
  gpus: [],
  os: 'Linux 6.1.0 x64',
  nodeVersion: 'v20.20.2',
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}

describe.each(dbBackends())('database on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('applies every migration and reports the schema version', async () => {
    const info = await describeDb(t.db)
    expect(info.schema.applied, 'applied').toBe(info.schema.known)
    expect(info.schema.version, 'version').toMatch(/^\d{4}_/)
    expect(info.driver, 'driver').toBe(backend === 'pglite' ? 'pglite' : 'postgres')
    // Opening again migrates nothing new.
    const again = await createDb(t.options)
    try {
      expect((await describeDb(again)).schema.applied, 'applied after reopening').toBe(info.schema.applied)
    } finally {
      await again.close()
    }
  })

  it('writes the run row before any outcome, then outcomes within the flush interval', async () => {
    const sink = createPostgresSink(t.db, { flushIntervalMs: 250 })
    const recorder = await sink.startRun(runMeta({ label: 'ordering' }))
    const id = Number(recorder.runId)
    const [row] = await t.db.select().from(runs).where(eq(runs.id, id))
    expect(row?.state, 'state before the first request').toBe('running')
    expect(row?.scenarioName, 'scenario').toBe('db-test')
    expect(row?.loadKind, 'load kind').toBe('concurrent')
    expect(row?.startedAt.toISOString(), 'started at').toBe('2026-11-25T10:00:00.000Z')
    expect(await t.db.$count(requests, eq(requests.runId, id)), 'no outcome yet').toBe(0)

    for (let seq = 0; seq < 3; seq++) recorder.record(okOutcome(seq))
    // Not finished: only the time bound can have written them.
    await eventually(
      async () => ((await t.db.$count(requests, eq(requests.runId, id))) === 3 ? true : undefined),
      'timed flush',
    )
    const stored = await t.db.select().from(requests).where(eq(requests.runId, id)).orderBy(asc(requests.seq))
    expect(
      stored.map((r) => r.ttftMs),
      'ttftMs',
    ).toEqual([10, 11, 12])
    expect(stored[0]?.chunkGapsMs, 'chunk gaps').toEqual([1.5, 2.25, 3])
    expect(stored[0]?.tokensSource, 'tokens source').toBe('server')
    expect(stored[0]?.startedAtMs, 'startedAtMs').toBe(0.5)
    await recorder.finish('completed', undefined)
    await sink.close()
  })

  it('writes a full batch without waiting for the interval, the rest at finish', async () => {
    const sink = createPostgresSink(t.db, { batchSize: 10, flushIntervalMs: 600_000 })
    const recorder = await sink.startRun(runMeta({ label: 'size-bound' }))
    const id = Number(recorder.runId)
    for (let seq = 0; seq < 25; seq++) recorder.record(okOutcome(seq))
    await eventually(
      async () => ((await t.db.$count(requests, eq(requests.runId, id))) === 20 ? true : undefined),
      'two full batches',
    )
    expect(await t.db.$count(requests, eq(requests.runId, id)), 'the partial batch waits').toBe(20)
    await recorder.finish('completed', undefined)
    expect(await t.db.$count(requests, eq(requests.runId, id)), 'finish writes the rest').toBe(25)
    await sink.close()
  })

  it('the bulk insert writes every column and reads back what it wrote', async () => {
    const written = REQUEST_COLUMNS.map((c) => c.name)
      .concat('chunk_gaps_ms')
      .sort()
    const declared = Object.values(getTableColumns(requests))
      .map((c) => c.name)
      .sort()
    expect(written, 'columns of the bulk insert').toEqual(declared)
    const sink = createPostgresSink(t.db)
    const recorder = await sink.startRun(runMeta({ label: 'round-trip' }))
    const runId = Number(recorder.runId)
    const full = {
      runId,
      seq: 0,
      state: 'ok' as const,
      promptIndex: 7,
      errorKind: 'stream',
      httpStatus: 200,
      message: 'quote " backslash \\ comma , braces {} NULL ünïcødé',
      scheduledAtMs: 1.25,
      startedAtMs: 2.5,
      ttftMs: 3.75,
      e2eMs: 40.125,
      chunks: 5,
      promptTokens: 16,
      outputTokens: 9,
      tokensSource: 'tokenizer' as const,
      serverOutputTokens: 9,
      tokenizerOutputTokens: 10,
      finishReason: 'stop',
      serverTimings: { promptN: 16, predictedMs: 12.5 },
      connectionRetries: 1,
      chunkGapsMs: [0.5, 1.25, 1024.0625, 3],
    }
    await insertRequests(t.db, [
      full,
      { ...full, seq: 1, chunkGapsMs: [] },
      { ...full, seq: 2, chunkGapsMs: null, message: null },
    ])
    const rows = await t.db
      .select()
      .from(requests)
      .where(eq(requests.runId, runId))
      .orderBy(asc(requests.seq))
    expect(rows[0], 'every field').toEqual(full)
    expect(rows[1]?.chunkGapsMs, 'no gaps (one chunk)').toEqual([])
    expect(rows[2]?.chunkGapsMs, 'gaps unknown').toBeNull()
    expect(rows[2]?.message, 'null text').toBeNull()
    await recorder.finish('completed', undefined)
    await sink.close()
  })

  it('finish writes the metrics and the final state', async () => {
    const sink = createPostgresSink(t.db)
    const recorder = await sink.startRun(runMeta({ label: 'finish' }))
    const id = Number(recorder.runId)
    const outcomes = [okOutcome(0), okOutcome(1), okOutcome(2), errorOutcome(3)]
    for (const o of outcomes) recorder.record(o)
    const metrics = summarizeRun(outcomes)
    await recorder.finish('completed', metrics)
    const [run] = await t.db.select().from(runs).where(eq(runs.id, id))
    expect(run?.state, 'state').toBe('completed')
    expect(run?.finishedAt, 'finished at').toBeInstanceOf(Date)
    expect(run?.error, 'error').toBeNull()
    const rows = await t.db.select().from(runMetrics).where(eq(runMetrics.runId, id))
    const byName = new Map(rows.map((r) => [r.name, r]))
    expect(byName.get('ok')?.value, 'ok').toBe(3)
    expect(byName.get('attempted')?.value, 'attempted').toBe(4)
    expect(byName.get('errorRate')?.value, 'errorRate').toBe(0.25)
    // ttftMs of the ok requests: 10, 11, 12.
    expect(byName.get('ttftMsP50')?.value, 'ttftMsP50').toBe(11)
    expect(byName.get('ttftMsP50')?.n, 'ttftMsP50 n').toBe(3)
    expect(byName.get('ttftMsP50')?.unit, 'unit').toBe('ms')
    expect(byName.get('ttftMsP50')?.direction, 'direction').toBe('lower')
    const stored = await t.db.select().from(requests).where(eq(requests.runId, id)).orderBy(asc(requests.seq))
    expect(
      stored.map((r) => r.state),
      'states',
    ).toEqual(['ok', 'ok', 'ok', 'error'])
    expect(stored[3]?.errorKind, 'error kind').toBe('http')
    expect(stored[3]?.httpStatus, 'http status').toBe(503)
    expect(stored[3]?.chunkGapsMs, 'no gaps on errors').toBeNull()
    await sink.close()
  })

  it('a re-recorded seq is stored once (the first write wins)', async () => {
    const sink = createPostgresSink(t.db, { flushIntervalMs: 20 })
    const recorder = await sink.startRun(runMeta({ label: 'dedupe' }))
    const id = Number(recorder.runId)
    recorder.record(okOutcome(0))
    recorder.record(okOutcome(1))
    await eventually(
      async () => ((await t.db.$count(requests, eq(requests.runId, id))) === 2 ? true : undefined),
      'first flush',
    )
    recorder.record(okOutcome(1, { ttftMs: 999 }))
    recorder.record(okOutcome(2))
    await recorder.finish('completed', undefined)
    const stored = await t.db.select().from(requests).where(eq(requests.runId, id)).orderBy(asc(requests.seq))
    expect(
      stored.map((r) => r.seq),
      'seqs',
    ).toEqual([0, 1, 2])
    expect(stored[1]?.ttftMs, 'first write kept').toBe(11)
    await sink.close()
  })

  it('stores variant and environment once per identity and fingerprints comparable runs alike', async () => {
    const base: VariantIdentity = {
      name: 'tiny',
      family: 'tiny',
      method: 'base',
      format: 'gguf',
      bits: 32,
      sha256: 'a'.repeat(64),
    }
    const q4: VariantIdentity = {
      name: 'tiny-q4_0',
      family: 'tiny',
      method: 'quantized',
      format: 'gguf',
      quantLabel: 'Q4_0',
      bits: 4.5,
      sizeBytes: 12_000_000,
      sha256: 'b'.repeat(64),
      parent: base,
    }
    const sink = createPostgresSink(t.db)
    const meta = runMeta({
      variant: q4,
      environment,
      git: { commit: 'c0ffee', branch: 'main', mergeBase: 'c0ffee' },
      invocationId: 'inv-1',
    })
    const first = await sink.startRun(meta)
    const second = await sink.startRun({ ...meta, label: 'other label' })
    const third = await sink.startRun({
      ...meta,
      engineOptions: { ...meta.engineOptions, api: 'completions' },
    })
    // Header values are stored redacted, yet a custom header still separates series and a rotated key does not.
    const withHeaders = (headers: Record<string, string>) =>
      sink.startRun({ ...meta, engineOptions: { ...meta.engineOptions, headers } })
    const routedA = await withHeaders({ 'x-routing': 'pool-a', authorization: 'Bearer key-one-0123456789' })
    const routedA2 = await withHeaders({ 'x-routing': 'pool-a', authorization: 'Bearer key-two-9876543210' })
    const routedB = await withHeaders({ 'x-routing': 'pool-b', authorization: 'Bearer key-one-0123456789' })
    for (const r of [first, second, third, routedA, routedA2, routedB]) await r.finish('completed', undefined)
    const headerRows = await t.db
      .select({ fingerprint: runs.fingerprint, engineOptions: runs.engineOptions })
      .from(runs)
      .where(
        sql`${runs.id} in (${sql.join(
          [routedA, routedA2, routedB].map((r) => sql`${Number(r.runId)}`),
          sql`, `,
        )})`,
      )
      .orderBy(asc(runs.id))
    expect(JSON.stringify(headerRows), 'no header value stored').not.toMatch(/pool-a|pool-b|key-one|key-two/)
    expect(headerRows[0]?.fingerprint, 'a rotated key keeps the series').toBe(headerRows[1]?.fingerprint)
    expect(headerRows[2]?.fingerprint, 'another routing header is another series').not.toBe(
      headerRows[0]?.fingerprint,
    )
    expect(headerRows[0]?.fingerprint, 'headers are part of it').not.toBe(
      runFingerprint(meta, meta.engineOptions),
    )
    const rows = await t.db
      .select()
      .from(runs)
      .where(
        sql`${runs.id} in (${sql.join(
          [first, second, third].map((r) => sql`${Number(r.runId)}`),
          sql`, `,
        )})`,
      )
      .orderBy(asc(runs.id))
    expect(rows[0]?.fingerprint, 'label is not part of the fingerprint').toBe(rows[1]?.fingerprint)
    expect(rows[2]?.fingerprint, 'engine options are').not.toBe(rows[0]?.fingerprint)
    expect(rows[0]?.fingerprint, 'fingerprint function').toBe(runFingerprint(meta, meta.engineOptions))
    expect(rows[0]?.gitCommit, 'git commit').toBe('c0ffee')
    expect(rows[0]?.invocationId, 'invocation').toBe('inv-1')
    expect(new Set(rows.map((r) => r.variantId)).size, 'one variant row for three runs').toBe(1)
    expect(new Set(rows.map((r) => r.environmentId)).size, 'one environment row').toBe(1)
    const [variant] = await t.db
      .select()
      .from(variants)
      .where(eq(variants.id, rows[0]?.variantId ?? -1))
    expect(variant?.quantLabel, 'quant label').toBe('Q4_0')
    expect(variant?.sizeBytes, 'size').toBe(12_000_000)
    const [parent] = await t.db
      .select()
      .from(variants)
      .where(eq(variants.id, variant?.parentId ?? -1))
    expect(parent?.name, 'parent').toBe('tiny')
    expect(parent?.method, 'parent method').toBe('base')
    const [env] = await t.db
      .select()
      .from(environments)
      .where(eq(environments.id, rows[0]?.environmentId ?? -1))
    expect(env?.engineVersions, 'engine versions').toEqual({ 'node-llama-cpp': '3.21.1' })
    await sink.close()
  })

  it('marks a stale running run interrupted at start-up, keeping its outcomes; a live one stays running', async () => {
    const sink = createPostgresSink(t.db, { flushIntervalMs: 20 })
    const dead = await sink.startRun(runMeta({ label: 'dead' }))
    const alive = await sink.startRun(runMeta({ label: 'alive' }))
    for (let seq = 0; seq < 5; seq++) dead.record(okOutcome(seq))
    await sink.close()
    // As if the writer died a minute ago: its heartbeat stopped then.
    await t.db
      .update(runs)
      .set({ heartbeatAt: sql`now() - interval '1 minute'` })
      .where(eq(runs.id, Number(dead.runId)))
    const reopened = await createDb({ ...t.options, staleRunAfterMs: 10_000 })
    try {
      const [deadRow] = await reopened
        .select()
        .from(runs)
        .where(eq(runs.id, Number(dead.runId)))
      const [aliveRow] = await reopened
        .select()
        .from(runs)
        .where(eq(runs.id, Number(alive.runId)))
      expect(deadRow?.state, 'stale run').toBe('interrupted')
      expect(deadRow?.error, 'reason').toMatch(/no heartbeat/)
      expect(deadRow?.finishedAt?.getTime(), 'finished at its last heartbeat').toBe(
        deadRow?.heartbeatAt.getTime(),
      )
      expect(aliveRow?.state, 'fresh heartbeat').toBe('running')
      expect(await reopened.$count(requests, eq(requests.runId, Number(dead.runId))), 'outcomes kept').toBe(5)
      expect(await markInterruptedRuns(reopened), 'nothing left to mark').toEqual([])
    } finally {
      await reopened.close()
    }
    await t.db
      .update(runs)
      .set({ state: 'completed' })
      .where(eq(runs.id, Number(alive.runId)))
  })

  it('refreshes the heartbeat while a run is running', async () => {
    const sink = createPostgresSink(t.db, { heartbeatIntervalMs: 50 })
    const recorder = await sink.startRun(runMeta({ label: 'heartbeat' }))
    const id = Number(recorder.runId)
    await t.db.update(runs).set({ heartbeatAt: sql`now() - interval '1 hour'` }).where(eq(runs.id, id))
    await eventually(
      async () =>
        (await t.db.$count(
          runs,
          and(eq(runs.id, id), sql`${runs.heartbeatAt} > now() - interval '1 minute'`),
        )) === 1
          ? true
          : undefined,
      'a heartbeat',
    )
    await recorder.finish('completed', undefined)
    await sink.close()
  })

  it('without a journal, retries failed writes and rejects at finish with what was lost', async () => {
    const own = await createDb(t.options)
    const errors: Error[] = []
    const sink = createPostgresSink(own, {
      flushIntervalMs: 10,
      finishWaitMs: 300,
      journalDir: false,
      onError: (e) => errors.push(e),
      onNotice: () => {},
    })
    const recorder = await sink.startRun(runMeta({ label: 'lost' }))
    await own.close()
    recorder.record(okOutcome(0))
    recorder.record(okOutcome(1))
    await eventually(async () => (errors.length > 0 ? true : undefined), 'a reported write failure')
    const failure = await recorder.finish('completed', undefined).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(failure, 'finish rejects').toBeInstanceOf(SinkWriteError)
    expect((failure as Error).message, 'says how many').toMatch(
      /2 outcomes, the metrics and the final state \(completed\) could not be written/,
    )
    await sink.close()
  })

  it('drops a row the database refuses instead of blocking the rest', async () => {
    const sink = createPostgresSink(t.db, { flushIntervalMs: 10 })
    const recorder = await sink.startRun(runMeta({ label: 'refused' }))
    // A count beyond int4 range is a data error (SQLSTATE 22003) for that row only.
    recorder.record(okOutcome(0))
    recorder.record(okOutcome(1, { outputTokens: 2 ** 40 }))
    recorder.record(okOutcome(2))
    const failure = await recorder.finish('completed', undefined).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(failure?.message, 'the refused row is named').toMatch(
      /1 outcomes were refused by the database \(seq 1:/,
    )
    const stored = await t.db
      .select({ seq: requests.seq })
      .from(requests)
      .where(eq(requests.runId, Number(recorder.runId)))
    expect(stored.map((r) => r.seq).sort(), 'the others are stored').toEqual([0, 2])
    await sink.close()
  })
})
