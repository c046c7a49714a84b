/**
 * Starts a real llama-server (built by build-llama-cpp.sh) on loopback for a test or benchmark, and waits
 * until its `/health` says the model is loaded. CPU, `--threads` 1 by default (2 shared cores here).
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { freePort } from '../helpers/free-port.ts'

export interface LlamaServerOptions {
  binary: string
  model: string
  /** Slots (`--parallel`). @default 1 */
  parallel?: number
  /** `--threads` and `--threads-batch`. @default 1 */
  threads?: number
  /** Total context (`--ctx-size`), shared by the slots. @default 1024 per slot */
  contextSize?: number
  /** Extra arguments, appended. */
  args?: readonly string[]
  /** Bound on start-up, ms. @default 60000 */
  startTimeoutMs?: number
}

export interface LlamaServer {
  /** Base URL with the API prefix, e.g. http://127.0.0.1:41234/v1 */
  url: string
  origin: string
  /** What the server printed (stderr and stdout), for failure messages. */
  log(): string
  close(): Promise<void>
}

export async function startLlamaServer(options: LlamaServerOptions): Promise<LlamaServer> {
  const parallel = options.parallel ?? 1
  const threads = options.threads ?? 1
  const port = await freePort()
  const args = [
    ...['--model', options.model, '--host', '127.0.0.1', '--port', String(port)],
    ...['--threads', String(threads), '--threads-batch', String(threads), '--parallel', String(parallel)],
    ...['--ctx-size', String(options.contextSize ?? 1024 * parallel), '--no-webui'],
    ...(options.args ?? []),
  ]
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (bytes: Buffer) => {
    output = (output + bytes.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const origin = `http://127.0.0.1:${port}`
  const server: LlamaServer = {
    url: `${origin}/v1`,
    origin,
    log: () => output,
    close: () => stop(child),
  }
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000)
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `llama-server exited (${child.exitCode ?? child.signalCode}) while starting:\n${output}`,
      )
    if (await healthy(origin)) return server
    if (Date.now() > deadline) {
      await stop(child)
      throw new Error(`llama-server did not become healthy within the start timeout:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** GET /health: 200 once the model is loaded (503 while loading). */
export async function healthy(origin: string): Promise<boolean> {
  try {
    const response = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(2_000) })
    await response.arrayBuffer()
    return response.status === 200
  } catch {
    return false
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
