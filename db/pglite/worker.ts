/**
 * The owner of an embedded database directory with PGlite in a worker thread instead of on the event loop.
 * For `bench run`: PGlite executes queries in WebAssembly, synchronously, so on the harness's own thread
 * every batch the result sink writes holds up the stamping of streamed chunks (measured against a mock at
 * 16 streams: ITL p99 +2 ms, event-loop delay p99 1 → 2.8 ms). Here the harness only does socket I/O; the
 * database runs beside it, served on a loopback port exactly like host.ts's in-process owner, and
 * other processes reach it the same way.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { stopWorker } from '../../harness/stop-worker.ts'
import { DatabaseError } from '../database-error.ts'
import type { HeldLock } from './lock.ts'

export type PgliteWorkerRequest = { type: 'stop' }
export type PgliteWorkerReply =
  | { type: 'serving'; port: number }
  | { type: 'stopped' }
  /** `database`: a DatabaseError (its message is for the user as is). */
  | { type: 'error'; message: string; database: boolean }

/** How long stop() waits for PGlite to close cleanly before terminating the thread. ms. */
const STOP_GRACE_MS = 10_000

export interface PgliteWorkerHost {
  readonly port: number
  readonly password: string
  /** Stops serving, closes PGlite in the thread, ends the thread, removes the lock. */
  stop(): Promise<void>
}

/** Opens, migrates and serves the directory's database in a worker thread, under a lock already taken. */
export async function startPgliteHostInWorker(dir: string, lock: HeldLock): Promise<PgliteWorkerHost> {
  const password = randomBytes(18).toString('base64url')
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { dir, password },
  })
  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject)
      worker.once('exit', (code) =>
        reject(new Error(`the database thread exited (code ${code}) before serving`)),
      )
      worker.once('message', (reply: PgliteWorkerReply) => {
        if (reply.type === 'serving') resolve(reply.port)
        else if (reply.type === 'error')
          reject(reply.database ? new DatabaseError(reply.message) : new Error(reply.message))
        else reject(new Error(`unexpected ${reply.type}`))
      })
    })
  } catch (err) {
    await worker.terminate()
    lock.release()
    throw err
  }
  worker.removeAllListeners('exit')
  worker.removeAllListeners('error')
  // A failure inside the thread after start must not throw in the harness; the socket clients see it.
  worker.on('error', (err) => process.stderr.write(`bench: the database thread failed: ${err.message}\n`))
  lock.publish(port, password)
  let stopped: Promise<void> | undefined
  return {
    port,
    password,
    stop: () => {
      stopped ??= (async () => {
        try {
          await stopWorker(worker, { type: 'stop' } satisfies PgliteWorkerRequest, 'stopped', STOP_GRACE_MS)
        } finally {
          lock.release()
        }
      })()
      return stopped
    },
  }
}
