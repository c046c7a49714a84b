/**
 * A `bench sweep` travels with its steps: three step runs written through the real sink and tied to a
 * sweeps row with the CLI's own writers (harness/cli/actions/sweep-db.ts), exported one by one (two while
 * the sweep runs, the last after it ended), and stored in another database — whole (`bench import`),
 * streamed, and streamed whole as `POST /api/runs` takes what `bench push` sends — meet again under ONE sweep there, with
 * the same endpoint, SLO, knee and steps, and the sweep completed by the last document. A document's sweep
 * without its step is refused naming the field; a streamed ingest that fails leaves no empty sweep behind.
 */
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchRunDocument } from '../../db/bench-run-document.ts'
import type { Db } from '../../db/client.ts'
import { exportRun } from '../../db/export.ts'
import { BenchRunError, parseBenchRun, storeBenchRun } from '../../db/import/bench-run.ts'
import { streamBenchRun } from '../../db/import/bench-run-stream.ts'
import { runs, sweeps } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { finishSweep, insertSweep, tagStepRun } from '../../harness/cli/actions/sweep-db.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { LoadSpec } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { okOutcome, runMeta } from './fixtures/data.ts'

const SLO = [
  { name: 'ttftMsP95', metric: 'ttftMs', percentile: 95, maxMs: 500 },
  { name: 'tpotMsP95', metric: 'tpotMs', percentile: 95, maxMs: 20 },
]
const RATES = [8, 16, 12]

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

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

/** A step run of the sweep: a constant-rate load at `ratePerS`, three requests, through the real sink. */
async function recordStep(db: Db, sweepId: number, step: number, ratePerS: number): Promise<number> {
  const sink = createPostgresSink(db, { flushIntervalMs: 5 })
  const load: LoadSpec = { kind: 'constant-rate', ratePerS, durationS: 1, maxInFlight: 64 }
  const recorder = await sink.startRun(
    runMeta({
      scenario: { name: 'sweep', hash: 'sweep-hash', source: { name: 'sweep' } },
      target: { name: 'endpoint' },
      load,
      startedAtIso: `2026-12-01T10:00:0${step}.000Z`,
      invocationId: 'inv-sweep-1',
    }),
  )
  const runId = Number(recorder.runId)
  await tagStepRun(db, runId, sweepId, step)
  const outcomes = [0, 1, 2].map((seq) => okOutcome(seq))
  for (const o of outcomes) recorder.record(o)
  await recorder.finish(
    step === 1 ? 'failed' : 'completed',
    summarizeRun(outcomes),
    step === 1 ? 'stopped early: over-saturated (TTFT rising)' : undefined,
  )
  await sink.close()
  return runId
}

describe.each(dbBackends())('a sweep through export → import on %s', (backend) => {
  let source: TestDatabase
  let sourceSweep: typeof sweeps.$inferSelect
  const texts: string[] = []
  beforeAll(async () => {
    source = await createTestDatabase(backend)
    const id = await insertSweep(source.db, {
      invocationId: 'inv-sweep-1',
      scenarioName: 'sweep',
      targetName: 'endpoint',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'mock-model',
      arrivals: 'constant',
      slo: SLO,
      options: { minRatePerS: 8, maxRatePerS: 64, tolerance: 0.5, durationS: 1 },
      label: 'nightly',
    })
    const ids: number[] = []
    for (const [step, rate] of RATES.entries()) ids.push(await recordStep(source.db, id, step, rate))
    // Two steps exported while the sweep still runs; the last once it has ended.
    texts.push(await exported(source.db, ids[0]!), await exported(source.db, ids[1]!))
    await finishSweep(source.db, id, {
      state: 'completed',
      end: 'bracketed',
      kneeRatePerS: 12,
      firstFailingRatePerS: 16,
    })
    texts.push(await exported(source.db, ids[2]!))
    ;[sourceSweep] = (await source.db.select().from(sweeps).where(eq(sweeps.id, id))) as [
      typeof sweeps.$inferSelect,
    ]
  })
  afterAll(async () => {
    await source?.dispose()
  })

  it('exports the sweep row and the step with each run', () => {
    const docs = texts.map((t) => parseBenchRun(JSON.parse(t)))
    expect(
      docs.map((d) => [d.run.sweepStep, d.sweep?.id, d.sweep?.state, d.sweep?.kneeRatePerS]),
      'step, source id, state and knee as each was exported',
    ).toEqual([
      [0, sourceSweep.id, 'running', null],
      [1, sourceSweep.id, 'running', null],
      [2, sourceSweep.id, 'completed', 12],
    ])
    expect(docs[2]!.sweep?.slo, 'the SLO').toEqual(SLO)
  })

  it('imports whole, streamed and pushed into one sweep, completed by the last document', async () => {
    const target = await createTestDatabase(backend)
    try {
      const whole = await storeBenchRun(target.db, parseBenchRun(JSON.parse(texts[0]!)), {
        source: 'step0.json',
        env: {},
      })
      const streamed = await streamBenchRun(target.db, chunksOf(texts[1]!, 211), {
        source: 'stream',
        env: {},
        batchSize: 1,
      })
      const midway = await target.db.select().from(sweeps)
      expect(
        midway.map((s) => [s.state, s.kneeRatePerS]),
        'one sweep, still running after two steps',
      ).toEqual([['running', null]])
      // What `bench push` sends, as POST /api/runs stores it (dashboard/routes/ingest.ts → streamBenchRun).
      const pushed = await streamBenchRun(target.db, chunksOf(texts[2]!, 64 * 1024), {
        source: 'POST /api/runs',
        env: {},
      })
      const pushedId = pushed.id

      const stored = await target.db.select().from(sweeps)
      expect(stored.length, 'one sweep for the three steps').toBe(1)
      const { id: _sourceId, ...expected } = sourceSweep
      const { id: targetId, ...got } = stored[0]!
      expect(got, 'every field of the sweep as the source has it').toEqual(expected)
      const steps = await target.db
        .select({ id: runs.id, step: runs.sweepStep, load: runs.load, state: runs.state, error: runs.error })
        .from(runs)
        .where(eq(runs.sweepId, targetId))
        .orderBy(asc(runs.sweepStep))
      expect(
        steps.map((s) => [s.id, s.step, (s.load as { ratePerS: number }).ratePerS, s.state]),
        'the steps, in order, with their rates and states',
      ).toEqual([
        [whole.id, 0, 8, 'completed'],
        [streamed.id, 1, 16, 'failed'],
        [pushedId, 2, 12, 'completed'],
      ])
      expect(steps[1]!.error, "the failed step's reason").toBe('stopped early: over-saturated (TTFT rising)')

      // Exported again from the receiving database: the same sweep, but for the id.
      const back = parseBenchRun(JSON.parse(await exported(target.db, pushedId)))
      const sent = parseBenchRun(JSON.parse(texts[2]!))
      const withoutId = (d: BenchRunDocument) => ({ ...d.sweep, id: undefined })
      expect(withoutId(back), 're-exported sweep').toEqual(withoutId(sent))
      expect(back.sweep?.id, "the receiving database's id").toBe(targetId)
      expect(back.run.sweepStep, 're-exported step').toBe(2)
    } finally {
      await target.dispose()
    }
  })

  it('refuses a sweep without its step, and a step without its sweep, naming the field', () => {
    const noStep = JSON.parse(texts[0]!) as { run: Record<string, unknown> }
    noStep.run.sweepStep = null
    expect(() => parseBenchRun(noStep)).toThrow(BenchRunError)
    expect(() => parseBenchRun(noStep)).toThrow(/run\.sweepStep: a sweep without the step/)
    const noSweep = JSON.parse(texts[0]!) as Record<string, unknown>
    delete noSweep.sweep
    expect(() => parseBenchRun(noSweep)).toThrow(/sweep: run\.sweepStep without the sweep/)
    const badSlo = JSON.parse(texts[0]!) as { sweep: { slo: unknown[] } }
    badSlo.sweep.slo = [{ name: 'ttftMsP95', metric: 'ttftMs', percentile: 95, maxMs: -1 }]
    expect(() => parseBenchRun(badSlo)).toThrow(/sweep\.slo\[0\]\.maxMs: Too small/)
  })

  it('leaves no empty sweep behind when a streamed ingest of its only step fails', async () => {
    // Into the source itself: another sweep's step (new invocation), cut short — requestCounts says one
    // more row than sent, found only after the run (and its new sweep) were staged.
    const doc = JSON.parse(texts[0]!) as {
      run: { invocationId: string }
      sweep: { invocationId: string }
      requestCounts: { total: number }
    }
    doc.run.invocationId = 'inv-sweep-2'
    doc.sweep.invocationId = 'inv-sweep-2'
    doc.requestCounts.total += 1
    const before = {
      runs: (await source.db.select().from(runs)).length,
      sweeps: await source.db.select().from(sweeps),
    }
    await expect(
      streamBenchRun(source.db, chunksOf(JSON.stringify(doc), 97), { source: 'cut', env: {}, batchSize: 1 }),
    ).rejects.toThrow(/cut short/)
    expect((await source.db.select().from(runs)).length, 'no run added').toBe(before.runs)
    expect(await source.db.select().from(sweeps), 'no sweep added').toEqual(before.sweeps)
  })
})
