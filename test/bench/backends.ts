/**
 * Databases for the database benchmarks (test/bench/db.ts, test/bench/dashboard.ts): embedded PGlite in a
 * directory, or PostgreSQL — a fresh database on DATABASE_URL when set (dropped after), else a throwaway
 * PostgreSQL cluster in a temporary directory, started by test/helpers/pg-cluster.ts as .ci/run starts one (needs the server binaries
 * under /usr/lib/postgresql, root and the `postgres` user; fsync off: a benchmark, not storage).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import postgres from 'postgres'
import { createDb, type Database } from '../../db/client.ts'
import { freshPgliteDir } from '../helpers/db.ts'
import { pgClusterMissing, startPgCluster } from '../helpers/pg-cluster.ts'

export type BackendName = 'pglite' | 'postgres'

export interface BenchBackend {
  name: BackendName
  describe: string
  /** The PGlite directory or PostgreSQL URL: what `bench dashboard --db` takes. */
  location: string
  open(): Promise<Database>
  /** Deletes the database (or stops the cluster) unless kept. Close what `open` returned first. */
  dispose(): Promise<void>
}

export interface BackendOptions {
  /** Prefix of the database created on DATABASE_URL, e.g. `bench_perf_`. */
  databasePrefix: string
  /** An existing PGlite directory to use and keep. @default a fresh one from the migrated template */
  pgliteDir?: string
  /** Keep the fresh PGlite directory or the database created on DATABASE_URL, and log where. @default false */
  keep?: boolean
  log(line: string): void
}

/** Any name but `pglite` is PostgreSQL; undefined when there is neither DATABASE_URL nor a server to start. */
export async function openBackend(name: string, options: BackendOptions): Promise<BenchBackend | undefined> {
  if (name === 'pglite') {
    const dir = options.pgliteDir ?? (await freshPgliteDir())
    return {
      name: 'pglite',
      describe: `PGlite ${dir}`,
      location: dir,
      open: () => createDb({ dataDir: dir }),
      async dispose() {
        if (options.keep) options.log(`kept ${dir}`)
        else if (!options.pgliteDir) rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const admin = process.env.DATABASE_URL
  if (admin) {
    const database = `${options.databasePrefix}${randomBytes(6).toString('hex')}`
    const sqlAdmin = postgres(admin, { max: 1, onnotice: () => {} })
    await sqlAdmin.unsafe(`create database ${database}`)
    await sqlAdmin.end()
    const url = new URL(admin)
    url.pathname = `/${database}`
    return {
      name: 'postgres',
      describe: `PostgreSQL (DATABASE_URL, database ${database})`,
      location: url.toString(),
      open: () => createDb({ url: url.toString() }),
      async dispose() {
        if (options.keep) {
          options.log(`kept ${url.toString()}`)
          return
        }
        const cleanup = postgres(admin, { max: 1, onnotice: () => {} })
        await cleanup.unsafe(`drop database if exists ${database} with (force)`)
        await cleanup.end()
      },
    }
  }
  const cluster = await startThrowawayPostgres()
  if (!cluster) return undefined
  return {
    name: 'postgres',
    describe: `PostgreSQL ${cluster.version} (throwaway cluster, fsync off)`,
    location: cluster.url,
    open: () => createDb({ url: cluster.url }),
    async dispose() {
      cluster.stop()
    },
  }
}

/** A throwaway cluster (test/helpers/pg-cluster.ts, as .ci/run starts one); undefined without binaries or user. */
async function startThrowawayPostgres(): Promise<
  { url: string; version: string; stop: () => void } | undefined
> {
  if (pgClusterMissing()) return undefined
  const cluster = await startPgCluster()
  return { url: cluster.url, version: cluster.version, stop: () => cluster.dispose() }
}
