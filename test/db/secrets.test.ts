import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Db, selectRows } from '../../db/client.ts'
import { exportRun } from '../../db/export.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { parseScenario } from '../../harness/config/index.ts'
import { runScenario } from '../../harness/runner.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { errorOutcome, okOutcome, runMeta } from './fixtures/data.ts'

// Distinct values so a hit names which path leaked.
const NAMED_KEY = 'sk-test-named-4f9c2a7e1b'
const REFERENCED_KEY = 'ref-secret-8d3e6b0a55'
const MOCK_KEY = 'mock-bearer-1a2b3c4d5e'
const EXPORT_KEY = 'sk-test-export-6c1d9e2f0a7b3c4d'
const EXPORT_HEADER = 'gw-hdr-0f9e8d7c6b5a'

/** Every column of every table (public and drizzle's bookkeeping), as text, that contains `needle`. */
async function occurrences(db: Db, needle: string): Promise<string[]> {
  const columns = await selectRows<{ table_schema: string; table_name: string; column_name: string }>(
    db,
    sql`select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ('public', 'drizzle') order by 1, 2, 3`,
  )
  expect(columns.length, 'columns scanned').toBeGreaterThan(50)
  const hits: string[] = []
  for (const c of columns) {
    const column = sql`${sql.identifier(c.table_schema)}.${sql.identifier(c.table_name)}.${sql.identifier(c.column_name)}`
    const [row] = await selectRows<{ n: number | string }>(
      db,
      sql`select count(*) as n from ${sql.identifier(c.table_schema)}.${sql.identifier(c.table_name)}
          where strpos(${column}::text, ${needle}) > 0`,
    )
    if (Number(row?.n) > 0) hits.push(`${c.table_name}.${c.column_name}`)
  }
  return hits
}

describe.each(dbBackends())('no secret at rest on %s', (backend) => {
  let t: TestDatabase
  const saved = { ...process.env }
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    process.env.BENCH_TEST_API_KEY = NAMED_KEY
    // Not secret-looking by name; secret because a scenario names it in apiKeyEnv.
    process.env.BENCH_TEST_ENDPOINT_CRED = REFERENCED_KEY
    process.env.BENCH_TEST_MOCK_BEARER = MOCK_KEY
  })
  afterAll(async () => {
    process.env = saved
    await t?.dispose()
  })

  it('a real run against a mock that requires a key stores no trace of the key', async () => {
    const scenario = parseScenario({
      name: 'secret-e2e',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      targets: [
        {
          name: 'keyed',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            apiKeyEnv: 'BENCH_TEST_MOCK_BEARER',
            // The mock is told the key in the scenario itself, so it is in the scenario the runner hands over.
            mock: { apiKey: MOCK_KEY, ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } },
          },
        },
      ],
      loads: [{ kind: 'sequential', requests: 3 }],
      warmupRequests: 0,
    })
    const sink = createPostgresSink(t.db)
    const result = await runScenario({ scenario, baseDir: '.', sink })
    await sink.close()
    expect(result.runs[0]?.state, 'the run authenticated and completed').toBe('completed')
    expect(result.runs[0]?.metrics?.ok, 'ok requests').toBe(3)
    expect(await occurrences(t.db, MOCK_KEY), 'columns holding the key').toEqual([])
  })

  it('keys that reach the sink through headers, options, labels or error messages are redacted', async () => {
    const sink = createPostgresSink(t.db)
    const recorder = await sink.startRun(
      runMeta({
        label: `nightly ${NAMED_KEY}`,
        scenario: {
          name: 'secret-meta',
          hash: 'h',
          source: {
            targets: [
              {
                engine: {
                  apiKeyEnv: 'BENCH_TEST_ENDPOINT_CRED',
                  headers: { Authorization: `Bearer ${REFERENCED_KEY}` },
                },
              },
            ],
          },
        },
        engineOptions: {
          apiKeyEnv: 'BENCH_TEST_ENDPOINT_CRED',
          apiKey: NAMED_KEY,
          headers: { 'X-Api-Key': REFERENCED_KEY },
        },
      }),
    )
    recorder.record(okOutcome(0, { finishReason: `stop ${REFERENCED_KEY}` }))
    recorder.record(errorOutcome(1, `Incorrect API key provided: ${NAMED_KEY}`))
    recorder.record(errorOutcome(2, `upstream echoed ${REFERENCED_KEY}`))
    await recorder.finish('failed', undefined, `engine said ${NAMED_KEY} is invalid`)
    await sink.close()
    expect(await occurrences(t.db, NAMED_KEY), 'columns holding the named key').toEqual([])
    expect(await occurrences(t.db, REFERENCED_KEY), 'columns holding the referenced key').toEqual([])
    // Redacted, not dropped: the message still says what happened.
    const [row] = await selectRows<{ message: string }>(
      t.db,
      sql`select message from requests where seq = 1 and state = 'error'`,
    )
    expect(row?.message, 'redacted message').toBe('Incorrect API key provided: [redacted:BENCH_TEST_API_KEY]')
  })

  it('export (JSON and CSV) redacts a run stored before its secrets were known on this machine', async () => {
    // env {}: the storing machine could not resolve apiKeyEnv, so the echo was stored as it came.
    const sink = createPostgresSink(t.db, { env: {} })
    const options = { apiKeyEnv: 'BENCH_TEST_EXPORT_CRED', headers: { 'x-api-key': EXPORT_HEADER } }
    const recorder = await sink.startRun(runMeta({ engineOptions: options }))
    recorder.record(okOutcome(0))
    recorder.record(errorOutcome(1, `Incorrect API key provided: ${EXPORT_KEY}`))
    recorder.record(
      errorOutcome(2, `refused ${EXPORT_HEADER} and ${EXPORT_KEY.slice(0, 11)}...${EXPORT_KEY.slice(-4)}`),
    )
    await recorder.finish('completed', undefined)
    await sink.close()
    const runId = Number(recorder.runId)
    const stored = await selectRows<{ message: string }>(
      t.db,
      sql`select message from requests where run_id = ${runId} and seq = 1`,
    )
    expect(stored[0]?.message, 'stored as it came (the precondition)').toContain(EXPORT_KEY)
    const env = { BENCH_TEST_EXPORT_CRED: EXPORT_KEY }
    for (const format of ['json', 'csv'] as const) {
      const chunks: string[] = []
      await exportRun(t.db, runId, { format, env, write: (chunk) => void chunks.push(chunk) })
      const text = chunks.join('')
      for (const needle of [EXPORT_KEY, EXPORT_KEY.slice(8, 20), EXPORT_HEADER])
        expect(text.includes(needle), `${format} holds ${needle}`).toBe(false)
      expect(text, `${format}: the message says what happened`).toContain(
        'Incorrect API key provided: [redacted:BENCH_TEST_EXPORT_CRED]',
      )
      if (format === 'json') JSON.parse(text)
    }
  })
})
