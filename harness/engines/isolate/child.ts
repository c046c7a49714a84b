/**
 * The child side of an isolated engine: runs one in-process engine (a registered definition's
 * `isolate.load()`: llama-cpp, onnx, or a kind registered at run time) and answers the parent's messages
 * (protocol.ts). Every token event is stamped here, where it was produced, with the
 * wall-aligned clock the parent also reads (`wallMs()`, harness/clock.ts), so the IPC hop
 * does not add to TTFT or the gaps. Exits when the parent says stop or goes away.
 * @module
 */
import { wallMs } from '../../clock.ts'
import type { EngineDefinition } from '../definition.ts'
import type { Engine, TokenLogProbs } from '../engine.ts'
import { engineDefinition } from '../registry.ts'
import { toLogProbsWire } from './log-probs-wire.ts'
import { toNumbersWire } from './numbers-wire.ts'
import type { ChildMessage, ParentMessage } from './protocol.ts'
import { toWire } from './wire-error.ts'

let engine: Engine | undefined
const running = new Map<number, AbortController>()

function send(message: ChildMessage): void {
  // The channel closes when the parent dies; there is nobody left to tell.
  if (process.connected) process.send?.(message)
}

/** Token events wait at most this long to be sent together. ms */
const BATCH_MS = 10
const outbox: ChildMessage[] = []
let batchTimer: NodeJS.Timeout | undefined
let flushSoon = false

function flush(): void {
  clearTimeout(batchTimer)
  batchTimer = undefined
  flushSoon = false
  if (outbox.length > 0) send({ type: 'batch', sentAtMs: wallMs(), messages: outbox.splice(0) })
}

/**
 * Sends a request's messages in order, off the decode's critical path. Token events are stamped when the
 * engine yields them and then batched for up to BATCH_MS, so the stamps are exact while the parent wakes
 * once per batch instead of once per token (each wake-up costs both processes CPU that the decode, on a
 * small machine, would otherwise have). The end of a request (`urgent`) goes out after the current
 * macrotask, by when the next native decode is already running on its worker thread.
 */
function queue(message: ChildMessage, urgent = false): void {
  outbox.push(message)
  if (urgent) {
    if (!flushSoon) {
      flushSoon = true
      setImmediate(flush)
    }
  } else batchTimer ??= setTimeout(flush, BATCH_MS)
}

/**
 * The definition of the kind the parent asks for: from this process's registry (built-ins), else from the
 * module the parent named (a kind registered at run time), which must export a definition of that kind.
 */
async function findDefinition(kind: string, module: string): Promise<EngineDefinition> {
  const known = engineDefinition(kind)
  if (known) return known
  const exports = (await import(module)) as Record<string, unknown>
  const found = Object.values(exports).find(
    (value): value is EngineDefinition =>
      typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === kind,
  )
  if (!found) throw new Error(`${module} exports no engine definition of kind "${kind}"`)
  return found
}

async function createEngine(message: Extract<ParentMessage, { type: 'start' }>): Promise<Engine> {
  const definition = await findDefinition(message.spec.kind, message.module)
  if (!definition.isolate) throw new Error(`the ${definition.kind} engine cannot run isolated`)
  return await definition.isolate.load(message.spec.options)
}

async function start(message: Extract<ParentMessage, { type: 'start' }>): Promise<void> {
  try {
    engine = await createEngine(message)
    const t0 = performance.now()
    await engine.start()
    const loadMs = performance.now() - t0
    const memory = await engine.memory?.().catch(() => undefined)
    if (message.reportRss) {
      const timer = setInterval(
        () => send({ type: 'rss', bytes: process.memoryUsage.rss() }),
        message.rssIntervalMs,
      )
      timer.unref()
    }
    send({
      type: 'started',
      info: engine.info,
      loadMs,
      rssBytes: process.memoryUsage.rss(),
      ...(memory ? { memory } : {}),
    })
  } catch (err) {
    send({ type: 'start-failed', error: toWire(err) })
  }
}

async function generate(message: Extract<ParentMessage, { type: 'generate' }>): Promise<void> {
  const receivedAtMs = wallMs()
  const { id } = message
  const controller = new AbortController()
  running.set(id, controller)
  let done = false
  try {
    if (!engine) throw new Error('the engine is not started')
    for await (const event of engine.generate(message.request, controller.signal)) {
      if (event.type === 'token')
        queue({
          type: 'token',
          id,
          text: event.text,
          tokens: event.tokens,
          ...(event.logprobs ? { logprobs: event.logprobs } : {}),
          atMs: wallMs(),
        })
      else {
        done = true
        queue({ type: 'done', id, event, receivedAtMs }, true)
      }
    }
    if (!done)
      queue(
        {
          type: 'failed',
          id,
          error: { name: 'RequestError', kind: 'stream', message: 'the engine ended without a done event' },
          receivedAtMs,
        },
        true,
      )
  } catch (err) {
    queue({ type: 'failed', id, error: toWire(err), receivedAtMs }, true)
  } finally {
    running.delete(id)
  }
}

async function call(message: Extract<ParentMessage, { type: 'call' }>): Promise<void> {
  // The parent's abort of this call (its item timed out) reaches the method as its last argument.
  const controller = new AbortController()
  running.set(message.id, controller)
  try {
    if (!engine) throw new Error('the engine is not started')
    const method = engine[message.method] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (typeof method !== 'function')
      throw new Error(`the ${engine.info.kind} engine has no ${message.method}()`)
    const args = SIGNALLED_CALLS.has(message.method) ? [...message.args, controller.signal] : message.args
    const value = await method.apply(engine, args)
    send({
      type: 'result',
      id: message.id,
      value:
        message.method === 'tokenLogProbs'
          ? toLogProbsWire(value as TokenLogProbs)
          : message.method === 'scoreChoices'
            ? toNumbersWire(value as number[])
            : value,
    })
  } catch (err) {
    send({ type: 'call-failed', id: message.id, error: toWire(err) })
  } finally {
    running.delete(message.id)
  }
}

/** Methods whose last parameter is an abort signal (engine.ts). */
const SIGNALLED_CALLS: ReadonlySet<string> = new Set(['scoreChoices', 'tokenLogProbs', 'micro'])

async function stop(): Promise<void> {
  for (const controller of running.values()) controller.abort(new Error('the engine is stopping'))
  await Promise.resolve(engine?.[Symbol.asyncDispose]()).catch(() => {})
  process.exit(0)
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'start':
      void start(message)
      break
    case 'generate':
      void generate(message)
      break
    case 'abort':
      running.get(message.id)?.abort(new Error('aborted by the harness'))
      break
    case 'call':
      void call(message)
      break
    case 'ping':
      send({ type: 'pong', id: message.id, atMs: wallMs() })
      break
    case 'stop':
      void stop()
      break
    default: {
      const never: never = message
      throw new Error(`unknown message ${JSON.stringify(never)}`)
    }
  }
})
// An orphan would hold the model's memory forever.
process.on('disconnect', () => process.exit(0))
// The parent decides when this process ends: a Ctrl-C in the terminal (sent to the whole process group)
// or a service manager's SIGTERM interrupts the run, which then stops this child; dying first would
// record the in-flight requests as crashes. The child stays in the harness's process group (and
// scheduling group) on purpose, so it competes for CPU as an in-process engine would.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => {})
