/**
 * One embedded database directory shared by several processes. The process holding the lock file owns
 * the PGlite instance (`<dir>/pgdata`), migrates it, then serves it on a loopback port recorded in the lock
 * file; every other process reaches it through that port. When the owner goes away (closed or killed), the
 * next connection of any other process takes the directory over and becomes the owner itself.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { renameSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PGlite } from '@electric-sql/pglite'
import { migratePglite } from '../migrate.ts'
import { buildingDirOf, inspectDataDir, makePrivate, openFailure, pgDataOf } from './dir.ts'
import { acquireLock, type HeldLock, type LockInfo } from './lock.ts'
import { servePglite } from './server.ts'
import { copyTemplate } from './template.ts'

/** How long a process waits for a starting owner to publish its port before giving up. ms. */
const OWNER_START_TIMEOUT_MS = 60_000

export const lockFileOf = (dir: string) => path.join(dir, 'lock')

/** PostgreSQL's last lines on stderr kept while opening, to say why it stopped. */
const STDERR_LINES_KEPT = 20

export interface PgliteHost {
  readonly pg: PGlite
  readonly port: number
  readonly password: string
  /** Stops serving (after each client's current exchange), closes PGlite, removes the lock. */
  stop(): Promise<void>
}

export interface ServedPglite {
  readonly pg: PGlite
  readonly port: number
  /** Stops serving (after each client's current exchange), then closes PGlite. */
  stop(): Promise<void>
}

/**
 * Opens and migrates the directory's database and serves it on loopback (this thread or a worker's). A new
 * database is created only where none exists (db/pglite/dir.ts); damaged files give one DatabaseError.
 */
export async function openAndServe(dir: string, password: string): Promise<ServedPglite> {
  const state = inspectDataDir(dir)
  if (state === 'new') await createDatabase(dir)
  let pg: PGlite | undefined
  const stderr: string[] = []
  let opening = true
  try {
    try {
      pg = await PGlite.create(pgDataOf(dir), {
        onStderr: (text) => {
          if (opening && stderr.push(text) > STDERR_LINES_KEPT) stderr.shift()
          return false
        },
      })
    } catch (err) {
      throw openFailure(dir, err, stderr)
    } finally {
      opening = false
    }
    await migratePglite(pg, dir)
    makePrivate(dir)
    const server = await servePglite(pg, { password })
    const owned = pg
    return {
      pg: owned,
      port: server.port,
      stop: async () => {
        await server.stop()
        await owned.close()
        // Files PostgreSQL created since opening got the umask's modes.
        makePrivate(dir)
      },
    }
  } catch (err) {
    await pg?.close().catch(() => {})
    throw err
  }
}

/**
 * A new database, built in `pgdata.new` and renamed to `pgdata` once initdb and the migrations are done:
 * a creator killed half-way (initdb takes seconds) leaves no half database that the next opener would
 * have to refuse as damaged, only `pgdata.new`, which the next creator (holding the lock) starts over.
 */
async function createDatabase(dir: string): Promise<void> {
  const building = buildingDirOf(dir)
  rmSync(building, { recursive: true, force: true })
  // A copy of the cached, migrated template (template.ts: ~1 s instead of initdb's 6–10 s here), else initdb.
  if (!(await copyTemplate(building))) {
    const pg = await PGlite.create(building)
    try {
      await migratePglite(pg, dir)
    } finally {
      await pg.close()
    }
  }
  makePrivate(building)
  // Replaces an empty pgdata directory too (rename(2) takes an empty target).
  renameSync(building, pgDataOf(dir))
}

/** Opens and migrates the directory's database under a lock already taken, then serves it. */
export async function startPgliteHost(dir: string, lock: HeldLock): Promise<PgliteHost> {
  const password = randomBytes(18).toString('base64url')
  let served: ServedPglite
  try {
    served = await openAndServe(dir, password)
  } catch (err) {
    lock.release()
    throw err
  }
  lock.publish(served.port, password)
  let stopped: Promise<void> | undefined
  return {
    pg: served.pg,
    port: served.port,
    password,
    stop: () => {
      stopped ??= served.stop().finally(() => lock.release())
      return stopped
    },
  }
}

/**
 * Connections for a process that is not (or no longer) the owner: each new socket goes to whoever serves
 * the directory now, and takes the directory over when nobody does.
 */
export class PgliteDirectoryClient {
  #host: PgliteHost | undefined
  #password = ''
  #closed = false

  constructor(readonly dir: string) {}

  /** Password of the owner the last socket went to (postgres.js asks for it right after connecting). */
  readonly password = (): string => this.#password

  /** A connected socket to the current owner (postgres.js `socket` option). */
  readonly connect = async (): Promise<Socket> => {
    const deadline = Date.now() + OWNER_START_TIMEOUT_MS
    for (;;) {
      if (this.#closed) throw new Error(`database ${this.dir} was closed`)
      const owner = await this.#owner()
      if (owner.port !== undefined && owner.password !== undefined) {
        try {
          const socket = await connectLoopback(owner.port)
          this.#password = owner.password
          return socket
        } catch {
          // The owner is stopping or died after publishing its port: look again.
        }
      }
      if (Date.now() > deadline)
        throw new Error(
          `database ${this.dir} is locked by pid ${owner.pid} (since ${owner.acquiredAt}), which does not serve it; ` +
            `stop that process, or remove ${lockFileOf(this.dir)} if it is not running`,
        )
      await sleep(50)
    }
  }

  /** Who serves the directory now; this process, after taking it over when nobody held it. */
  async #owner(): Promise<Pick<LockInfo, 'pid' | 'acquiredAt' | 'port' | 'password'>> {
    if (!this.#host) {
      const attempt = await acquireLock(lockFileOf(this.dir))
      if (attempt.state === 'held') {
        if (attempt.info.host !== os.hostname())
          throw new Error(
            `database ${this.dir} is in use by pid ${attempt.info.pid} on host ${attempt.info.host}; ` +
              'an embedded database can be shared only between processes on one machine (use DATABASE_URL for PostgreSQL)',
          )
        return attempt.info
      }
      this.#host = await startPgliteHost(this.dir, attempt.lock)
    }
    return { pid: process.pid, acquiredAt: 'now', port: this.#host.port, password: this.#host.password }
  }

  /** Stops the database this process took over, if it did. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#host?.stop()
  }
}

export function connectLoopback(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}
