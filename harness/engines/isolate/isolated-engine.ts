/**
 * createIsolatedEngine: an engine whose definition can run isolated (llama-cpp, onnx, or a kind registered
 * at run time) in a child process, behind the same Engine contract. A segfault, abort, OOM kill or hang of
 * the native code then ends a child, not the benchmark. Three parts: this file is the thin Engine façade
 * (requests and calls in flight, memory(), stats), child-host.ts one child process (fork, IPC, start
 * handshake, exit), supervisor.ts the lifecycle (start, restarts and their budget, dead, disposed).
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
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import { wallMs } from '../../clock.ts'
import { EngineStartError, HarnessError, RequestError } from '../../errors.ts'
import { DEFAULT_RSS_INTERVAL_MS, type RssWindow } from '../../memory/rss-sampler.ts'
import type { MicroBounds, MicroTask, MicroTaskResult } from '../../results.ts'
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
  TokenLogProbsOptions,
  TokenLogprob,
} from '../engine.ts'
import { engineDefinition, requireEngineDefinition } from '../registry.ts'
import { ChildHost, type Launched, type RequestMessage } from './child-host.ts'
import type { ClockOffset } from './clock-sync.ts'
import { EventQueue } from './event-queue.ts'
import { type IpcStats, LatencyRecorder } from './ipc-stats.ts'
import { fromLogProbsWire, type TokenLogProbsWire } from './log-probs-wire.ts'
import { fromNumbersWire } from './numbers-wire.ts'
import type { CallMethod, IsolatedEngineSpec } from './protocol.ts'
import { type IsolateState, Supervisor } from './supervisor.ts'
import { fromWire } from './wire-error.ts'

export type { IsolatedEngineSpec } from './protocol.ts'
export type { IsolateState } from './supervisor.ts'

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

interface Pending {
  host: ChildHost
  queue: EventQueue<StreamEvent>
  sentAtMs: number
  /** The child answered (done or failed). */
  settled: boolean
  /** Abort sent to the child; waiting for its acknowledgement. */
  cancelled: boolean
  graceTimer?: NodeJS.Timeout
}

interface PendingCall {
  host: ChildHost
  resolve(value: unknown): void
  reject(err: Error): void
}

export function createIsolatedEngine(spec: IsolatedEngineSpec, options: IsolateOptions = {}): IsolatedEngine {
  const definition = requireEngineDefinition(spec.kind)
  if (!definition.isolate)
    throw new HarnessError(`the ${spec.kind} engine cannot run in a child process; set isolate: false`)
  const support: IsolateSupport<unknown> = definition.isolate
  const modelPath = support.modelPath(spec.options)
  const modelName = basename(modelPath)
  const abortGraceMs = options.abortGraceMs ?? 2000
  const stopGraceMs = options.stopGraceMs ?? 5000
  const info: EngineInfo = {
    kind: spec.kind,
    model: modelName,
    capabilities: { ...capabilitiesOf(definition.capabilities), memory: true },
  }
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

  const hostOptions = {
    spec,
    module: support.module,
    env: childEnvironment(spec),
    cpus: support.cpus?.(spec.options),
    rssIntervalMs: options.rssIntervalMs ?? DEFAULT_RSS_INTERVAL_MS,
    messageLatency,
    startError,
    modelPath,
    onMessage,
    onExit,
  }

  /** A ready child; what its start told us becomes the engine's info, load figures and clock. */
  async function launch(signal?: AbortSignal): Promise<ChildHost> {
    const { host, started, loadWindow, clock: offset }: Launched = await ChildHost.launch(hostOptions, signal)
    load = {
      loadMs: started.loadMs,
      loadRssBytes: started.rssBytes,
      ...(loadWindow.peakRssBytes !== undefined ? { loadPeakRssBytes: loadWindow.peakRssBytes } : {}),
      ...(started.memory?.vramBytes !== undefined ? { vramBytes: started.memory.vramBytes } : {}),
    }
    Object.assign(info, started.info, { capabilities: { ...started.info.capabilities, memory: true } })
    clock = offset
    return host
  }

  const supervisor = new Supervisor<ChildHost>({
    launch: () => launch(),
    discard: (host) => host.kill(),
    maxRestarts: options.maxRestarts ?? 1,
    kind: spec.kind,
    startError: (message) => startError(message),
  })

  function onMessage(host: ChildHost, message: RequestMessage): void {
    switch (message.type) {
      case 'token': {
        const req = requests.get(message.id)
        if (!req || req.cancelled) return
        const atMs = message.atMs - host.offsetMs
        tokenLatency.record(wallMs() - atMs)
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
          host.acknowledged(message.id)
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
      default: {
        const never: never = message
        throw new Error(`unknown request message from the engine process: ${JSON.stringify(never)}`)
      }
    }
  }

  /** A child exited: if it was serving, its requests and calls fail with `crash` and the supervisor decides. */
  function onExit(host: ChildHost, what: string, window: RssWindow): void {
    if (host !== supervisor.current) return
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
    supervisor.lost(what)
  }

  /** Tells the child to stop a request; a child that does not acknowledge in time is hung. */
  function cancel(id: number, req: Pending): void {
    if (req.cancelled || req.settled) return
    req.cancelled = true
    req.host.unacked.add(id)
    req.host.post({ type: 'abort', id })
    req.graceTimer = setTimeout(() => {
      if (!requests.has(id) || req.host !== supervisor.current) return
      req.host.kill(`was killed: it did not stop an aborted request within ${abortGraceMs} ms (hung)`)
    }, abortGraceMs)
  }

  async function* generate(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    signal.throwIfAborted()
    const host = await supervisor.acquire(signal)
    const id = nextId++
    const req: Pending = {
      host,
      queue: new EventQueue<StreamEvent>(),
      sentAtMs: wallMs(),
      settled: false,
      cancelled: false,
    }
    requests.set(id, req)
    host.post({ type: 'generate', id, request })
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

  /**
   * One method call in the child. `signal` aborted: rejects with its reason at once and tells the child to
   * abort the call (the engine method gets the child's signal as its last argument and stops at its next
   * step), so a timed-out scoring does not hold the child's engine; a late result is dropped.
   */
  async function call<T>(method: CallMethod, args: unknown[], signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted()
    const host = await supervisor.acquire(signal)
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (!calls.delete(id)) return
        host.post({ type: 'abort', id })
        reject(signal!.reason)
      }
      const settle =
        <V>(then: (value: V) => void) =>
        (value: V) => {
          signal?.removeEventListener('abort', onAbort)
          then(value)
        }
      calls.set(id, { host, resolve: settle(resolve as (value: unknown) => void), reject: settle(reject) })
      signal?.addEventListener('abort', onAbort, { once: true })
      host.post({ type: 'call', id, method, args })
    })
  }

  const handle: IsolateHandle = {
    get state() {
      return supervisor.state
    },
    get pid() {
      return supervisor.current?.pid
    },
    get restarts() {
      return supervisor.restarts
    },
    get deadReason() {
      return supervisor.deadReason
    },
    stats: () => ({
      sendLatency: sendLatency.summary(),
      tokenLatency: tokenLatency.summary(),
      messageLatency: messageLatency.summary(),
      ...(clock ? { clock } : {}),
      restarts: supervisor.restarts,
    }),
  }

  return {
    info,
    isolate: handle,
    start: (signal?: AbortSignal) =>
      supervisor.start(async () => {
        const size = statSync(modelPath, { throwIfNoEntry: false })
        if (!size?.isFile()) throw startError(`${modelPath}: ${size ? 'not a file' : 'no such file'}`)
        const host = await launch(signal)
        modelBytes = size.size
        return host
      }),
    generate,
    scoreChoices: async (prompt: string, choices: string[], signal?: AbortSignal) =>
      fromNumbersWire(await call<(number | string)[]>('scoreChoices', [prompt, choices], signal)),
    topLogprobs: (prompt: string, k: number) => call<TokenLogprob[][]>('topLogprobs', [prompt, k]),
    ...(definition.capabilities.tokenLogProbs
      ? {
          tokenLogProbs: async (text: string, o: TokenLogProbsOptions, signal?: AbortSignal) =>
            fromLogProbsWire(await call<TokenLogProbsWire>('tokenLogProbs', [text, o], signal)),
        }
      : {}),
    // Only engines with the nativeSpeed capability measure llama-bench-style pp / tg (in the child).
    ...(definition.capabilities.nativeSpeed
      ? {
          nativeSpeed: (o: NativeSpeedOptions) => call<NativeSpeedResult>('nativeSpeed', [o]),
        }
      : {}),
    // Micro tasks run with tinybench in the child, next to the engine (harness/micro/README.md).
    ...(definition.capabilities.micro
      ? {
          micro: (task: MicroTask, bounds: MicroBounds, seed: number, signal?: AbortSignal) =>
            call<MicroTaskResult>('micro', [task, bounds, seed], signal),
        }
      : {}),
    async memory(): Promise<MemorySample> {
      const window = supervisor.current?.sampler.cut()
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
      const disposed = await supervisor.dispose()
      if (!disposed) return
      const gone = new RequestError('engine', `the ${spec.kind} engine was disposed`)
      for (const req of requests.values()) {
        req.settled = true
        clearTimeout(req.graceTimer)
        req.queue.fail(gone)
      }
      requests.clear()
      for (const c of calls.values()) c.reject(gone)
      calls.clear()
      await disposed.host?.stop(stopGraceMs)
    },
  }
}

/** A definition's capabilities as an engine reports them (EngineInfo: without nativeSpeed and micro). */
function capabilitiesOf({
  nativeSpeed: _nativeSpeed,
  micro: _micro,
  ...capabilities
}: EngineCapabilities & { nativeSpeed: boolean; micro?: boolean }) {
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
