/**
 * createDb({ statementTimeoutMs }) on PostgreSQL: the server cancels a statement past the deadline, so a
 * dashboard page that gave up (503) does not leave its query holding a pooled connection. PostgreSQL only:
 * PGlite ignores statement_timeout (the dashboard bounds it with a worker host and its read deadline).
 */
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { selectRows } from '../../db/client.ts'
import { createTestDatabase } from '../helpers/db.ts'

describe.skipIf(!process.env.DATABASE_URL)('statementTimeoutMs on PostgreSQL', () => {
  it('cancels a statement past the deadline and the connection serves the next one', async () => {
    const t = await createTestDatabase('postgres', { statementTimeoutMs: 300 })
    try {
      const started = performance.now()
      const error = await selectRows(t.db, sql`select pg_sleep(5)`).then(
        () => undefined,
        // drizzle wraps the driver's error; PostgreSQL's SQLSTATE is on its cause.
        (err: unknown) => ((err as { cause?: unknown }).cause ?? err) as { code?: string },
      )
      expect(error?.code, 'query_canceled').toBe('57014')
      expect(performance.now() - started, 'ms until cancelled').toBeLessThan(3_000)
      const [row] = await selectRows<{ one: number }>(t.db, sql`select 1 as one`)
      expect(row?.one).toBe(1)
    } finally {
      await t.dispose()
    }
  })

  it('is off unless asked', async () => {
    const t = await createTestDatabase('postgres')
    try {
      const [row] = await selectRows<{ statement_timeout: string }>(t.db, sql`show statement_timeout`)
      expect(row?.statement_timeout).toBe('0')
    } finally {
      await t.dispose()
    }
  })
})
