/**
 * The mock server in a worker thread: its own event loop, so its chunk deadlines do not wait behind the
 * client's parsing when both share a process.
 * @module
 */
import { Worker } from 'node:worker_threads'
import { HarnessError } from '../errors.ts'
import { stopWorker } from '../stop-worker.ts'
import type { MockOptionsInput } from './options.ts'
import { parseMockOptions } from './parse-options.ts'
import type { MockListenOptions, MockServerHandle } from './server.ts'

export type WorkerRequest = { type: 'close' }
export type WorkerReply =
  | { type: 'listening'; url: string; port: number }
  | { type: 'closed' }
  | { type: 'error'; message: string }

/** How long close() waits for a graceful shutdown before terminating the thread. */
const CLOSE_GRACE_MS = 2000

/** Throws MockOptionsError (before starting a thread) naming each invalid field. */
export async function startMockServerInWorker(
  options: MockOptionsInput,
  listen: MockListenOptions = {},
): Promise<MockServerHandle> {
  const parsed = parseMockOptions(options)
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { options: parsed, listen },
  })
  const { url, port } = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new HarnessError(`mock server worker exited (code ${code}) before listening`))
    worker.once('error', reject)
    worker.once('exit', onExit)
    worker.once('message', (reply: WorkerReply) => {
      worker.off('error', reject)
      worker.off('exit', onExit)
      if (reply.type === 'listening') resolve(reply)
      else {
        void worker.terminate()
        reject(
          new HarnessError(
            `mock server worker failed to start: ${reply.type === 'error' ? reply.message : reply.type}`,
          ),
        )
      }
    })
  })
  let exited = false
  worker.once('exit', () => {
    exited = true
  })
  // Without a listener, a failure inside the thread would throw in the caller's process.
  worker.on('error', (err) => process.stderr.write(`mock server worker failed: ${err.message}\n`))
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    close: () => {
      closing ??= (async () => {
        if (exited) return
        await stopWorker(worker, { type: 'close' } satisfies WorkerRequest, 'closed', CLOSE_GRACE_MS)
      })()
      return closing
    },
  }
}
