/**
 * Endpoint studies in the database (db/studies/endpoint-store.ts), on each backend (PGlite, and PostgreSQL
 * when DATABASE_URL is set): a study as `bench spec-endpoints` stores it reads back with every per-K
 * figure, null where the server reported nothing, per-position rates when it counted them; it is listed
 * with its kind; it is written whole or not at all; NaN becomes null; credentials in a URL are not kept;
 * its bench-study document (version 2) imports into another database the same, and a version 1 document
 * of a native study still imports. The record is built from hand-chosen counters (endpoint-study-fixture.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportStudy, importStudy, StudyDocumentError, studyDocumentRows } from '../../db/studies/document.ts'
import { saveEndpointStudy } from '../../db/studies/endpoint-store.ts'
import { listStudies, readStudy, storeStudyResult } from '../../db/studies/store.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { DRAFTS, ENDPOINT_C, keptAt, knownEndpointStudy } from './endpoint-study-fixture.ts'
import { knownStudy } from './studies-fixture.ts'

describe.each(dbBackends())('endpoint studies on %s', (backend) => {
  let t: TestDatabase
  let other: TestDatabase
  beforeAll(async () => {
    ;[t, other] = await Promise.all([createTestDatabase(backend), createTestDatabase('pglite')])
  })
  afterAll(async () => {
    await Promise.all([t?.dispose(), other?.dispose()])
  })

  it('stores a study and reads back every K as measured, null where the server said nothing', async () => {
    const record = knownEndpointStudy([1, 2, 4], { timingsOnlyAt: 2, changedAt: 4 })
    const id = await saveEndpointStudy(t.db, record, { source: 'spec-e.json', label: '<b>pr</b>' })
    const stored = await readStudy(t.db, id)
    expect(stored?.study).toMatchObject({
      name: 'known-endpoints',
      kind: 'endpoint',
      state: 'completed',
      progress: 1,
      costRatio: ENDPOINT_C,
      alphaUsed: null,
      label: '<b>pr</b>',
      source: 'spec-e.json',
      durationMs: 1234,
      startedAt: new Date('2026-12-07T22:00:00.000Z'),
    })
    expect(stored?.study.study).toEqual(record.study)
    expect(stored?.perK).toEqual([])
    expect(stored?.perPrompt).toEqual([])
    expect(stored?.endpointK.map((r) => r.k)).toEqual([1, 2, 4])
    for (const [i, row] of stored!.endpointK.entries()) {
      const r = record.result.rows[i]!
      expect(row.measuredSpeedup).toBeCloseTo(1 + 0.1 * row.k, 12)
      expect(row.tokensPerS).toBe(r.pass.decodeTokensPerS)
      expect(row.baselineTokensPerS).toBe(100)
      expect(row.costRatio).toBe(ENDPOINT_C)
      expect(row.sameOutput).toBe(row.k !== 4)
    }
    // K = 4 from /metrics: 20 drafts, position i kept in ⌊20 · 0.8^i⌋.
    const k4 = stored!.endpointK[2]!
    const kept = [1, 2, 3, 4].map(keptAt)
    const accepted = kept.reduce((a, b) => a + b, 0)
    expect(k4).toMatchObject({ drafted: 80, accepted, drafts: DRAFTS, countersSource: 'metrics' })
    expect(k4.acceptanceRate).toBeCloseTo(accepted / 80, 12)
    expect(k4.meanAcceptanceLength).toBeCloseTo(1 + accepted / DRAFTS, 12)
    expect(k4.alphaHat).toBe(record.result.rows[2]!.alphaHat)
    expect(k4.predictedSpeedup).toBe(record.result.rows[2]!.predictedSpeedup)
    expect(k4.error).toBeCloseTo(k4.measuredSpeedup - k4.predictedSpeedup!, 12)
    expect(k4.relativeError).toBeCloseTo(record.result.rows[2]!.relativeError!, 12)
    expect(k4.positions).toEqual(
      kept.map((n, i) => ({ position: i + 1, accepted: n, rate: expect.closeTo(n / DRAFTS, 12) })),
    )
    // The per-response timings kept beside the /metrics deltas, which they equal.
    expect(k4.details).toMatchObject({
      decodeSource: 'server timings',
      countersWindow: 'run',
      timings: { draftTokens: 80, acceptedTokens: accepted },
    })
    // K = 2 from timings alone: counts, a rate, but no drafts, so no τ, α̂, prediction or positions.
    expect(stored!.endpointK[1]).toMatchObject({
      k: 2,
      drafted: 40,
      drafts: null,
      meanAcceptanceLength: null,
      alphaHat: null,
      predictedSpeedup: null,
      error: null,
      relativeError: null,
      countersSource: 'timings',
      positions: [],
    })
    const details = stored?.study.details as { off: { decodeTokensPerS: number }; c: unknown }
    expect(details.off.decodeTokensPerS).toBe(100)
    expect(details.c).toEqual({ value: ENDPOINT_C, source: 'given' })

    const listed = (await listStudies(t.db)).find((s) => s.id === id)
    expect(listed).toMatchObject({
      kind: 'endpoint',
      state: 'completed',
      ks: [1, 2, 4],
      bestMeasured: { k: 4, speedup: expect.closeTo(1.4, 12) },
      // The best predicted K among the two with a prediction.
      optimalK: [1, 4].reduce((a, b) =>
        record.result.rows.find((r) => r.k === a)!.predictedSpeedup! >=
        record.result.rows.find((r) => r.k === b)!.predictedSpeedup!
          ? a
          : b,
      ),
    })
  })

  it('a study that cannot be stored leaves nothing; NaN is null; URL credentials are not kept', async () => {
    const before = (await listStudies(t.db, 500)).length
    const broken = knownEndpointStudy([1, 2])
    broken.result.rows[1]!.measuredSpeedup = Number.NaN
    await expect(saveEndpointStudy(t.db, broken)).rejects.toThrow(/K = 2: measured speedup is NaN/)
    expect(await listStudies(t.db, 500)).toHaveLength(before)

    const record = knownEndpointStudy([3], { name: 'with-nan' })
    record.environment.loadAverageAfter = [Number.NaN, 1, 2]
    record.study = {
      ...record.study,
      off: 'http://user:s3cret-pass@127.0.0.1:8080/v1',
      on: [{ k: 3, url: 'http://tok3n@127.0.0.1:8083/v1' }],
    }
    const id = await saveEndpointStudy(t.db, record)
    const stored = await readStudy(t.db, id)
    expect((stored!.study.environment as { loadAverageAfter: unknown[] }).loadAverageAfter).toEqual([
      null,
      1,
      2,
    ])
    const text = JSON.stringify(stored)
    expect(text).not.toContain('s3cret-pass')
    expect(text).not.toContain('tok3n')
    expect(stored?.study.study).toMatchObject({
      off: 'http://***@127.0.0.1:8080/v1',
      on: [{ k: 3, url: 'http://***@127.0.0.1:8083/v1' }],
    })
  })

  it('a study whose endpoint did not speculate is stored completed, its problems as the error, listed', async () => {
    const problem = 'on[0].url (K = 1, http://127.0.0.1:9/v1): the server drafted no token over its pass'
    const id = await saveEndpointStudy(t.db, {
      ...knownEndpointStudy([1, 2]),
      problems: [problem, 'off (…): x'],
    })
    expect((await readStudy(t.db, id))?.study).toMatchObject({
      state: 'completed',
      error: `${problem}\noff (…): x`,
    })
    expect((await listStudies(t.db)).find((s) => s.id === id)?.error).toContain(problem)
    const fine = await saveEndpointStudy(t.db, knownEndpointStudy([1]))
    expect((await readStudy(t.db, fine))?.study.error).toBeNull()
  })

  it('its bench-study document imports the same; a version 1 native document still imports', async () => {
    const id = await saveEndpointStudy(t.db, knownEndpointStudy([1, 2, 4], { timingsOnlyAt: 1 }))
    const doc = await exportStudy(t.db, id)
    expect(doc).toMatchObject({ format: 'bench-study', version: 2, study: { kind: 'endpoint' } })
    // `bench study export --out` says what it wrote: the K rows of an endpoint study are endpointK (it said 0).
    expect(studyDocumentRows(doc!)).toBe('endpoint study, 3 K rows')
    const imported = await importStudy(other.db, JSON.parse(JSON.stringify(doc)))
    const [was, is] = await Promise.all([readStudy(t.db, id), readStudy(other.db, imported)])
    expect(is?.endpointK).toEqual(was?.endpointK)
    const strip = ({
      id: _i,
      matrixId: _m,
      matrixJobId: _j,
      baseDir: _b,
      ...rest
    }: NonNullable<typeof was>['study']) => rest
    expect(strip(is!.study)).toEqual(strip(was!.study))

    // A version 1 document: native, no endpointK.
    const nativeId = await storeStudyResult(t.db, knownStudy(2, 'old-native'))
    const nativeDoc = (await exportStudy(t.db, nativeId))!
    expect(studyDocumentRows(nativeDoc)).toMatch(/^native study, 2 K rows, \d+ prompt rows$/)
    const { endpointK: _e, ...v2 } = nativeDoc
    const v1 = { ...v2, version: 1 }
    const back = await readStudy(other.db, await importStudy(other.db, JSON.parse(JSON.stringify(v1))))
    expect(back?.study).toMatchObject({ kind: 'native', name: 'old-native' })
    expect(back?.perK.map((r) => r.k)).toEqual([1, 2])
    // An endpoint study cannot claim version 1; a bad endpoint row names its field.
    const err = await importStudy(
      other.db,
      { ...doc, version: 1, endpointK: [{ ...doc!.endpointK[0], drafted: -3 }] },
      'old.json',
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StudyDocumentError)
    expect((err as Error).message).toMatch(/endpointK\[0\]\.drafted: must be ≥ 0, got -3/)
    expect((err as Error).message).toMatch(/version: an endpoint study is a version 2 document/)
  })
})
