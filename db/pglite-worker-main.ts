/**
 * Runs inside the worker thread started by startPgliteHostInWorker: opens and migrates the directory's
 * PGlite, serves it on a loopback port, reports the port, and closes on request.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { migratePglite } from './migrate.ts'
import { pgDataOf } from './pglite-host.ts'
import { servePglite } from './pglite-server.ts'
import type { PgliteWorkerReply, PgliteWorkerRequest } from './pglite-worker.ts'

const port = parentPort!
const { dir, password } = workerData as { dir: string; password: string }
const post = (reply: PgliteWorkerReply) => port.postMessage(reply)

let pg: PGlite | undefined
try {
  pg = await PGlite.create(pgDataOf(dir))
  await migratePglite(pg)
  const server = await servePglite(pg, { password })
  const owned = pg
  port.on('message', async (message: PgliteWorkerRequest) => {
    if (message.type !== 'stop') return
    try {
      await server.stop()
      await owned.close()
    } finally {
      post({ type: 'stopped' })
    }
  })
  post({ type: 'serving', port: server.port })
} catch (err) {
  await pg?.close().catch(() => {})
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) })
}
