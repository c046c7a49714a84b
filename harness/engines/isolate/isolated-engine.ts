/**
 * createIsolatedEngine: an engine whose definition can run isolated (llama-cpp, onnx, or a kind registered
 * at run time) in a child process, behind the same Engine contract. A segfault, abort, OOM kill or hang of the native code then ends a child, not the benchmark.
 *
 * - Timing: the child stamps each token event where it was produced (`atMs`, child.ts); the runner uses
 *   that stamp instead of the arrival time (request.ts), so the IPC hop back is not measured. The send
 *   hop is, like writing an HTTP request. A ping exchange at start checks that both clocks agree
 *   (clock-sync.ts) and shifts the child's stamps when they provably do not.
 * - Crash: when the child dies (any signal or exit code), every request in flight fails with a
 *   RequestError of kind `crash` naming the signal / code and the child's last output.
 * - Hang: an aborted request (the runner aborts at requestTimeoutMs → `timeout`) must be acknowledged by
 *   the child within `abortGraceMs`; a child that does not answer is hung: it is killed (SIGKILL), and the
 *   other requests in flight fail with `crash`.
 * - Restart: after a crash or a hang the child is restarted in the background, at most `maxRestarts`
 *   times over the engine's life (default 1). Requests sent meanwhile wait for the restart (so one
 *   request's latency can include a model load — what a client of a restarting server sees). Once the
 *   budget is spent, the engine is dead and every later request fails at once with `crash`, so a broken
 *   target ends quickly and the runner moves on to the next one.
 * - Memory: the parent samples the child's RSS from /proc at 20 Hz plus the kernel's peak (VmHWM, reset at
 *   each window), or takes the child's own reports where there is no /proc (harness/memory); memory()
 *   returns the peak since the previous call, the RSS after load, the load time and the model size.
 * @module
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import { EngineStartError, HarnessError, RequestError, type RequestErrorKind, toError } from '../../errors.ts'
import { readProcMemory } from '../../memory/proc-status.ts'
import { createRssSampler, DEFAULT_RSS_INTERVAL_MS, type RssSampler } from '../../memory/rss-sampler.ts'
import type { IsolateSupport } from '../definition.ts'
import type {
  Engine,
  EngineCapabilities,
  EngineInfo,
  GenerationRequest,
  MemorySample,
  NativeSpeedOptions,
  NativeSpeedResult,
  StreamEvent,
  TokenLogprob,
} from '../engine.ts'
import { raceAbort } from '../native/native-common.ts'
import { engineDefinition } from '../registry.ts'
import { type ClockOffset, type ClockPing, estimateClockOffset } from './clock-sync.ts'
import { EventQueue } from './event-queue.ts'
import { type IpcStats, LatencyRecorder } from './ipc-stats.ts'
import type { CallMethod, ChildMessage, IsolatedEngineSpec, ParentMessage, WireError } from './protocol.ts'

export type { IsolatedEngineSpec } from './protocol.ts'

export interface IsolateOptions {
  /** Child restarts after a crash or hang over the engine's life; then the engine is dead. @default 1 */
  maxRestarts?: number
  /** How long the child may take to acknowledge an aborted request before it counts as hung. ms. @default 2000 */
  abortGraceMs?: number
  /** RSS sampling period, ms (≥ 10 Hz means ≤ 100). @default 50 */
  rssIntervalMs?: number
  /** How long dispose waits for the child to exit cleanly before killing it. ms. @default 5000 */
  stopGraceMs?: number
}

export type IsolateState = 'idle' | 'starting' | 'ready' | 'restarting' | 'dead' | 'disposed'

export interface IsolateStats extends IpcStats {
  /** Child clock − parent clock at the last (re)start, with the ping round trip. */
  clock?: ClockOffset
  restarts: number
}

/** What the isolate adds to the engine: its child process and what the boundary costs. */
export interface IsolateHandle {
  readonly state: IsolateState
  /** Pid of the current child, if one is running. */
  readonly pid: number | undefined
  /** Restarts so far. */
  readonly restarts: number
  /** Why the engine is dead (state 'dead'). */
  readonly deadReason: string | undefined
  stats(): IsolateStats
}

export interface IsolatedEngine extends Engine {
  readonly isolate: IsolateHandle
  memory(): Promise<MemorySample>
}

const CHILD_ENTRY = new URL('./child-entry.mjs', import.meta.url)
/** Pings per clock check. */
const CLOCK_PINGS = 8
/** Characters of the child's stdout/stderr kept for crash messages. */
const OUTPUT_TAIL = 2000

const nowMs = () => performance.timeOrigin + performance.now()

interface Host {
  child: ChildProcess
  pid: number
  sampler: RssSampler
  /** Subtracted from the child's stamps (0 unless the clocks provably disagree). */
  offsetMs: number
  output: string
  exited: boolean
  /** Why the parent killed it (hang), for the messages of the requests it takes down. */
  killedBecause?: string
  onStart?: { resolve(message: Extract<ChildMessage, { type: 'started' }>): void; reject(err: Error): void }
  pings: Map<number, (childMs: number) => void>
  /** Aborted requests the child has not acknowledged yet: until then it may be hung. */
  unacked: Set<number>
  /** Called when unacked empties or the child exits. */
  onAcked: (() => void)[]
}

interface Pending {
  host: Host
  queue: EventQueue<StreamEvent>
  sentAtMs: number
  /** The child answered (done or failed). */
  settled: boolean
  /** Abort sent to the child; waiting for its acknowledgement. */
  cancelled: boolean
  graceTimer?: NodeJS.Timeout
}

interface PendingCall {
  host: Host
  resolve(value: unknown): void
  reject(err: Error): void
}

export function createIsolatedEngine(spec: IsolatedEngineSpec, options: IsolateOptions = {}): IsolatedEngine {
  const definition = engineDefinition(spec.kind)
  if (!definition?.isolate)
    throw new HarnessError(
      definition
        ? `the ${spec.kind} engine cannot run in a child process; set isolate: false`
        : `no engine of kind "${spec.kind}" is registered`,
    )
  const support: IsolateSupport<unknown> = definition.isolate
  const modelPath = support.modelPath(spec.options)
  const modelName = basename(modelPath)
  const maxRestarts = options.maxRestarts ?? 1
  const abortGraceMs = options.abortGraceMs ?? 2000
  const rssIntervalMs = options.rssIntervalMs ?? DEFAULT_RSS_INTERVAL_MS
  const stopGraceMs = options.stopGraceMs ?? 5000
  const info: EngineInfo = {
    kind: spec.kind,
    model: modelName,
    capabilities: { ...capabilitiesOf(definition.capabilities), memory: true },
  }
  let state: IsolateState = 'idle'
  let current: Host | undefined
  let starting: Promise<void> | undefined
  let restarting: Promise<void> | undefined
  let restarts = 0
  let deadReason: string | undefined
  let nextId = 0
  const requests = new Map<number, Pending>()
  const calls = new Map<number, PendingCall>()
  const sendLatency = new LatencyRecorder()
  const tokenLatency = new LatencyRecorder()
  const messageLatency = new LatencyRecorder()
  let clock: ClockOffset | undefined
  let load: Pick<MemorySample, 'loadMs' | 'loadRssBytes' | 'loadPeakRssBytes' | 'vramBytes'> = {}
  let modelBytes: number | undefined
  // Peak of a child that died inside the current memory window.
  let carried: { peak: number; samples: number } | undefined

  const startError = (message: string, cause?: unknown) =>
    new EngineStartError(spec.kind, modelName, message, { cause })

  function post(host: Host, message: ParentMessage): void {
    if (host.exited || !host.child.connected) return
    // Errors surface as the child's exit; the callback keeps them from becoming 'error' events.
    host.child.send(message, () => {})
  }

  function describeExit(host: Host, code: number | null, signal: NodeJS.Signals | null): string {
    const how = host.killedBecause ?? (signal ? `was killed by ${signal}` : `exited with code ${code ?? '?'}`)
    const output = host.output.trim().split('\n').slice(-3).join(' | ')
    return `the ${spec.kind} engine process (pid ${host.pid}) ${how}${output ? `; last output: ${output}` : ''}`
  }

  function launch(signal?: AbortSignal): Promise<Host> {
    const child = fork(CHILD_ENTRY, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      serialization: 'json',
      env: childEnvironment(spec),
    })
    if (child.pid === undefined) return Promise.reject(startError('could not start the engine process'))
    const cpus = support.cpus?.(spec.options)
    if (cpus !== undefined) {
      // Before the start message: the libuv pool threads that will decode are created later and inherit it.
      try {
        execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(child.pid)], { stdio: 'ignore' })
      } catch (err) {
        child.kill('SIGKILL')
        return Promise.reject(
          startError(
            `could not pin the engine process to CPUs ${cpus.join(',')} (taskset): ${toError(err).message}`,
          ),
        )
      }
    }
    const reportRss = readProcMemory(child.pid) === undefined
    const host: Host = {
      child,
      pid: child.pid,
      sampler: createRssSampler({ pid: child.pid, intervalMs: rssIntervalMs, proc: !reportRss }),
      offsetMs: 0,
      output: '',
      exited: false,
      pings: new Map(),
      unacked: new Set(),
      onAcked: [],
    }
    const keep = (chunk: Buffer) => {
      host.output = (host.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('error', (err) => keep(Buffer.from(`${err.message}\n`)))
    child.on('message', (message: ChildMessage) => onMessage(host, message))
    child.once('exit', (code, sig) => onExit(host, code, sig))
    const started = new Promise<Extract<ChildMessage, { type: 'started' }>>((resolve, reject) => {
      host.onStart = { resolve, reject }
    })
    post(host, { type: 'start', spec, module: support.module, reportRss, rssIntervalMs })
    return (async () => {
      try {
        const message = signal ? await raceAbort(started, signal) : await started
        const window = host.sampler.cut()
        load = {
          loadMs: message.loadMs,
          loadRssBytes: message.rssBytes,
          ...(window.peakRssBytes !== undefined ? { loadPeakRssBytes: window.peakRssBytes } : {}),
          ...(message.memory?.vramBytes !== undefined ? { vramBytes: message.memory.vramBytes } : {}),
        }
        Object.assign(info, message.info, { capabilities: { ...message.info.capabilities, memory: true } })
        const offset = await syncClock(host)
        if (host.exited) throw startError(`${modelPath}: the engine process exited right after loading`)
        clock = offset
        host.offsetMs = offset.corrected ? offset.offsetMs : 0
        host.sampler.cut()
        return host
      } catch (err) {
        host.onStart = undefined
        kill(host)
        throw err
      }
    })()
  }

  async function syncClock(host: Host): Promise<ClockOffset> {
    const pings: ClockPing[] = []
    for (let i = 0; i < CLOCK_PINGS; i++) {
      const id = nextId++
      const sentMs = nowMs()
      const childMs = await new Promise<number>((resolve) => {
        if (host.exited) return resolve(Number.NaN)
        host.pings.set(id, resolve)
        post(host, { type: 'ping', id })
      })
      if (Number.isNaN(childMs)) break
      pings.push({ sentMs, childMs, receivedMs: nowMs() })
    }
    return estimateClockOffset(pings)
  }

  function kill(host: Host, because?: string): void {
    if (host.exited) return
    if (because !== undefined) host.killedBecause = because
    host.child.kill('SIGKILL')
  }

  function onMessage(host: Host, message: ChildMessage): void {
    switch (message.type) {
      case 'token': {
        const req = requests.get(message.id)
        if (!req || req.cancelled) return
        const atMs = message.atMs - host.offsetMs
        tokenLatency.record(nowMs() - atMs)
        req.queue.push({
          type: 'token',
          text: message.text,
          tokens: message.tokens,
          ...(message.logprobs ? { logprobs: message.logprobs } : {}),
          atMs,
        })
        return
      }
      case 'done':
      case 'failed': {
        const req = requests.get(message.id)
        if (!req) return
        requests.delete(message.id)
        req.settled = true
        clearTimeout(req.graceTimer)
        sendLatency.record(message.receivedAtMs - host.offsetMs - req.sentAtMs)
        if (req.cancelled) {
          acknowledged(host, message.id)
          return
        }
        if (message.type === 'done') {
          req.queue.push(message.event)
          req.queue.end()
        } else req.queue.fail(fromWire(message.error))
        return
      }
      case 'result':
      case 'call-failed': {
        const call = calls.get(message.id)
        if (!call) return
        calls.delete(message.id)
        if (message.type === 'result') call.resolve(message.value)
        else call.reject(fromWire(message.error))
        return
      }
      case 'pong':
        host.pings.get(message.id)?.(message.atMs)
        host.pings.delete(message.id)
        return
      case 'rss':
        host.sampler.record(message.bytes)
        return
      case 'batch':
        messageLatency.record(nowMs() - (message.sentAtMs - host.offsetMs))
        for (const m of message.messages) onMessage(host, m)
        return
      case 'started': {
        const pending = host.onStart
        host.onStart = undefined
        pending?.resolve(message)
        return
      }
      case 'start-failed': {
        const pending = host.onStart
        host.onStart = undefined
        pending?.reject(fromWire(message.error))
        return
      }
      default: {
        const never: never = message
        throw new Error(`unknown message from the engine process: ${JSON.stringify(never)}`)
      }
    }
  }

  function onExit(host: Host, code: number | null, signal: NodeJS.Signals | null): void {
    host.exited = true
    const window = host.sampler.cut()
    host.sampler.stop()
    const what = describeExit(host, code, signal)
    if (host.onStart) {
      const pending = host.onStart
      host.onStart = undefined
      pending.reject(startError(`${modelPath}: ${what} while loading the model`))
    }
    for (const resolve of host.pings.values()) resolve(Number.NaN)
    host.unacked.clear()
    for (const resolve of host.onAcked.splice(0)) resolve()
    if (host !== current) return
    current = undefined
    if (window.peakRssBytes !== undefined)
      carried = {
        peak: Math.max(carried?.peak ?? 0, window.peakRssBytes),
        samples: (carried?.samples ?? 0) + window.samples,
      }
    const crash = new RequestError('crash', `${what} during the request`)
    for (const [id, req] of requests) {
      if (req.host !== host) continue
      requests.delete(id)
      req.settled = true
      clearTimeout(req.graceTimer)
      req.queue.fail(crash)
    }
    for (const [id, call] of calls) {
      if (call.host !== host) continue
      calls.delete(id)
      call.reject(crash)
    }
    if (state !== 'ready') return
    recover(what)
  }

  function recover(what: string): void {
    if (restarts >= maxRestarts) {
      state = 'dead'
      deadReason = `${what}${restarts > 0 ? ` (after ${restarts} restart${restarts > 1 ? 's' : ''})` : ''}`
      return
    }
    restarts++
    state = 'restarting'
    restarting = launch().then(
      (host) => {
        if (state !== 'restarting') {
          kill(host)
          return
        }
        current = host
        state = 'ready'
      },
      (err: unknown) => {
        if (state !== 'restarting') return
        state = 'dead'
        deadReason = `${what}; the restart failed: ${toError(err).message}`
      },
    )
  }

  async function acquire(signal?: AbortSignal): Promise<Host> {
    for (;;) {
      switch (state) {
        case 'ready':
          if (!current) throw new RequestError('crash', 'the engine process is gone')
          if (current.unacked.size === 0) return current
          // A new request would share the fate of a child that may be hung: wait until it answers the
          // aborts or is killed for not answering (at most abortGraceMs).
          await waitAcknowledged(current, signal)
          continue
        case 'restarting':
          await (signal ? raceAbort(restarting ?? Promise.resolve(), signal) : restarting)
          continue
        case 'dead':
          throw new RequestError('crash', `the engine process is gone: ${deadReason}`)
        case 'disposed':
          throw new RequestError('engine', `the ${spec.kind} engine was disposed`)
        case 'idle':
        case 'starting':
          throw new RequestError('engine', `the ${spec.kind} engine is not started; call start() first`)
        default: {
          const never: never = state
          throw new Error(`unknown isolate state ${String(never)}`)
        }
      }
    }
  }

  /** Tells the child to stop a request; a child that does not acknowledge in time is hung. */
  function cancel(id: number, req: Pending): void {
    if (req.cancelled || req.settled) return
    req.cancelled = true
    req.host.unacked.add(id)
    post(req.host, { type: 'abort', id })
    req.graceTimer = setTimeout(() => {
      if (!requests.has(id) || req.host !== current) return
      kill(req.host, `was killed: it did not stop an aborted request within ${abortGraceMs} ms (hung)`)
    }, abortGraceMs)
  }

  function acknowledged(host: Host, id: number): void {
    host.unacked.delete(id)
    if (host.unacked.size === 0) for (const resolve of host.onAcked.splice(0)) resolve()
  }

  function waitAcknowledged(host: Host, signal?: AbortSignal): Promise<void> {
    const acked = new Promise<void>((resolve) => host.onAcked.push(resolve))
    return signal ? raceAbort(acked, signal) : acked
  }

  async function* generate(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    signal.throwIfAborted()
    const host = await acquire(signal)
    const id = nextId++
    const req: Pending = {
      host,
      queue: new EventQueue<StreamEvent>(),
      sentAtMs: nowMs(),
      settled: false,
      cancelled: false,
    }
    requests.set(id, req)
    post(host, { type: 'generate', id, request })
    const onAbort = () => {
      req.queue.fail(signal.reason)
      cancel(id, req)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        const step = await req.queue.next()
        if (step.done) return
        yield step.value
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      // The reader stopped early (or the request failed here): free the child's sequence.
      if (!req.settled) cancel(id, req)
    }
  }

  async function call<T>(method: CallMethod, args: unknown[]): Promise<T> {
    const host = await acquire()
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { host, resolve: resolve as (value: unknown) => void, reject })
      post(host, { type: 'call', id, method, args })
    })
  }

  async function stopHost(host: Host): Promise<void> {
    if (host.exited) return
    const exited = new Promise<void>((resolve) => host.child.once('exit', () => resolve()))
    post(host, { type: 'stop' })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, stopGraceMs)))])
    clearTimeout(timer)
    kill(host)
    await exited
  }

  const handle: IsolateHandle = {
    get state() {
      return state
    },
    get pid() {
      return current?.pid
    },
    get restarts() {
      return restarts
    },
    get deadReason() {
      return deadReason
    },
    stats: () => ({
      sendLatency: sendLatency.summary(),
      tokenLatency: tokenLatency.summary(),
      messageLatency: messageLatency.summary(),
      ...(clock ? { clock } : {}),
      restarts,
    }),
  }

  return {
    info,
    isolate: handle,
    async start(signal?: AbortSignal): Promise<void> {
      if (state === 'disposed') throw startError('the engine was disposed')
      if (state !== 'idle') return starting
      state = 'starting'
      starting = (async () => {
        try {
          const size = statSync(modelPath, { throwIfNoEntry: false })
          if (!size?.isFile()) throw startError(`${modelPath}: ${size ? 'not a file' : 'no such file'}`)
          const host = await launch(signal)
          if (state !== 'starting') {
            kill(host)
            throw startError('the engine was disposed while loading')
          }
          modelBytes = size.size
          current = host
          state = 'ready'
        } catch (err) {
          if (state === 'starting') state = 'idle'
          starting = undefined
          throw err
        }
      })()
      return starting
    },
    generate,
    scoreChoices: (prompt: string, choices: string[]) => call<number[]>('scoreChoices', [prompt, choices]),
    topLogprobs: (prompt: string, k: number) => call<TokenLogprob[][]>('topLogprobs', [prompt, k]),
    // Only engines with the nativeSpeed capability measure llama-bench-style pp / tg (in the child).
    ...(definition.capabilities.nativeSpeed
      ? {
          nativeSpeed: (o: NativeSpeedOptions) => call<NativeSpeedResult>('nativeSpeed', [o]),
        }
      : {}),
    async memory(): Promise<MemorySample> {
      const window = current?.sampler.cut()
      let peak = window?.peakRssBytes
      let samples = window?.samples ?? 0
      if (carried) {
        peak = Math.max(peak ?? 0, carried.peak)
        samples += carried.samples
        carried = undefined
      }
      return {
        ...(peak !== undefined ? { peakRssBytes: peak, rssSamples: samples } : {}),
        ...load,
        ...(modelBytes !== undefined ? { modelBytes } : {}),
      }
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (state === 'disposed') return
      const wasRestarting = state === 'restarting' ? restarting : undefined
      state = 'disposed'
      await starting?.catch(() => {})
      await wasRestarting?.catch(() => {})
      const host = current
      current = undefined
      const gone = new RequestError('engine', `the ${spec.kind} engine was disposed`)
      for (const req of requests.values()) {
        req.settled = true
        clearTimeout(req.graceTimer)
        req.queue.fail(gone)
      }
      requests.clear()
      for (const c of calls.values()) c.reject(gone)
      calls.clear()
      if (host) await stopHost(host)
    },
  }
}

/** An error from the child as the parent's own classes, so the runner classifies it the same way. */
function fromWire(error: WireError): Error {
  if (error.name === 'EngineStartError' && error.engine !== undefined && error.model !== undefined) {
    const prefix = `${error.engine} engine could not start model "${error.model}": `
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
    return new EngineStartError(error.engine, error.model, detail)
  }
  if (error.name === 'RequestError' && error.kind !== undefined)
    return new RequestError(error.kind as RequestErrorKind, error.message, error.status)
  return new RequestError('engine', error.message)
}

/** A definition's capabilities as an engine reports them (EngineInfo: without nativeSpeed). */
function capabilitiesOf({
  nativeSpeed: _nativeSpeed,
  ...capabilities
}: EngineCapabilities & { nativeSpeed: boolean }) {
  return capabilities
}

/**
 * The engine process's environment: ours, plus what the definition adds for its child (llama-cpp: a libuv
 * thread pool sized to its sequences, see llama-cpp/definition.ts), each variable only where ours does not
 * set it (a UV_THREADPOOL_SIZE the user set is left alone).
 */
export function childEnvironment(spec: IsolatedEngineSpec): NodeJS.ProcessEnv {
  const added = engineDefinition(spec.kind)?.isolate?.childEnv?.(spec.options) ?? {}
  const missing = Object.entries(added).filter(([name]) => process.env[name] === undefined)
  return missing.length === 0 ? process.env : { ...process.env, ...Object.fromEntries(missing) }
}
