/**
 * ChildHost: ONE engine child process seen from the parent — fork (environment, CPU pinning), the IPC
 * channel, the start handshake (load, then the clock check), the child's output tail and RSS sampling, the
 * bookkeeping of aborts it has not acknowledged, and its exit. It knows nothing of requests or restarts:
 * request-level messages go to `onMessage`, the exit to `onExit` (isolated-engine.ts), and the restart
 * policy is supervisor.ts's.
 * @module
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { wallMs } from '../../clock.ts'
import { toError } from '../../errors.ts'
import { readProcMemory } from '../../memory/proc-status.ts'
import { createRssSampler, type RssSampler, type RssWindow } from '../../memory/rss-sampler.ts'
import { raceAbort } from '../native/native-common.ts'
import { type ClockOffset, type ClockPing, estimateClockOffset } from './clock-sync.ts'
import type { LatencyRecorder } from './ipc-stats.ts'
import type { ChildMessage, IsolatedEngineSpec, ParentMessage } from './protocol.ts'
import { fromWire } from './wire-error.ts'

const CHILD_ENTRY = new URL('./child-entry.mjs', import.meta.url)
/** Pings per clock check. */
const CLOCK_PINGS = 8
/** Characters of the child's stdout/stderr kept for crash messages. */
const OUTPUT_TAIL = 2000

export type StartedMessage = Extract<ChildMessage, { type: 'started' }>
/** What the child sends about one request or call (the host handles the rest itself). */
export type RequestMessage = Extract<
  ChildMessage,
  { type: 'token' | 'done' | 'failed' | 'result' | 'call-failed' }
>

export interface ChildHostOptions {
  spec: IsolatedEngineSpec
  /** The definition's isolate.module (the child imports it for a kind its registry does not list). */
  module: string
  env: NodeJS.ProcessEnv
  /** CPUs to pin the child to (taskset) before it loads. */
  cpus?: readonly number[] | undefined
  /** RSS sampling period, ms. */
  rssIntervalMs: number
  /** Records how late message batches arrive (IPC stats). */
  messageLatency: LatencyRecorder
  /** An EngineStartError naming the engine and model. */
  startError(message: string, cause?: unknown): Error
  /** Where the model is, for the message of a child that dies while loading. */
  modelPath: string
  onMessage(host: ChildHost, message: RequestMessage): void
  /** The child is gone; `what` says how (signal / code, why the parent killed it, its last output). */
  onExit(host: ChildHost, what: string, window: RssWindow): void
}

export interface Launched {
  host: ChildHost
  started: StartedMessage
  /** RSS window of the load: the process start to the end of the load. */
  loadWindow: RssWindow
  /** Child clock − parent clock, from CLOCK_PINGS pings after the load. */
  clock: ClockOffset
}

export class ChildHost {
  readonly child: ChildProcess
  readonly pid: number
  readonly sampler: RssSampler
  /** Subtracted from the child's stamps (0 unless the clocks provably disagree). */
  offsetMs = 0
  exited = false
  /** Aborted requests the child has not acknowledged yet: until then it may be hung. */
  readonly unacked = new Set<number>()
  /** No /proc to read the child's RSS from outside: the child reports its own. */
  private readonly reportRss: boolean
  private output = ''
  /** Why the parent killed it (hang), for the messages of the requests it takes down. */
  private killedBecause: string | undefined
  private onStart: { resolve(message: StartedMessage): void; reject(err: Error): void } | undefined
  private readonly pings = new Map<number, (childMs: number) => void>()
  private nextPing = 0
  /** Called when unacked empties or the child exits. */
  private onAcked: (() => void)[] = []

  /**
   * Forks the child, loads the engine in it and checks its clock. Rejects with the child's start error, an
   * EngineStartError for a child that died while loading, or the signal's reason; the child is killed then.
   */
  static async launch(options: ChildHostOptions, signal?: AbortSignal): Promise<Launched> {
    const child = fork(CHILD_ENTRY, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      serialization: 'json',
      env: options.env,
    })
    if (child.pid === undefined) throw options.startError('could not start the engine process')
    if (options.cpus !== undefined) {
      // Before the start message: the libuv pool threads that will decode are created later and inherit it.
      try {
        execFileSync('taskset', ['-a', '-p', '-c', options.cpus.join(','), String(child.pid)], {
          stdio: 'ignore',
        })
      } catch (err) {
        child.kill('SIGKILL')
        throw options.startError(
          `could not pin the engine process to CPUs ${options.cpus.join(',')} (taskset): ${toError(err).message}`,
        )
      }
    }
    const host = new ChildHost(child, child.pid, options)
    try {
      const started = await host.start(signal)
      const loadWindow = host.sampler.cut()
      const clock = await host.syncClock()
      if (host.exited)
        throw options.startError(`${options.modelPath}: the engine process exited right after loading`)
      host.offsetMs = clock.corrected ? clock.offsetMs : 0
      host.sampler.cut()
      return { host, started, loadWindow, clock }
    } catch (err) {
      host.onStart = undefined
      host.kill()
      throw err
    }
  }

  private constructor(
    child: ChildProcess,
    pid: number,
    private readonly options: ChildHostOptions,
  ) {
    this.child = child
    this.pid = pid
    this.reportRss = readProcMemory(pid) === undefined
    this.sampler = createRssSampler({ pid, intervalMs: options.rssIntervalMs, proc: !this.reportRss })
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('error', (err) => keep(Buffer.from(`${err.message}\n`)))
    child.on('message', (message: ChildMessage) => this.receive(message))
    child.once('exit', (code, signal) => this.exit(code, signal))
  }

  post(message: ParentMessage): void {
    if (this.exited || !this.child.connected) return
    // Errors surface as the child's exit; the callback keeps them from becoming 'error' events.
    this.child.send(message, () => {})
  }

  kill(because?: string): void {
    if (this.exited) return
    if (because !== undefined) this.killedBecause = because
    this.child.kill('SIGKILL')
  }

  /** Asks the child to stop, and kills it after graceMs. Resolves when it has exited. */
  async stop(graceMs: number): Promise<void> {
    if (this.exited) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.post({ type: 'stop' })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))])
    clearTimeout(timer)
    this.kill()
    await exited
  }

  /** The child acknowledged the abort of request `id`. */
  acknowledged(id: number): void {
    this.unacked.delete(id)
    if (this.unacked.size === 0) for (const resolve of this.onAcked.splice(0)) resolve()
  }

  /** Resolves when every abort is acknowledged or the child exited. */
  waitAcknowledged(signal?: AbortSignal): Promise<void> {
    const acked = new Promise<void>((resolve) => this.onAcked.push(resolve))
    return signal ? raceAbort(acked, signal) : acked
  }

  private start(signal?: AbortSignal): Promise<StartedMessage> {
    const started = new Promise<StartedMessage>((resolve, reject) => {
      this.onStart = { resolve, reject }
    })
    const { spec, module, rssIntervalMs } = this.options
    this.post({ type: 'start', spec, module, reportRss: this.reportRss, rssIntervalMs })
    return signal ? raceAbort(started, signal) : started
  }

  private async syncClock(): Promise<ClockOffset> {
    const pings: ClockPing[] = []
    for (let i = 0; i < CLOCK_PINGS; i++) {
      const id = this.nextPing++
      const sentMs = wallMs()
      const childMs = await new Promise<number>((resolve) => {
        if (this.exited) return resolve(Number.NaN)
        this.pings.set(id, resolve)
        this.post({ type: 'ping', id })
      })
      if (Number.isNaN(childMs)) break
      pings.push({ sentMs, childMs, receivedMs: wallMs() })
    }
    return estimateClockOffset(pings)
  }

  private receive(message: ChildMessage): void {
    switch (message.type) {
      case 'token':
      case 'done':
      case 'failed':
      case 'result':
      case 'call-failed':
        this.options.onMessage(this, message)
        return
      case 'pong':
        this.pings.get(message.id)?.(message.atMs)
        this.pings.delete(message.id)
        return
      case 'rss':
        this.sampler.record(message.bytes)
        return
      case 'batch':
        this.options.messageLatency.record(wallMs() - (message.sentAtMs - this.offsetMs))
        for (const m of message.messages) this.receive(m)
        return
      case 'started': {
        const pending = this.onStart
        this.onStart = undefined
        pending?.resolve(message)
        return
      }
      case 'start-failed': {
        const pending = this.onStart
        this.onStart = undefined
        pending?.reject(fromWire(message.error))
        return
      }
      default: {
        const never: never = message
        throw new Error(`unknown message from the engine process: ${JSON.stringify(never)}`)
      }
    }
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true
    const window = this.sampler.cut()
    this.sampler.stop()
    const how = this.killedBecause ?? (signal ? `was killed by ${signal}` : `exited with code ${code ?? '?'}`)
    const output = this.output.trim().split('\n').slice(-3).join(' | ')
    const what = `the ${this.options.spec.kind} engine process (pid ${this.pid}) ${how}${output ? `; last output: ${output}` : ''}`
    if (this.onStart) {
      const pending = this.onStart
      this.onStart = undefined
      pending.reject(this.options.startError(`${this.options.modelPath}: ${what} while loading the model`))
    }
    for (const resolve of this.pings.values()) resolve(Number.NaN)
    this.unacked.clear()
    for (const resolve of this.onAcked.splice(0)) resolve()
    this.options.onExit(this, what, window)
  }
}
