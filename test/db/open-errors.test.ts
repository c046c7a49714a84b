/**
 * An embedded database that is not what we expect is an error, never a new database (issue 14): missing
 * PG_VERSION with data, damaged files, pgdata that is a file, a newer schema, `--db` paths under /proc or
 * through a file. A new database is created only in a missing or empty directory, private to the user.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { afterAll, describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { DatabaseError } from '../../db/database-error.ts'
import { pgDataOf } from '../../db/pglite/dir.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { BENCH_BIN } from '../helpers/cli.ts'
import { freshPgliteDir, testTmpRoot } from '../helpers/db.ts'
import { okOutcome, runMeta } from './fixtures/data.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')

/** `bench db …` in a child process: the built CLI, as users run it (through tsx it started ~2–4 s slower). */
function benchDb(
  args: string[],
  cwd = ROOT,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BENCH_BIN, ...args],
      { cwd, env: { ...process.env, DATABASE_URL: '', BENCH_DB: '' }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr, ms: Date.now() - started }),
    )
  })
}

/** Every file under dir with its size and content hash: "untouched" means this does not change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (p: string) => {
    for (const name of readdirSync(p)) {
      const child = path.join(p, name)
      if (statSync(child).isDirectory()) walk(child)
      else out[path.relative(dir, child)] = createHash('sha1').update(readFileSync(child)).digest('hex')
    }
  }
  walk(dir)
  return out
}

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

let withData: Promise<string> | undefined
/**
 * A database holding one run of 7 requests, closed: a copy of one made once (each case damages its own
 * copy; a PGlite start per case cost ~1.5–3 s).
 */
async function databaseWithData(): Promise<string> {
  withData ??= (async () => {
    const dir = await freshPgliteDir()
    dirs.push(dir)
    const db = await createDb({ dataDir: dir })
    const sink = createPostgresSink(db)
    const recorder = await sink.startRun(runMeta())
    for (let seq = 0; seq < 7; seq++) recorder.record(okOutcome(seq))
    await recorder.finish('completed', undefined)
    await sink.close()
    await db.close()
    return dir
  })()
  const source = await withData
  const dir = mkdtempSync(path.join(testTmpRoot(), 'bench-open-data-'))
  dirs.push(dir)
  cpSync(source, dir, { recursive: true })
  return dir
}

describe('an embedded database that is not what we expect', () => {
  it('missing PG_VERSION with data: an error naming it, exit 1 from the CLI, files untouched', async () => {
    const dir = await databaseWithData()
    unlinkSync(path.join(pgDataOf(dir), 'PG_VERSION'))
    const before = snapshot(dir)
    const error = await createDb({ dataDir: dir }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
    expect((error as Error).message, 'says what is missing and where').toMatch(
      new RegExp(`${pgDataOf(dir)} holds \\d+ entries but no PG_VERSION`),
    )
    expect((error as Error).message, 'says what to do').toMatch(
      /restore .* from a backup.*move it aside.*--db/i,
    )
    const cli = await benchDb(['db', 'info', '--db', dir])
    expect(cli.code, 'exit code').toBe(1)
    expect(cli.stderr, 'one clear line, no stack').toMatch(
      /^bench: the embedded database in .* is incomplete/,
    )
    expect(cli.stderr, 'no stack trace').not.toMatch(/\n\s+at /)
    expect(cli.stdout, 'no report of an empty database').toBe('')
    expect(snapshot(dir), 'no file created, changed or deleted').toEqual(before)
  })

  it('truncated pg_control: the PANIC in one message with the directory and what to do', async () => {
    const dir = await databaseWithData()
    truncateSync(path.join(pgDataOf(dir), 'global', 'pg_control'), 100)
    const cli = await benchDb(['db', 'info', '--db', dir])
    expect(cli.code, 'exit code').toBe(1)
    expect(cli.stderr, 'what PostgreSQL said, where, and what to do').toMatch(
      new RegExp(
        `^bench: the embedded database in ${dir} could not be opened: could not read file "global/pg_control": ` +
          'read 100 of \\d+\\. .*restore .* from a backup',
      ),
    )
    expect(cli.stderr, 'not the WebAssembly abort').not.toMatch(/Aborted|ASSERTIONS/)
  })

  it('deleted WAL: the PANIC, not "Aborted()"', async () => {
    const dir = await databaseWithData()
    const wal = path.join(pgDataOf(dir), 'pg_wal')
    for (const name of readdirSync(wal)) if (/^[0-9A-F]{24}$/.test(name)) unlinkSync(path.join(wal, name))
    const error = (await createDb({ dataDir: dir }).catch((err: unknown) => err)) as Error
    expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
    expect(error.message, 'the reason').toMatch(
      /could not be opened: could not locate a valid checkpoint record/,
    )
  })

  it('a broken postgresql.conf: the FATAL line instead of "PGlite failed to initialize properly"', async () => {
    const dir = await databaseWithData()
    writeFileSync(path.join(pgDataOf(dir), 'postgresql.conf'), 'bogus = = 1\n', { flag: 'a' })
    const error = (await createDb({ dataDir: dir }).catch((err: unknown) => err)) as Error
    expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
    expect(error.message, 'the reason, with the real path').toMatch(
      new RegExp(
        `could not be opened: configuration file "${pgDataOf(dir)}/postgresql.conf" contains errors`,
      ),
    )
  })

  it('pgdata that is a file: an error, the file left as it was', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-open-'))
    dirs.push(dir)
    writeFileSync(pgDataOf(dir), 'not a database\n')
    const error = (await createDb({ dataDir: dir }).catch((err: unknown) => err)) as Error
    expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
    expect(error.message, 'says so').toMatch(/pgdata is a file, not a database directory/)
    expect(error.message, 'no [object Object]').not.toMatch(/object Object/)
    expect(readFileSync(pgDataOf(dir), 'utf8'), 'untouched').toBe('not a database\n')
  })

  it('a non-empty directory without pgdata is not made a database', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-open-'))
    dirs.push(dir)
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n')
    const error = (await createDb({ dataDir: dir }).catch((err: unknown) => err)) as Error
    expect(error.message, 'says why').toMatch(
      /holds no database \(no pgdata\/\) but is not empty \(notes\.txt\)/,
    )
    expect(readdirSync(dir), 'nothing created').toEqual(['notes.txt'])
  })

  it('a newer schema (a migration this build does not know) is refused, nothing applied', async () => {
    const dir = await freshPgliteDir()
    dirs.push(dir)
    const future = Date.parse('2030-01-01T00:00:00Z')
    const pg = await PGlite.create(pgDataOf(dir))
    await pg.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [
      'from-a-newer-bench',
      future,
    ])
    await pg.close()
    const error = (await createDb({ dataDir: dir }).catch((err: unknown) => err)) as Error
    expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
    expect(error.message, 'says newer, and what to do').toMatch(
      /has 1 schema migration this bench does not know .*newest applied 2030-01-01T00:00:00\.000Z.*a newer version of bench/,
    )
  })
})

describe('--db paths are checked before anything is created', () => {
  it('/proc/self/nope: an error at once (was 100 % CPU forever)', async () => {
    const cli = await benchDb(['db', 'info', '--db', '/proc/self/nope'])
    expect(cli.code, 'exit code').toBe(1)
    expect(cli.stderr, 'names the path and the filesystem').toMatch(
      /^bench: database directory \/proc\/self\/nope is on the kernel's proc filesystem/,
    )
    // A child process with tsx starts in ~1 s; the old spin never ended.
    expect(cli.ms, 'fast').toBeLessThan(15_000)
  })

  it('/sys, a path through a file, a path that is a file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-open-'))
    dirs.push(dir)
    const file = path.join(dir, 'file')
    writeFileSync(file, '')
    const message = async (dataDir: string) =>
      ((await createDb({ dataDir }).catch((err: unknown) => err)) as Error).message
    expect(await message('/sys/kernel/nope'), '/sys').toMatch(/is on the kernel's sysfs filesystem/)
    expect(await message(path.join(file, 'db')), 'parent is a file').toBe(
      `database directory ${path.join(file, 'db')} cannot be created: ${file} is a file, not a directory`,
    )
    expect(await message(file), 'a file').toMatch(new RegExp(`^database directory ${file} is a file`))
    expect(await message('mysql://host/db'), 'another URL scheme').toMatch(/^--db is not a PostgreSQL URL/)
  })
})

describe('files the embedded database creates are private', () => {
  it('a fresh .bench/db: directories 0700, files 0600, .bench included', { timeout: 90_000 }, async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'bench-modes-'))
    dirs.push(cwd)
    // What a creator killed during initdb leaves (the half-built database, under its building name) next
    // to an empty pgdata: still "no database", so the next opener builds one. Made 0755/0644 by the umask.
    mkdirSync(path.join(cwd, '.bench/db/pgdata'), { recursive: true })
    mkdirSync(path.join(cwd, '.bench/db/pgdata.new/base'), { recursive: true })
    writeFileSync(path.join(cwd, '.bench/db/pgdata.new/base/half'), 'x')
    // The default location, a cold initdb, by the CLI.
    const cli = await benchDb(['db', 'migrate'], cwd)
    expect(cli.stderr, 'stderr').toBe('')
    expect(cli.code, 'exit code').toBe(0)
    const loose: string[] = []
    let files = 0
    const walk = (p: string) => {
      const mode = statSync(p).mode
      if (mode & 0o077) loose.push(`${(mode & 0o777).toString(8)} ${path.relative(cwd, p)}`)
      if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name))
      else files++
    }
    walk(path.join(cwd, '.bench'))
    expect(files, 'a database was created').toBeGreaterThan(500)
    expect(readdirSync(path.join(cwd, '.bench/db')).sort(), 'built, then renamed into place').toEqual([
      'pgdata',
    ])
    expect(loose, 'nothing readable or writable by group or others').toEqual([])
  })

  it('an existing database with 0666 files is made private on open, while it is open', async () => {
    const dir = await freshPgliteDir()
    dirs.push(dir)
    mkdirSync(path.join(dir, 'extra'), { mode: 0o777 })
    writeFileSync(
      path.join(pgDataOf(dir), 'PG_VERSION'),
      readFileSync(path.join(pgDataOf(dir), 'PG_VERSION')),
      {
        mode: 0o666,
      },
    )
    const db = await createDb({ dataDir: dir })
    try {
      expect((statSync(dir).mode & 0o777).toString(8), 'the directory').toBe('700')
      expect((statSync(path.join(pgDataOf(dir), 'PG_VERSION')).mode & 0o777).toString(8), 'a file').toBe(
        '600',
      )
      expect((statSync(path.join(pgDataOf(dir), 'base')).mode & 0o777).toString(8), 'a subdirectory').toBe(
        '700',
      )
      expect((statSync(path.join(dir, 'extra')).mode & 0o777).toString(8), 'anything under it').toBe('700')
    } finally {
      await db.close()
    }
  })
})
