/**
 * A new embedded database is a copy of the cached, migrated template (db/pglite/template.ts): built once
 * per key in the cache directory, private, reused, older keys removed; each database made from it is its
 * own (writes to one reach neither the template nor another); an unusable cache falls back to initdb
 * rather than failing.
 */
import { mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Database, selectRows } from '../../db/client.ts'
import {
  benchCacheDir,
  copyTemplate,
  ensureTemplate,
  TEMPLATES_KEPT,
  templatePath,
} from '../../db/pglite/template.ts'
import { removeTestDir, testTmpRoot } from '../helpers/db.ts'

let root = ''
const savedCacheDir = process.env.BENCH_CACHE_DIR

beforeAll(() => {
  root = mkdtempSync(path.join(testTmpRoot(), 'bench-template-'))
})
afterAll(() => {
  if (savedCacheDir === undefined) delete process.env.BENCH_CACHE_DIR
  else process.env.BENCH_CACHE_DIR = savedCacheDir
  removeTestDir(root)
})

const tableCount = "select count(*)::int as n from pg_tables where tablename = 'template_probe'"

async function count(db: Database, query: string): Promise<number> {
  return (await selectRows<{ n: number }>(db, sql.raw(query)))[0]?.n ?? Number.NaN
}

describe('PGlite template', () => {
  it('is built once per key, private, reused; only the newest keys kept; databases made from it are independent', async () => {
    const cache = path.join(root, 'cache')
    process.env.BENCH_CACHE_DIR = cache
    expect(benchCacheDir()).toBe(cache)
    // Templates of older keys (other PGlite versions or sets of migrations), oldest first.
    const old = Array.from({ length: TEMPLATES_KEPT }, (_, i) => `pglite-template-000000000000000${i}`)
    old.forEach((name, i) => {
      mkdirSync(path.join(cache, name), { recursive: true })
      const t = new Date(Date.now() - (TEMPLATES_KEPT - i) * 3_600_000)
      utimesSync(path.join(cache, name), t, t)
    })

    const built = await ensureTemplate()
    expect(built).toBe(templatePath())
    expect(statSync(built as string).mode & 0o077, 'private to the user').toBe(0)
    expect(readdirSync(cache).sort(), 'the newest keys are kept, the oldest removed').toEqual(
      [...old.slice(1), path.basename(built as string)].sort(),
    )
    const mtime = statSync(path.join(built as string, 'PG_VERSION')).mtimeMs
    expect(await ensureTemplate(), 'reused').toBe(built)
    expect(statSync(path.join(built as string, 'PG_VERSION')).mtimeMs, 'not rebuilt').toBe(mtime)

    // Through the product's own path (createDb → db/pglite/host.ts createDatabase): a is written to, and
    // b, made from the template after that, has none of it.
    const a = await createDb({ dataDir: path.join(root, 'a') })
    try {
      expect(await count(a, 'select count(*)::int as n from runs'), 'migrated: runs exists, empty').toBe(0)
      await a.execute(sql.raw('create table template_probe (x int)'))
      await a.execute(sql.raw('insert into template_probe values (1)'))
      expect(await count(a, 'select count(*)::int as n from template_probe'), 'written to a').toBe(1)
    } finally {
      await a.close()
    }
    const b = await createDb({ dataDir: path.join(root, 'b') })
    try {
      expect(await count(b, tableCount), 'b is its own database; the template was not written').toBe(0)
    } finally {
      await b.close()
    }
  }, 120_000)

  it('an unusable cache directory is no error: copyTemplate says no and the database is made by initdb', async () => {
    const file = path.join(root, 'not-a-dir')
    writeFileSync(file, 'x')
    process.env.BENCH_CACHE_DIR = path.join(file, 'cache')
    expect(await ensureTemplate()).toBeUndefined()
    expect(await copyTemplate(path.join(root, 'never'))).toBe(false)
  })
})
