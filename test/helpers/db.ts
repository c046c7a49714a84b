/**
 * Databases for tests: every suite that touches the database runs on each backend in `dbBackends()` —
 * embedded PGlite always, real PostgreSQL too when DATABASE_URL is set (CI starts a throwaway cluster).
 * Each test database is fresh: a new PGlite directory (copied from the migrated template of
 * db/pglite/template.ts, since initdb alone takes seconds here) or a new PostgreSQL database, dropped at the end.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { type CreateDbOptions, createDb, type Database } from '../../db/client.ts'
import { pgDataOf } from '../../db/pglite/dir.ts'
import { ensureTemplate } from '../../db/pglite/template.ts'

export type BackendName = 'pglite' | 'postgres'

export interface TestDatabase {
  backend: BackendName
  /** What createDb needs to open this database again (e.g. from a child process). */
  options: CreateDbOptions
  db: Database
  /** Closes `db` and deletes the database. */
  dispose(): Promise<void>
}

/** pglite always; postgres when DATABASE_URL is set. */
export function dbBackends(): BackendName[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']
}

export async function createTestDatabase(
  backend: BackendName,
  extra: Omit<CreateDbOptions, 'url' | 'dataDir'> = {},
): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const dataDir = await freshPgliteDir()
    const options: CreateDbOptions = { dataDir, ...extra }
    const db = await createDb(options)
    return {
      backend,
      options,
      db,
      async dispose() {
        await db.close()
        removeTestDir(dataDir)
      },
    }
  }
  const adminUrl = process.env.DATABASE_URL
  if (!adminUrl) throw new Error('DATABASE_URL is not set')
  const name = `bench_test_${randomBytes(6).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const options: CreateDbOptions = { url: url.toString(), ...extra }
  const db = await createDb(options)
  return {
    backend,
    options,
    db,
    async dispose() {
      await db.close()
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} })
      try {
        await cleanup.unsafe(`drop database if exists ${name} with (force)`)
      } finally {
        await cleanup.end()
      }
    },
  }
}

/**
 * Where test directories go: the run's own folder when vitest's global setup made one
 * (test/helpers/global-setup.ts removes it, and whatever is left in it, after the run), else the OS's.
 */
export const testTmpRoot = (): string => process.env.BENCH_TEST_TMP ?? os.tmpdir()

/**
 * Deletes a test directory. Inside a vitest run it is deleted in the background: a PGlite directory is
 * ~1,000 files, ~0.7 s of rm on these disks, that the next test need not wait for — the run's folder is
 * removed at the end in any case. Outside (benchmarks) it is deleted before returning.
 */
export function removeTestDir(dir: string): void {
  if (process.env.BENCH_TEST_TMP !== undefined && dir.startsWith(process.env.BENCH_TEST_TMP))
    void rm(dir, { recursive: true, force: true }).catch(() => {})
  else rmSync(dir, { recursive: true, force: true })
}

/**
 * A new directory whose pgdata is a copy of the cached, migrated template (db/pglite/template.ts, shared
 * by all test processes and by the CLI); without a usable cache, a database made the slow way.
 */
export async function freshPgliteDir(): Promise<string> {
  const dir = mkdtempSync(path.join(testTmpRoot(), 'bench-db-test-'))
  const source = await ensureTemplate()
  if (source !== undefined) cpSync(source, pgDataOf(dir), { recursive: true })
  else await (await createDb({ dataDir: dir })).close()
  return dir
}
