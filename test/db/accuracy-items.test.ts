/**
 * Accuracy items through the database sink on both backends: every item stored once as it was scored
 * (logliks as float8, -Infinity included; generated text, errors), the run's figures in run_metrics; while the database is
 * away they go to the journal with the outcomes' guarantees and the next open writes them, once.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromItemRow, listAccuracyItems } from '../../db/accuracy-items.ts'
import { createDb } from '../../db/client.ts'
import { exportRun, ITEM_CSV_COLUMNS } from '../../db/export.ts'
import { journalDirOf } from '../../db/journal.ts'
import { accuracyItems, runMetrics, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { accuracyMetricRows, summarizeItems } from '../../harness/accuracy/run-metrics.ts'
import type { ItemOutcome } from '../../harness/results.ts'
import { accuracySpec } from '../fixtures/accuracy-spec.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { eventually } from './fixtures/child.ts'
import { runMeta } from './fixtures/data.ts'

const spec = accuracySpec(10)

/** Item `seq`: subject a (even) or b (odd), answer seq % 4, right when seq % 3 ≠ 0; item 7 failed. */
function item(seq: number): ItemOutcome {
  const base = {
    seq,
    itemId: `${seq % 2 ? 'b' : 'a'}/test/${seq}`,
    subject: seq % 2 ? 'b' : 'a',
    itemIndex: seq,
    answer: seq % 4,
    startedAt: seq * 3.5,
    durationMs: 3.25,
  }
  if (seq === 7)
    return {
      ...base,
      predicted: null,
      correct: null,
      error: { kind: 'timeout', message: 'no scores within 10 ms' },
    }
  const predicted = seq % 3 === 0 ? (seq + 1) % 4 : seq % 4
  // Scores that float4 could not keep apart: the stored ones must still argmax the same.
  const logliks = [0, 1, 2, 3].map((i) => (i === predicted ? -1.0000001 : -1.0000002 - i * 1e-9))
  // A choice an endpoint's top-k lacked: JSON (the journal) has no -Infinity of its own.
  if (seq === 5) logliks[0] = Number.NEGATIVE_INFINITY
  return { ...base, predicted, correct: predicted === seq % 4, logliks }
}

describe.each(dbBackends())('accuracy items on %s', (backend) => {
  let t: TestDatabase
  let home: string
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    home = mkdtempSync(path.join(os.tmpdir(), 'bench-accuracy-home-'))
  })
  afterAll(async () => {
    await t?.dispose()
    rmSync(home, { recursive: true, force: true })
  })

  it('stores every item as scored and the figures with their directions', async () => {
    const sink = createPostgresSink(t.db, { flushIntervalMs: 10, journalDir: false })
    const recorder = await sink.startRun(runMeta({ load: spec, loadIndex: 2 }))
    const scored = Array.from({ length: 10 }, (_, seq) => item(seq))
    scored.push({ ...item(10), logliks: undefined, generated: ' B\n', predicted: 1, correct: false })
    for (const i of scored) recorder.recordItem(i)
    const figures = accuracyMetricRows(summarizeItems(scored))
    await recorder.finish('completed', figures)
    await sink.close()
    const id = Number(recorder.runId)
    const [run] = await t.db.select().from(runs).where(eq(runs.id, id))
    expect(run?.loadKind, 'its own load kind').toBe('accuracy')
    expect(run?.load, 'scoring stored with the run').toMatchObject({
      scoring: 'loglik',
      requestedScoring: 'auto',
    })
    const rows = await listAccuracyItems(t.db, id)
    const back = rows.map(fromItemRow)
    expect(back, 'every item round-trips (float8 scores exact)').toEqual(
      scored.map((i) => {
        const { logliks, generated, ...rest } = i
        return { ...rest, ...(logliks ? { logliks } : {}), ...(generated !== undefined ? { generated } : {}) }
      }),
    )
    const metrics = await t.db.select().from(runMetrics).where(eq(runMetrics.runId, id))
    const byName = new Map(metrics.map((m) => [m.name, m]))
    // 10 scored of 11 attempted: seqs 0, 3, 6, 9 wrong (predicted ≠ answer), 10 wrong → 5 right.
    expect(byName.get('acc')?.value, 'acc = 5/10').toBeCloseTo(0.5, 12)
    expect(byName.get('acc')?.direction, 'higher is better').toBe('higher')
    expect(byName.get('accStderr')?.value, 'sqrt(.25/9)').toBeCloseTo(Math.sqrt(0.25 / 9), 12)
    expect(byName.get('accErrors')?.value, 'one failed item').toBe(1)
    expect(byName.get('acc/a')?.n, 'subject a: seqs 0, 2, 4, 6, 8, 10').toBe(6)

    let csv = ''
    const counts = await exportRun(t.db, id, {
      format: 'csv',
      env: {},
      write: (chunk) => {
        csv += chunk
      },
    })
    expect(counts, 'an accuracy run exports its items').toEqual({ requests: 0, items: 11 })
    const lines = csv.split('\n')
    expect(lines[0], 'header').toBe(ITEM_CSV_COLUMNS.join(','))
    expect(lines[6], 'item 5: -Infinity as text').toMatch(
      new RegExp(`^${id},5,b/test/5,b,5,1,1,true,,-Infinity -1\\.0000001 `),
    )
    expect(lines[8], 'item 7: the error').toBe(
      `${id},7,b/test/7,b,7,3,,,,,,24.5,3.25,timeout,no scores within 10 ms`,
    )
    expect(csv, 'generated text quoted').toContain(`${id},10,a/test/10,a,10,2,1,false,,," B\n",35,3.25,,\n`)
  })

  it('journals items while the database is away; the next open writes each once', async () => {
    const env = { ...process.env, BENCH_HOME: home }
    const own = await createDb({ ...t.options, env })
    const sink = createPostgresSink(own, {
      flushIntervalMs: 10,
      finishWaitMs: 0,
      env,
      onError: () => {},
      onNotice: () => {},
    })
    const recorder = await sink.startRun(runMeta({ load: spec, loadIndex: 2, label: 'away' }))
    const id = Number(recorder.runId)
    const all = Array.from({ length: 10 }, (_, seq) => item(seq))
    for (const i of all.slice(0, 4)) recorder.recordItem(i)
    await eventually(
      async () => ((await t.db.$count(accuracyItems, eq(accuracyItems.runId, id))) === 4 ? true : undefined),
      'the first items written directly',
    )
    await own.close()
    for (const i of all.slice(4)) recorder.recordItem(i)
    await recorder.finish('completed', accuracyMetricRows(summarizeItems(all)))
    await sink.close()
    const dir = journalDirOf(own, env)
    const file = path.join(dir, readdirSync(dir).find((f) => f.startsWith(`run-${id}-`)) ?? '')
    const types = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type)
    expect(types, 'header, 6 items, finish').toEqual(['run', ...Array(6).fill('item'), 'finish'])
    expect(await t.db.$count(accuracyItems, eq(accuracyItems.runId, id)), 'only the first 4 stored').toBe(4)
    const reopened = await createDb({ ...t.options, env })
    try {
      const rows = await listAccuracyItems(reopened, id)
      expect(rows.map(fromItemRow), 'every item once, as scored (-Infinity kept)').toEqual(all)
      const [run] = await reopened.select().from(runs).where(eq(runs.id, id))
      expect(run?.state, 'final state from the journal').toBe('completed')
      expect(await reopened.$count(runMetrics, eq(runMetrics.runId, id)), 'figures too').toBeGreaterThan(5)
    } finally {
      await reopened.close()
    }
  })
})
