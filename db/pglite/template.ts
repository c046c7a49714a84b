/**
 * A new embedded database starts as a copy of a cached template: PGlite's initdb plus our migrations, made
 * once per machine and set of migrations. Why: creating a database costs initdb inside WebAssembly —
 * measured 6–10 s wall (8 s CPU) per new `--db` directory on the 2-vCPU dev box under load, against
 * ~1 s to copy the template's ~1,000 files and open them — and CI jobs, tests and scripts that give each
 * run its own directory pay it every time.
 *
 * Where: `$BENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/bench`, else `~/.cache/bench`; one directory
 * `pglite-template-<key>` per key (sha256 of the PGlite version, each migration's name and SQL, and the
 * journal that drizzle keys applied migrations by), private to the user (0700). A template is built in a
 * private temporary directory and renamed into place, so parallel builders never expose half of one; when a
 * new one is saved, only the TEMPLATES_KEPT newest keys stay. Any failure of the cache (unwritable, full
 * disk) only means the database is made the slow way: the template is an optimization, never a
 * requirement. `BENCH_PGLITE_TEMPLATE=0` turns it off.
 * @module
 */
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { MIGRATIONS_FOLDER, migratePglite } from '../migrate.ts'
import { makePrivate } from './dir.ts'

const PREFIX = 'pglite-template-'

/** The cache directory of bench (created on demand, 0700). */
export function benchCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_CACHE_DIR) return path.resolve(env.BENCH_CACHE_DIR)
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'bench')
  return path.join(os.homedir(), '.cache', 'bench')
}

let cachedKey: string | undefined

/** sha256 (16 hex digits) of what a template's contents depend on. */
export function templateKey(): string {
  if (cachedKey !== undefined) return cachedKey
  const hash = createHash('sha256')
  hash.update(`pglite ${pgliteVersion()}\n`)
  // Names too: a migration regenerated under another name with the same SQL is another schema history.
  for (const file of readdirSync(MIGRATIONS_FOLDER).sort())
    if (file.endsWith('.sql')) hash.update(file).update(readFileSync(path.join(MIGRATIONS_FOLDER, file)))
  hash.update(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json')))
  cachedKey = hash.digest('hex').slice(0, 16)
  return cachedKey
}

/** The installed PGlite's version (its package.json is not in the package's exports, so found by path). */
function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('the @electric-sql/pglite package.json was not found')
    dir = up
  }
}

/** The template's pgdata directory for this key (it may not exist yet). */
export function templatePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(benchCacheDir(env), `${PREFIX}${templateKey()}`)
}

const disabled = () => process.env.BENCH_PGLITE_TEMPLATE === '0'

/**
 * The template's path, built first if missing; undefined when the cache cannot be used (then the caller
 * builds the database itself).
 */
export async function ensureTemplate(): Promise<string | undefined> {
  if (disabled()) return undefined
  try {
    const target = templatePath()
    if (existsSync(target)) return target
    const root = benchCacheDir()
    mkdirSync(root, { recursive: true, mode: 0o700 })
    const work = mkdtempSync(path.join(root, '.building-'))
    try {
      const pgdata = path.join(work, 'pgdata')
      const pg = await PGlite.create(pgdata)
      try {
        await migratePglite(pg, pgdata)
      } finally {
        await pg.close()
      }
      makePrivate(pgdata)
      try {
        renameSync(pgdata, target)
      } catch (err) {
        // Another process saved it first: theirs is as good.
        if (!existsSync(target)) throw err
      }
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
    removeOtherTemplates(root, path.basename(target))
    return target
  } catch {
    return undefined
  }
}

/** Copies the template into `pgdata` (which must not exist); false when there is no usable template. */
export async function copyTemplate(pgdata: string): Promise<boolean> {
  const template = await ensureTemplate()
  if (template === undefined) return false
  try {
    cpSync(template, pgdata, { recursive: true })
    return true
  } catch {
    rmSync(pgdata, { recursive: true, force: true })
    return false
  }
}

/** A build older than this was abandoned by a killed process (a build takes seconds). ms. */
const ABANDONED_BUILD_MS = 10 * 60_000

/**
 * Templates kept per machine: the newest few keys, not only the current one, so checkouts at different
 * migrations (a branch and main, git worktrees) do not delete each other's template while copying it.
 */
export const TEMPLATES_KEPT = 4

/** Templates beyond the TEMPLATES_KEPT newest (older PGlite versions or migrations), and abandoned builds. */
function removeOtherTemplates(root: string, keep: string): void {
  const templates: { full: string; mtimeMs: number }[] = []
  for (const name of readdirSync(root)) {
    const full = path.join(root, name)
    const mtimeMs = statSync(full).mtimeMs
    if (name.startsWith('.building-') && Date.now() - mtimeMs > ABANDONED_BUILD_MS)
      rmSync(full, { recursive: true, force: true })
    else if (name.startsWith(PREFIX) && name !== keep) templates.push({ full, mtimeMs })
  }
  templates.sort((a, b) => b.mtimeMs - a.mtimeMs)
  for (const old of templates.slice(TEMPLATES_KEPT - 1)) rmSync(old.full, { recursive: true, force: true })
}
