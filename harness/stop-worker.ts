/**
 * Graceful end of a worker thread that answers a stop request: post it, wait for the reply of type
 * `doneType` (or the thread's exit) for at most `graceMs`, then terminate the thread either way.
 * @module
 */
import type { Worker } from 'node:worker_threads'

export async function stopWorker(
  worker: Worker,
  request: unknown,
  doneType: string,
  graceMs: number,
): Promise<void> {
  const done = new Promise<void>((resolve) => {
    worker.on('message', (reply: { type?: unknown }) => reply?.type === doneType && resolve())
    worker.once('exit', () => resolve())
  })
  worker.postMessage(request)
  let timer: NodeJS.Timeout | undefined
  await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))])
  clearTimeout(timer)
  await worker.terminate()
}
