/**
 * Runs inside the worker thread started by startPgliteHostInWorker: opens and migrates the directory's
 * PGlite, serves it on a loopback port, reports the port, and closes on request.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { DatabaseError } from '../database-error.ts'
import { openAndServe } from './host.ts'
import type { PgliteWorkerReply, PgliteWorkerRequest } from './worker.ts'

const port = parentPort!
const { dir, password } = workerData as { dir: string; password: string }
const post = (reply: PgliteWorkerReply) => port.postMessage(reply)

try {
  const served = await openAndServe(dir, password)
  port.on('message', async (message: PgliteWorkerRequest) => {
    if (message.type !== 'stop') return
    try {
      await served.stop()
    } finally {
      post({ type: 'stopped' })
    }
  })
  post({ type: 'serving', port: served.port })
} catch (err) {
  post({
    type: 'error',
    message: err instanceof Error ? err.message : String(err),
    database: err instanceof DatabaseError,
  })
}
