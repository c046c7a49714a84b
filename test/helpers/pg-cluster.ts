/**
 * A throwaway PostgreSQL cluster that a test can take away and bring back: `stop()` is `pg_ctl -m
 * immediate` (as a crash or a lost server looks to clients), `start()` brings it back on the same port, so
 * the same URL works again. Needs the server binaries under /usr/lib/postgresql, root and the `postgres`
 * user (as .ci/run and test/bench/backends.ts); `pgClusterMissing()` says why not when they are absent.
 * fsync off: a test, not storage (an immediate stop still loses nothing committed: the WAL is replayed).
 * @module
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.ts'

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string
  readonly port: number
  /** Server version, e.g. 15.14. */
  readonly version: string
  /** pg_ctl stop -m immediate: every connection drops, new ones are refused. */
  stop(): void
  /** pg_ctl start on the same port (crash recovery included), waiting until it accepts connections. */
  start(): void
  /** Stops the server if running and deletes its directory. */
  dispose(): void
}

function pgBin(): string | undefined {
  try {
    const bin = execFileSync('sh', [
      '-c',
      'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1',
    ])
      .toString()
      .trim()
    return bin && existsSync(path.join(bin, 'initdb')) ? bin : undefined
  } catch {
    return undefined
  }
}

/** Why a cluster cannot be started here, or undefined when it can. */
export function pgClusterMissing(): string | undefined {
  if (!pgBin()) return 'no PostgreSQL server binaries under /usr/lib/postgresql'
  if (process.getuid?.() !== 0) return 'not root (pg_ctl runs as the postgres user through runuser)'
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' })
  } catch {
    return 'no postgres user'
  }
  return undefined
}

/**
 * For describe.skipIf: the reason to skip, or undefined. Under CI a missing server is an error, not a
 * skip (CI must run these tests).
 */
export function pgClusterSkipReason(): string | undefined {
  const missing = pgClusterMissing()
  if (missing && process.env.CI) throw new Error(`CI must be able to start PostgreSQL: ${missing}`)
  return missing
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBin()
  const missing = pgClusterMissing()
  if (!bin || missing) throw new Error(`cannot start PostgreSQL: ${missing}`)
  const user = Number(execFileSync('id', ['-u', 'postgres']).toString())
  const group = Number(execFileSync('id', ['-g', 'postgres']).toString())
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pg-outage-'))
  chownSync(dir, user, group)
  const port = await freePort()
  const asPostgres = (cmd: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'pipe' })
  asPostgres('initdb', ['-D', `${dir}/data`, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  let running = false
  const start = () => {
    asPostgres('pg_ctl', [
      '-D',
      `${dir}/data`,
      '-l',
      `${dir}/log`,
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ])
    running = true
  }
  const stop = () => {
    asPostgres('pg_ctl', ['-D', `${dir}/data`, '-m', 'immediate', '-w', 'stop'])
    running = false
  }
  start()
  const version =
    /\d+(\.\d+)+/.exec(execFileSync(path.join(bin, 'postgres'), ['--version']).toString())?.[0] ?? '?'
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    version,
    stop,
    start,
    dispose() {
      try {
        if (running) stop()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
