/**
 * Studies through the job queue, in one process on PGlite (+PostgreSQL): a study queued with
 * enqueueStudy is claimed by a worker with the `spec-study` kind, runs for real (scenarios/
 * spec-fixture-study.ts: teacher-f32 ← teacher-q4_0, K 1..4, 2 prompts × 16 tokens on node-llama-cpp),
 * reports progress and is stored with its per-K rows, its matrix job completed; a study cancelled while
 * queued never runs; a database without the queue refuses to enqueue, naming the fix.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installQueue, queueConnection } from '../../db/queue/connection.ts'
import { registerJobKind } from '../../db/queue/kinds.ts'
import { matrixStatus } from '../../db/queue/status.ts'
import { startWorker, type WorkerHandle } from '../../db/queue/worker.ts'
import { cancelStudy, enqueueStudy, QueueNotInstalledError, specStudyKind } from '../../db/studies/queue.ts'
import { readStudy } from '../../db/studies/store.ts'
import { detectEnvironment } from '../../harness/environment.ts'
import { loadStudy, parseStudy } from '../../harness/speculative/study-file.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { fixtureStudyDir, type StudyDir } from '../helpers/study-dir.ts'

// scenarios/spec-fixture-study.ts with its models pointed at this run's fixtures (test/helpers/study-dir.ts):
// a fresh clone has no .bench/models, and a test that skips there never runs in CI.
let studies: StudyDir
let STUDY = ''
beforeAll(async () => {
  studies = await fixtureStudyDir()
  STUDY = join(studies.dir, 'spec-fixture-study.ts')
})
afterAll(() => studies?.dispose())

registerJobKind(specStudyKind)

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.each(dbBackends())('studies through the queue on %s', (backend) => {
  let t: TestDatabase
  let worker: WorkerHandle | undefined
  /** The missing-model study, queued before the real one so its retry's backoff (e^1 s) passes while that runs. */
  let missing: ReturnType<typeof enqueueStudy> | undefined
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await worker?.stop()
    await t?.dispose()
  })

  it('refuses to enqueue before the queue is installed, naming bench worker', async () => {
    const study = await loadStudy(STUDY)
    await expect(enqueueStudy(t.db, { study, source: STUDY, baseDir: process.cwd() })).rejects.toThrow(
      QueueNotInstalledError,
    )
    await expect(enqueueStudy(t.db, { study, source: STUDY, baseDir: process.cwd() })).rejects.toThrow(
      /bench worker/,
    )
  })

  it('a worker runs a queued study and stores it; a cancelled one never runs', async () => {
    const connection = queueConnection(t.db, t.options)
    await installQueue(connection)
    const study = await loadStudy(STUDY)
    // Queued first, so the worker claims it first: its attempt fails at once and the retry's backoff passes
    // while this study runs (the test below waits for it).
    missing = enqueueStudy(t.db, {
      study: parseStudy({ ...(await loadStudy(STUDY)), name: 'missing-draft', draft: 'no/such/draft.gguf' }),
      source: 'inline',
      baseDir: process.cwd(),
    })
    await missing
    const queued = await enqueueStudy(t.db, { study, source: STUDY, baseDir: process.cwd(), label: 'q' })
    const cancelled = await enqueueStudy(t.db, { study, source: STUDY, baseDir: process.cwd() })
    expect(await cancelStudy(t.db, cancelled.studyId), 'queued: cancellable').toBe(true)
    expect(await cancelStudy(t.db, cancelled.studyId), 'twice: no longer queued').toBe(false)
    expect((await readStudy(t.db, queued.studyId))?.study).toMatchObject({ state: 'queued', progress: 0 })

    const progress: number[] = []
    worker = await startWorker({ db: t.db, connection, environment: await detectEnvironment() })
    await until('the study completed', async () => {
      const s = (await readStudy(t.db, queued.studyId))?.study
      if (s && progress.at(-1) !== s.progress) progress.push(s.progress)
      return s?.state === 'completed' || s?.state === 'failed'
    })
    const stored = await readStudy(t.db, queued.studyId)
    expect(stored?.study.error).toBeNull()
    expect(stored?.study).toMatchObject({ state: 'completed', progress: 1, label: 'q' })
    // The paths as the study gave them, not the worker's absolute ones.
    expect(stored?.study.study).toEqual(study)
    expect(stored?.perK.map((r) => r.k)).toEqual([1, 2, 3, 4])
    expect(stored?.perPrompt).toHaveLength(8)
    for (const r of stored!.perK) {
      expect(r.drafted, `K ${r.k}: drafted = K × steps`).toBe(r.k * r.verifySteps)
      expect(r.meanAcceptanceLength).toBeCloseTo(1 + r.accepted / r.verifySteps, 12)
      expect(r.measuredSpeedup).toBeGreaterThan(0)
      expect(r.error).toBeCloseTo(r.measuredSpeedup - r.predictedSpeedup, 12)
      expect(r.matchesTarget, `K ${r.k}: greedy output = the target's`).toBe(true)
      expect(r.positions.map((p) => p.position)).toEqual(Array.from({ length: r.k }, (_, i) => i + 1))
      expect(r.acceptLengths.reduce((a, b) => a + b, 0)).toBe(r.verifySteps)
    }
    // The Q4_0 draft of the same model agrees on most greedy tokens (README: α ≈ 0.96).
    expect(stored?.study.alphaUsed).toBeGreaterThan(0.8)
    expect(progress[0], 'seen queued or early').toBeLessThan(1)
    expect(progress.at(-1)).toBe(1)

    const status = await matrixStatus(t.db, queued.matrixId)
    expect(status?.jobs.map((j) => [j.kind, j.state, j.runId])).toEqual([['spec-study', 'completed', null]])
    const never = await readStudy(t.db, cancelled.studyId)
    expect(never?.study).toMatchObject({ state: 'cancelled', startedAt: null })
    expect((await matrixStatus(t.db, cancelled.matrixId))?.jobs[0]?.state).toBe('dead')
  }, 90_000)

  it('a study whose model is missing on the worker fails after its attempts, naming the field and the fix', async () => {
    // Queued by the test above, before its worker started.
    if (!missing) throw new Error('the study above did not queue the missing-model study')
    const queued = await missing
    // Attempt 1 fails at once, graphile-worker retries after e^1 s, attempt 2 is the last.
    await until(
      'the study failed',
      async () => (await readStudy(t.db, queued.studyId))?.study.state === 'failed',
    )
    const stored = await readStudy(t.db, queued.studyId)
    expect(stored?.study.error).toMatch(
      /draft model .*no\/such\/draft\.gguf not found on this worker.*bench fixtures/,
    )
    expect(stored?.perK).toEqual([])
    const job = (await matrixStatus(t.db, queued.matrixId))?.jobs[0]
    expect([job?.state, job?.attempts]).toEqual(['dead', 2])
  }, 30_000)
})
