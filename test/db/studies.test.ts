/**
 * Speculative-decoding studies in the database (db/studies/store.ts), on each backend: a study record
 * stored as `bench spec` stores it reads back with every per-K, per-prompt and per-position figure; the
 * list says its state and best measured K; a queued study moves through running (with progress) to failed.
 * The record is built from hand-chosen verify steps (studies-fixture.ts) so each figure is known.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matrices, matrixJobs } from '../../db/schema.ts'
import {
  insertStudy,
  listStudies,
  markStudyFailed,
  markStudyRunning,
  readStudy,
  setStudyProgress,
  storeStudyResult,
} from '../../db/studies/store.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { ALPHA, C, knownStudy } from './studies-fixture.ts'

describe.each(dbBackends())('studies on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('stores a study and reads back every row as measured', async () => {
    const result = knownStudy(4)
    const id = await storeStudyResult(t.db, result, { source: 'study.ts', label: '<b>pr</b>' })
    const stored = await readStudy(t.db, id)
    expect(stored?.study).toMatchObject({
      name: 'known-study',
      kind: 'native',
      state: 'completed',
      progress: 1,
      costRatio: C,
      alphaUsed: ALPHA,
      optimalK: result.optimal.k,
      label: '<b>pr</b>',
      source: 'study.ts',
    })
    expect(stored?.study.study).toEqual(result.study)
    expect(stored?.perK.map((r) => r.k)).toEqual([1, 2, 3, 4])
    // K = 2: prompt 0 keeps 2, 0, 2, 0 (steps 0..3), prompt 1 keeps 0, 1, 0, 1 → 6 of 16 drafted, 8 steps.
    const k2 = stored!.perK[1]!
    expect(k2).toMatchObject({ drafted: 16, accepted: 6, verifySteps: 8, emitted: 14 })
    expect(k2.acceptanceRate).toBeCloseTo(6 / 16, 12)
    expect(k2.meanAcceptanceLength).toBeCloseTo(1 + 6 / 8, 12)
    expect(k2.acceptLengths).toEqual([4, 2, 2])
    expect(k2.positions).toEqual([
      { position: 1, accepted: 4, rate: 0.5 },
      { position: 2, accepted: 2, rate: 0.25 },
    ])
    for (const [i, row] of stored!.perK.entries()) {
      const r = result.perK[i]!
      expect(row.measuredSpeedup).toBeCloseTo(1 + 0.1 * row.k, 12)
      expect(row.predictedSpeedup).toBe(r.predictedSpeedup)
      expect(row.error).toBeCloseTo(row.measuredSpeedup - row.predictedSpeedup, 12)
      expect(row.alphaHat).toBe(r.metrics.alphaHat)
      expect(row.positions).toHaveLength(row.k)
    }
    expect(stored?.perPrompt).toHaveLength(8)
    expect(stored?.perPrompt[2]).toMatchObject({
      k: 2,
      prompt: 0,
      accepted: 4,
      verifySteps: 4,
      matchesTarget: true,
    })
    const details = stored?.study.details as { logprob: { top1: number }; table: { predicted: number[][] } }
    expect(details.logprob.top1).toBe(ALPHA)
    expect(details.table.predicted).toEqual(result.table.predicted)

    const list = await listStudies(t.db)
    expect(list.find((s) => s.id === id)).toMatchObject({
      state: 'completed',
      ks: [1, 2, 3, 4],
      bestMeasured: { k: 4, speedup: expect.closeTo(1.4, 12) },
    })
  })

  it('a queued study shows its progress while running, and its error when it fails', async () => {
    const id = await insertStudy(t.db, { study: knownStudy(2, 'queued-one').study, state: 'queued' })
    await markStudyRunning(t.db, id)
    await setStudyProgress(t.db, id, 0.5, 'native loop, K = 2')
    expect((await listStudies(t.db)).find((s) => s.id === id)).toMatchObject({
      state: 'running',
      progress: 0.5,
      progressMessage: 'native loop, K = 2',
    })
    await markStudyFailed(t.db, id, 'model file missing')
    // Progress after the end is ignored (only a running study moves).
    await setStudyProgress(t.db, id, 0.9, 'late')
    const stored = await readStudy(t.db, id)
    expect(stored?.study).toMatchObject({ state: 'failed', error: 'model file missing', progress: 0.5 })
    expect(stored?.perK).toEqual([])
    expect(await readStudy(t.db, 999_999)).toBeUndefined()
  })

  it("a study whose queue job died with its worker reads as failed, with the job's error", async () => {
    const study = knownStudy(2, 'lost-one').study
    const [matrix] = await t.db
      .insert(matrices)
      .values({
        invocationId: 'i',
        scenarioName: study.name,
        scenario: study,
        source: 's',
        baseDir: '.',
        requiredTags: [],
        maxAttempts: 1,
      })
      .returning()
    const [job] = await t.db
      .insert(matrixJobs)
      .values({
        matrixId: matrix!.id,
        ordinal: 0,
        kind: 'spec-study',
        targetName: study.name,
        spec: {},
        state: 'running',
      })
      .returning()
    const id = await insertStudy(t.db, { study, state: 'queued', matrixId: matrix!.id, matrixJobId: job!.id })
    await markStudyRunning(t.db, id)
    expect((await readStudy(t.db, id))?.study.state).toBe('running')
    // What the reaper does when the worker is killed on the job's last attempt (db/queue/worker.ts).
    await t.db
      .update(matrixJobs)
      .set({ state: 'dead', lastError: 'worker w1 was lost mid-job (killed or silent)' })
      .where(eq(matrixJobs.id, job!.id))
    expect((await readStudy(t.db, id))?.study).toMatchObject({
      state: 'failed',
      error: 'worker w1 was lost mid-job (killed or silent)',
    })
    expect((await listStudies(t.db)).find((s) => s.id === id)?.state).toBe('failed')
  })
})
