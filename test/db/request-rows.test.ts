/**
 * db/request-rows.ts: every outcome kind survives outcome → row → outcome, in memory and through the real
 * sink and each backend (float32 chunk gaps read back as Math.fround of what was written).
 */
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../db/redact.ts'
import { fromRequestRow, requestRow, toRequestRow } from '../../db/request-rows.ts'
import { type RequestRow, requests } from '../../db/schema.ts'
import type { RequestErrorKind } from '../../harness/errors.ts'
import type { ErrorOutcome, RequestOutcome } from '../../harness/results.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'
import { recordRun } from './fixtures/data.ts'

const keepAll = createRedactor({})
const errorKinds: RequestErrorKind[] = ['timeout', 'http', 'stream', 'engine', 'crash', 'aborted']

/** Gaps that float32 holds exactly (0.5, 1.25 …) and ones it rounds (0.1, 12.345678). */
const exactGaps = [0.5, 1.25, 1024, 3.0517578125e-5]
const roundedGaps = [0.1, 12.345678, 999.999, 1e-7]

const outcomes: RequestOutcome[] = [
  {
    seq: 0,
    promptIndex: 3,
    scheduledAt: 1.5,
    startedAt: 2.25,
    state: 'ok',
    ttftMs: 41.123456789,
    e2eMs: 912.987654321,
    chunkGapsMs: [...exactGaps, ...roundedGaps],
    chunks: 9,
    promptTokens: 128,
    outputTokens: 64,
    tokensSource: 'server',
    serverOutputTokens: 64,
    tokenizerOutputTokens: 63,
    finishReason: 'length',
    serverTimings: {
      promptN: 128,
      promptMs: 30.5,
      predictedN: 64,
      predictedMs: 870.25,
      cacheN: 12,
      draftN: 20,
      draftNAccepted: 15,
    },
    connectionRetries: 1,
  },
  // The least an ok outcome carries: no optional field, one chunk, no gaps.
  {
    seq: 1,
    promptIndex: 0,
    scheduledAt: 10,
    startedAt: 10,
    state: 'ok',
    ttftMs: 5,
    e2eMs: 5,
    chunkGapsMs: [],
    chunks: 1,
    outputTokens: 1,
    tokensSource: 'chunks',
  },
  {
    seq: 2,
    promptIndex: 1,
    scheduledAt: 20,
    startedAt: 21,
    state: 'ok',
    ttftMs: 7,
    e2eMs: 1007,
    // A long float32 array: 2 000 gaps, each a float32 already.
    chunkGapsMs: Array.from({ length: 2000 }, (_, i) => Math.fround(0.5 + i / 7)),
    chunks: 2001,
    promptTokens: 0,
    outputTokens: 2001,
    tokensSource: 'tokenizer',
    serverTimings: {},
  },
  ...errorKinds.map(
    (kind, i): ErrorOutcome => ({
      seq: 3 + i,
      promptIndex: i,
      scheduledAt: 100 + i,
      startedAt: 100.5 + i,
      state: 'error',
      error: { kind, message: `${kind} went wrong` },
    }),
  ),
  // An error with every optional field: status, partial progress, a retry.
  {
    seq: 9,
    promptIndex: 2,
    scheduledAt: 200,
    startedAt: 200.25,
    state: 'error',
    error: { kind: 'http', status: 503, message: 'upstream said no' },
    ttftMs: 12.5,
    e2eMs: 99.75,
    chunks: 3,
    connectionRetries: 1,
  },
]

/** What a row stores of `o`: its chunk gaps as float32. */
function asStored(o: RequestOutcome): RequestOutcome {
  return o.state === 'ok' ? { ...o, chunkGapsMs: o.chunkGapsMs.map(Math.fround) } : o
}

describe('request rows', () => {
  it('gives back every outcome kind in memory (outcome → row → outcome)', () => {
    for (const o of outcomes)
      expect(fromRequestRow(toRequestRow(7, o, keepAll) as RequestRow), `seq ${o.seq} (${o.state})`).toEqual(
        o,
      )
  })

  it('stores what a writer leaves out as null (send times NaN, retries 0) and redacts strings', () => {
    const redact = createRedactor({ OPENAI_API_KEY: 'sk-secret-value-123' })
    const row = requestRow(
      4,
      { seq: 0, state: 'error', promptIndex: 0, errorKind: 'http', message: 'bad key sk-secret-value-123' },
      redact,
    )
    expect(row.message, 'redacted').not.toContain('sk-secret-value-123')
    expect(row.scheduledAtMs, 'no send time').toBeNaN()
    expect(row, 'left out').toMatchObject({
      ttftMs: null,
      chunkGapsMs: null,
      tokensSource: null,
      connectionRetries: 0,
    })
    expect(fromRequestRow(row as RequestRow), 'imported, not an outcome').toMatch(/no send times/)
    expect(
      requestRow(
        4,
        { seq: 1.4, state: 'ok', promptIndex: 0, outputTokens: 2.6, chunks: Number.NaN },
        keepAll,
      ),
      'counts rounded, non-finite null',
    ).toMatchObject({ seq: 1, outputTokens: 3, chunks: null })
  })
})

describe('request rows in the database', () => {
  it.each(dbBackends())('gives back every outcome kind through the sink on %s', async (backend) => {
    const t = await createTestDatabase(backend)
    try {
      const runId = await recordRun(t.db, outcomes)
      const rows = await t.db
        .select()
        .from(requests)
        .where(eq(requests.runId, runId))
        .orderBy(asc(requests.seq))
      expect(rows.length, 'rows').toBe(outcomes.length)
      for (const [i, o] of outcomes.entries())
        expect(fromRequestRow(rows[i] as RequestRow), `seq ${o.seq} (${o.state})`).toEqual(asStored(o))
      const first = fromRequestRow(rows[0] as RequestRow)
      expect(first, 'exact float32 gaps unchanged').toMatchObject({
        chunkGapsMs: expect.arrayContaining(exactGaps),
      })
    } finally {
      await t.dispose()
    }
  })
})
