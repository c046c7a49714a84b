/**
 * db/request-rows.ts: every outcome kind survives outcome → row → outcome, in memory and through the real
 * sink and each backend (float32 chunk gaps read back as Math.fround of what was written).
 */
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../db/redact.ts'
import { fromRequestRow, requestRow, toRequestRow } from '../../db/request-rows.ts'
import { type RequestRow, requests } from '../../db/schema.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'
import { recordRun } from './fixtures/data.ts'
import { asStored, exactGaps, outcomes } from './fixtures/every-outcome.ts'

const keepAll = createRedactor({})

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
