/**
 * Databases for tests: every suite that touches the database runs on each backend in `dbBackends()` —
 * embedded PGlite always, real PostgreSQL too when DATABASE_URL is set (CI starts a throwaway cluster).
 * Each test database is fresh: a new PGlite directory (copied from a migrated template, since initdb alone
 * takes seconds here) or a new PostgreSQL database, dropped at the end.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { type CreateDbOptions, createDb, type Database } from '../../db/client.ts'
import { MIGRATIONS_FOLDER } from '../../db/migrate.ts'
import { pgDataOf } from '../../db/pglite/dir.ts'

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

/** A new directory whose pgdata is a copy of an already-migrated database. */
export async function freshPgliteDir(): Promise<string> {
  const source = await templatePgdata()
  const dir = mkdtempSync(path.join(testTmpRoot(), 'bench-db-test-'))
  cpSync(source, pgDataOf(dir), { recursive: true })
  return dir
}

let template: Promise<string> | undefined

/**
 * Built once per set of migrations (keyed by their content) and shared by all test processes; built in a
 * private directory and renamed into place, so parallel builders never see half a template.
 */
function templatePgdata(): Promise<string> {
  template ??= (async () => {
    const hash = createHash('sha256')
    // Names too: a migration regenerated under another name with the same SQL is another schema history.
    for (const file of readdirSync(MIGRATIONS_FOLDER).sort())
      if (file.endsWith('.sql')) hash.update(file).update(readFileSync(path.join(MIGRATIONS_FOLDER, file)))
    // drizzle keys applied migrations by the journal's timestamps: a regenerated migration changes them.
    hash.update(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json')))
    const target = path.join(os.tmpdir(), `bench-pglite-template-${hash.digest('hex').slice(0, 16)}`)
    if (existsSync(target)) return target
    const work = mkdtempSync(path.join(os.tmpdir(), 'bench-pglite-build-'))
    const db = await createDb({ dataDir: work })
    await db.close()
    try {
      renameSync(pgDataOf(work), target)
    } catch (err) {
      if (!existsSync(target)) throw err
    }
    rmSync(work, { recursive: true, force: true })
    return target
  })()
  return template
}
