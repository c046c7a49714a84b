import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DbInfo } from '../../db/info.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { createTestDatabase, dbBackends, freshPgliteDir, type TestDatabase } from '../helpers/db.ts'
import { okOutcome, runMeta } from './fixtures/data.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const CLI = path.join(ROOT, 'test/db/fixtures/db-cli.ts')

function bench(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

describe('bench db migrate', () => {
  let dir: string
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reports the schema of an embedded directory after migrating it', async () => {
    // A copy of a migrated database: a cold initdb takes seconds and the test template already covers it.
    dir = await freshPgliteDir()
    const { code, stdout, stderr } = await bench(['db', 'migrate', '--db', dir], { DATABASE_URL: '' })
    expect(stderr, 'stderr').toBe('')
    expect(code, 'exit code').toBe(0)
    expect(stdout, 'report').toMatch(/\(pglite\): schema \d{4}_\w+, (\d+)\/\1 migrations applied/)
  })
})

describe.each(dbBackends())('bench db info on %s', (backend) => {
  let t: TestDatabase
  afterAll(async () => {
    await t?.dispose()
  })

  it('reports driver, schema version and row counts as JSON', async () => {
    t = await createTestDatabase(backend)
    const sink = createPostgresSink(t.db)
    const recorder = await sink.startRun(runMeta())
    for (let seq = 0; seq < 7; seq++) recorder.record(okOutcome(seq))
    await recorder.finish('completed', undefined)
    await sink.close()
    const db = t.options.url ?? t.options.dataDir ?? ''
    // On PGlite this process owns the directory: the CLI goes through it, as `bench db info` next to `bench run` would.
    const { code, stdout, stderr } = await bench(['db', 'info', '--db', db, '--json'])
    expect(stderr, 'stderr').toBe('')
    expect(code, 'exit code').toBe(0)
    const info = JSON.parse(stdout) as DbInfo
    expect(info.driver, 'driver').toBe(backend === 'pglite' ? 'pglite-socket' : 'postgres')
    expect(info.schema.applied, 'migrations').toBe(info.schema.known)
    expect(info.rows, 'row counts').toEqual({
      variants: 0,
      environments: 0,
      runs: 1,
      requests: 7,
      runMetrics: 0,
    })
    if (backend === 'postgres') expect(info.location, 'no password in the location').not.toMatch(/:[^:@/]+@/)
  })
})
