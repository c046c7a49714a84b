/**
 * Runs inside the worker thread started by startMockServerInWorker: serves the mock, reports where, and
 * closes on request.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { MockOptionsInput } from './options.ts'
import { type MockListenOptions, startMockServer } from './server.ts'
import type { WorkerReply, WorkerRequest } from './worker.ts'

const port = parentPort!
const { options, listen } = workerData as { options: MockOptionsInput; listen: MockListenOptions }
const post = (reply: WorkerReply) => port.postMessage(reply)

try {
  const server = await startMockServer(options, listen)
  port.on('message', async (message: WorkerRequest) => {
    if (message.type !== 'close') return
    await server.close()
    post({ type: 'closed' })
  })
  post({ type: 'listening', url: server.url, port: server.port })
} catch (err) {
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) })
}
