/**
 * The embedded database directory on disk, before and around PGlite: a `--db` path is validated before
 * anything is created (kernel pseudo-filesystems, files where a directory should be), created private
 * (0700), and checked to hold what we expect — a new database is created only where none exists (a
 * missing or empty directory); anything else that is not a complete database is an error that leaves the
 * files untouched. PGlite's own failures on damaged files are translated into one message naming the
 * directory and what to do.
 *
 * Layout of an embedded database directory D: `D/pgdata` (PGlite's PostgreSQL data directory), `D/lock`
 * (db/pglite/lock.ts), `D/journal` (db/journal.ts).
 * @module
 */
import {
  accessSync,
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  type Stats,
  statfsSync,
  statSync,
} from 'node:fs'
import path from 'node:path'
import { DatabaseError } from '../database-error.ts'

/** statfs f_type of kernel pseudo-filesystems where a database can never live (linux/magic.h). */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
])
/** Also refused by path: /dev is a tmpfs (devtmpfs) by type, so statfs alone does not tell (/dev/shm is fine). */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev']

/**
 * Entries of D that do not make it a database: lock files (db/pglite/lock.ts) and their temporaries, and a new
 * database its creator did not finish (db/pglite/host.ts builds it in pgdata.new).
 */
const TRANSIENT_ENTRY = /^(lock(\.takeover|\.\d+\.tmp)?|pgdata\.new)$/

const WHAT_TO_DO = (dir: string) =>
  `restore ${dir} from a backup, or move it aside (bench then creates a new, empty database in its place), ` +
  'or pass --db <another directory>'

/**
 * Validates an embedded database directory path and creates what is missing of it, mode 0700, one level
 * at a time (Node's recursive mkdir loops forever under /proc). Returns the absolute path.
 */
export function prepareDataDir(dir: string): string {
  const abs = path.resolve(dir)
  const missing: string[] = []
  let existing = abs
  let stats: Stats | undefined
  for (;;) {
    try {
      stats = statSync(existing)
      break
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // ENOTDIR: some ancestor is a file; keep climbing to name it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw cannotUse(abs, err)
    }
    missing.unshift(existing)
    const parent = path.dirname(existing)
    if (parent === existing) throw new DatabaseError(`database directory ${abs}: no part of the path exists`)
    existing = parent
  }
  if (!stats.isDirectory())
    throw new DatabaseError(
      existing === abs
        ? `database directory ${abs} is a file, not a directory: pass --db a directory (new or holding a bench database)`
        : `database directory ${abs} cannot be created: ${existing} is a file, not a directory`,
    )
  refusePseudoFilesystem(abs, existing)
  try {
    accessSync(existing, constants.W_OK | constants.X_OK)
  } catch (err) {
    throw cannotUse(abs, err)
  }
  for (const p of missing) {
    try {
      mkdirSync(p, { mode: 0o700 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotUse(abs, err)
    }
  }
  // The directory and everything in it are the user's alone; `.bench` too, the product's own directory.
  tightenMode(abs)
  if (path.basename(path.dirname(abs)) === '.bench') tightenMode(path.dirname(abs))
  return abs
}

function refusePseudoFilesystem(abs: string, existing: string): void {
  const real = realpathSync(existing)
  const root = PSEUDO_ROOTS.find(
    (r) => (real === r || real.startsWith(`${r}/`)) && !real.startsWith('/dev/shm'),
  )
  const type = PSEUDO_FILESYSTEMS.get(statfsSync(real).type)
  if (root !== undefined || type !== undefined)
    throw new DatabaseError(
      `database directory ${abs} is on ${type ? `the kernel's ${type} filesystem` : root}, where no database ` +
        'can live: pass --db a directory on disk (default .bench/db)',
    )
}

function cannotUse(abs: string, err: unknown): DatabaseError {
  const e = err as NodeJS.ErrnoException
  return new DatabaseError(
    `database directory ${abs} cannot be used: ${e.code ?? ''} ${e.path ?? ''} ${e.code ? '' : e.message}`
      .replace(/\s+/g, ' ')
      .trim(),
  )
}

/**
 * What D holds: 'new' when there is no database yet (no pgdata, or an empty one) and 'existing' for a
 * complete one. Anything else throws, touching nothing: pgdata that is a file, pgdata with files but no
 * PG_VERSION (PGlite would silently initdb over it), D holding other things but no pgdata.
 */
export function inspectDataDir(dir: string): 'new' | 'existing' {
  const pgdata = pgDataOf(dir)
  let stats: Stats
  try {
    stats = lstatSync(pgdata)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotUse(dir, err)
    const others = readdirSync(dir).filter((name) => !TRANSIENT_ENTRY.test(name) && !isEmptyDir(dir, name))
    if (others.includes('PG_VERSION'))
      throw new DatabaseError(
        `${dir} is a PostgreSQL data directory itself; bench keeps it as pgdata/ inside the database ` +
          `directory: pass --db ${path.dirname(dir)} if that is the database directory, or move it to <dir>/pgdata`,
      )
    if (others.length > 0)
      throw new DatabaseError(
        `${dir} holds no database (no pgdata/) but is not empty (${preview(others)}): bench creates a new ` +
          `database only in a missing or empty directory. If it held a bench database, restore ${pgdata} ` +
          'from a backup; otherwise pass --db a new or empty directory',
      )
    return 'new'
  }
  if (!stats.isDirectory())
    throw new DatabaseError(
      `the embedded database in ${dir} is damaged: ${pgdata} is a file, not a database directory. ${capitalize(WHAT_TO_DO(dir))}`,
    )
  const entries = readdirSync(pgdata)
  if (entries.length === 0) return 'new'
  if (!entries.includes('PG_VERSION'))
    throw new DatabaseError(
      `the embedded database in ${dir} is incomplete: ${pgdata} holds ${entries.length} entries but no ` +
        `PG_VERSION, so it is damaged or was partly deleted; bench will not create a new database over it. ` +
        capitalize(WHAT_TO_DO(dir)),
    )
  return 'existing'
}

export const pgDataOf = (dir: string) => path.join(dir, 'pgdata')
/** Where a new database is built before it becomes pgdata. */
export const buildingDirOf = (dir: string) => path.join(dir, 'pgdata.new')

/**
 * Why PGlite could not open D, as one message: the last PANIC/FATAL line PostgreSQL wrote (with its
 * DETAIL), paths shown as on disk, instead of `Aborted(). Build with -sASSERTIONS…`, `[object Object]` or
 * `PGlite failed to initialize properly`.
 */
export function openFailure(dir: string, err: unknown, stderrLines: readonly string[]): DatabaseError {
  const pgdata = pgDataOf(dir)
  const lines = stderrLines.flatMap((l) => l.split('\n')).map((l) => l.replaceAll('/pglite/data', pgdata))
  const fatal = lines.findLastIndex((l) => /\b(PANIC|FATAL):/.test(l))
  let reason: string
  if (fatal >= 0) {
    const detail = lines[fatal + 1]?.match(/\bDETAIL:\s+(.*)$/)?.[1]
    reason = `${lines[fatal]?.replace(/^.*?\b(PANIC|FATAL):\s+/, '')}${detail ? ` (${detail})` : ''}`
  } else if (err instanceof Error && !/Aborted\(\)|failed to initialize/.test(err.message)) {
    reason = err.message
  } else if (err && typeof err === 'object' && 'errno' in err) {
    reason = `file system error ${String((err as { errno: unknown }).errno)} (emscripten errno)`
  } else {
    reason = 'PostgreSQL stopped while starting up'
  }
  return new DatabaseError(
    `the embedded database in ${dir} could not be opened: ${reason}. Its files are damaged or were changed ` +
      `outside bench: ${WHAT_TO_DO(dir)}`,
  )
}

/**
 * Takes group and other permissions off D and everything under it (directories 0700, files 0600).
 * PGlite writes the files of a new database mode 0666 whatever the umask (its initdb image is unpacked
 * with explicit modes), and later files with the umask; measured: a fresh database had 968 of 1,027 files
 * 0666, a pass over them takes ~10 ms. D itself being 0700 already keeps everyone else out.
 */
export function makePrivate(dir: string): void {
  const walk = (p: string) => {
    let entries: string[]
    try {
      entries = readdirSync(p)
    } catch {
      return
    }
    for (const name of entries) {
      const child = path.join(p, name)
      let stats: Stats
      try {
        stats = lstatSync(child)
      } catch {
        continue
      }
      if (stats.isSymbolicLink()) continue
      if (stats.mode & 0o077) chmodQuietly(child, stats.mode & 0o700)
      if (stats.isDirectory()) walk(child)
    }
  }
  tightenMode(dir)
  walk(dir)
}

function tightenMode(p: string): void {
  try {
    const stats = statSync(p)
    if (stats.mode & 0o077 && stats.uid === process.getuid?.()) chmodQuietly(p, stats.mode & 0o700)
  } catch {
    // Gone or not ours: nothing to tighten.
  }
}

function chmodQuietly(p: string, mode: number): void {
  try {
    chmodSync(p, mode)
  } catch {
    // Not ours (another user's file in a shared directory): leave it.
  }
}

function isEmptyDir(dir: string, name: string): boolean {
  try {
    return readdirSync(path.join(dir, name)).length === 0
  } catch {
    return false
  }
}

function preview(names: string[]): string {
  const shown = names.slice(0, 3).join(', ')
  return names.length > 3 ? `${shown}, … ${names.length} entries` : shown
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
