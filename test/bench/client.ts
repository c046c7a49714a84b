/**
 * Client capacity benchmark: how many content chunks per second the harness's HTTP clients (http1,
 * undici, sdk) can take in, against the mock server with zero delays in a worker thread (its own event
 * loop), compared with a bare undici SSE reader that does the least work that still finds content chunks.
 * `harness…` and `ratio` are the default client's figures.
 *
 *   npm run bench:client [-- --json] [-- --duration-s 5 --rounds 3 --concurrency 64 --output-tokens 256]
 *
 * Drivers run alternately (round-robin, order rotated each round) so drift of the shared machine hits all
 * of them alike. `clientElu` is the event-loop utilization of this (client) thread during a phase: close
 * to 1 means the client is the limit; well below 1 means the server side (mock, other core) is.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { StringDecoder } from 'node:string_decoder'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import {
  buildRequestBody,
  createOpenAIEngine,
  DEFAULT_OPENAI_CLIENT,
  OPENAI_CLIENTS,
  type OpenAIClient,
} from '../../harness/engines/openai.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'duration-s': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    'output-tokens': { type: 'string', default: '256' },
    'warmup-s': { type: 'string', default: '1' },
    /** Subset to run, e.g. `http1` alone under `node --cpu-prof`. */
    drivers: { type: 'string', default: 'http1,undici,sdk,bare' },
  },
})
const durationMs = Number(args['duration-s']) * 1000
const rounds = Number(args.rounds)
const concurrency = Number(args.concurrency)
const outputTokens = Number(args['output-tokens'])
const warmupMs = Number(args['warmup-s']) * 1000
const log = args.json ? () => {} : (line: string) => console.log(line)

type DriverName = OpenAIClient | 'bare'
const DRIVERS: readonly DriverName[] = [...OPENAI_CLIENTS, 'bare']
const DEFAULT_CLIENT: OpenAIClient = DEFAULT_OPENAI_CLIENT

interface Driver {
  name: DriverName
  /** One streaming request; resolves to the content chunks received. */
  request(): Promise<number>
  close(): PromiseLike<void>
}

interface Phase {
  chunks: number
  requests: number
  errors: number
  firstError?: string
  elapsedMs: number
  chunksPerS: number
  clientElu: number
  /** Client-thread busy time per content chunk (ELU × elapsed / chunks): its cost, whoever is the limit. */
  clientBusyUsPerChunk: number
  /**
   * Client-thread CPU time per content chunk (Linux /proc, 10 ms ticks). Unlike ELU it does not count
   * time the thread was runnable but preempted, so it holds up when other work shares the cores.
   */
  clientCpuUsPerChunk?: number
}

const MODEL = 'mock-model'
const generation = { prompt: 'Count to a large number.', maxTokens: outputTokens, ignoreEos: true }

function harnessDriver(name: OpenAIClient, baseUrl: string): Driver {
  const engine = createOpenAIEngine({ baseUrl, model: MODEL, api: 'chat', client: name })
  // One run-wide signal, as the runner's cancel signal; the bare reader has none at all.
  const signal = new AbortController().signal
  return {
    name,
    async request() {
      let chunks = 0
      for await (const event of engine.generate(generation, signal)) if (event.type === 'token') chunks++
      return chunks
    },
    close: () => engine[Symbol.asyncDispose](),
  }
}

/**
 * The baseline: undici request(), the body iterated as it comes, lines split, and a `data:` line counted
 * when it holds a non-empty `"content":"…"` — a substring check instead of JSON parsing.
 */
function bareDriver(baseUrl: string): Driver {
  const url = new URL(baseUrl)
  const pool = new Pool(url.origin, { connections: 1024, pipelining: 1 })
  const path = `${url.pathname.replace(/\/+$/, '')}/chat/completions`
  const body = JSON.stringify(buildRequestBody('chat', MODEL, generation, undefined))
  const headers = { 'content-type': 'application/json', accept: 'text/event-stream' }
  const CONTENT = '"content":"'
  return {
    name: 'bare',
    async request() {
      const response = await pool.request({ path, method: 'POST', headers, body })
      if (response.statusCode !== 200)
        throw new Error(`HTTP ${response.statusCode}: ${await response.body.text()}`)
      const utf8 = new StringDecoder('utf8')
      let rest = ''
      let chunks = 0
      for await (const bytes of response.body) {
        const text = rest + utf8.write(bytes as Buffer)
        let start = 0
        let end = text.indexOf('\n', start)
        while (end !== -1) {
          if (text.startsWith('data:', start)) {
            const at = text.indexOf(CONTENT, start)
            if (at !== -1 && at < end && text.charCodeAt(at + CONTENT.length) !== 34) chunks++
          }
          start = end + 1
          end = text.indexOf('\n', start)
        }
        rest = text.slice(start)
      }
      return chunks
    },
    close: () => pool.destroy(),
  }
}

/** CPU time (user + system) of this thread in ms, from /proc/self/task/<tid>/stat; undefined off Linux. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 of stat(5) (utime, stime), counted from after the command name; USER_HZ is 100.
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

async function runPhase(driver: Driver, phaseMs: number): Promise<Phase> {
  let chunks = 0
  let requests = 0
  let errors = 0
  let firstError: string | undefined
  const started = performance.now()
  const deadline = started + phaseMs
  const elu = performance.eventLoopUtilization()
  const cpuStartMs = mainThreadCpuMs()
  // Closed loop: each of the streams sends its next request when the last one ended; requests in flight
  // at the deadline finish and count, and the elapsed time includes them.
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          const received = await driver.request()
          chunks += received
          requests++
        } catch (error) {
          errors++
          firstError ??= error instanceof Error ? error.message : String(error)
        }
      }
    }),
  )
  const elapsedMs = performance.now() - started
  const clientElu = performance.eventLoopUtilization(elu).utilization
  const phase: Phase = {
    chunks,
    requests,
    errors,
    elapsedMs,
    chunksPerS: (chunks / elapsedMs) * 1000,
    clientElu,
    clientBusyUsPerChunk: (clientElu * elapsedMs * 1000) / chunks,
  }
  const cpuEndMs = mainThreadCpuMs()
  if (cpuStartMs !== undefined && cpuEndMs !== undefined)
    phase.clientCpuUsPerChunk = ((cpuEndMs - cpuStartMs) * 1000) / chunks
  if (firstError !== undefined) phase.firstError = firstError
  return phase
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const mock = await startMockServerInWorker({
  ttft: { kind: 'fixed', ms: 0 },
  itl: { kind: 'fixed', ms: 0 },
  outputTokens,
  model: MODEL,
})
const selected = new Set(args.drivers.split(','))
const drivers: Driver[] = DRIVERS.filter((name) => selected.has(name)).map((name) =>
  name === 'bare' ? bareDriver(mock.url) : harnessDriver(name, mock.url),
)
const results = Object.fromEntries(DRIVERS.map((name) => [name, [] as Phase[]])) as Record<
  DriverName,
  Phase[]
>
try {
  log(
    `client bench: ${concurrency} streams, ${outputTokens} tokens/request, ${rounds} rounds × ${durationMs / 1000} s per driver, mock at ${mock.url}`,
  )
  for (const driver of drivers) await runPhase(driver, warmupMs)
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < drivers.length; i++) {
      const driver = drivers[(i + round) % drivers.length]!
      const phase = await runPhase(driver, durationMs)
      results[driver.name].push(phase)
      log(
        `round ${round + 1} ${driver.name.padEnd(7)} ${fmt(phase.chunksPerS).padStart(9)} chunks/s  ` +
          `${String(phase.requests).padStart(5)} requests  client ELU ${phase.clientElu.toFixed(2)}, ` +
          `${phase.clientBusyUsPerChunk.toFixed(2)} µs busy/chunk, ${phase.clientCpuUsPerChunk?.toFixed(2) ?? '?'} µs CPU/chunk` +
          (phase.errors > 0 ? `  ${phase.errors} errors (${phase.firstError})` : ''),
      )
    }
  }
} finally {
  for (const driver of drivers) await driver.close()
  await mock.close()
}

const rate = (name: DriverName) => mean(results[name].map((p) => p.chunksPerS))
const elu = (name: DriverName) => mean(results[name].map((p) => p.clientElu))
const busy = (name: DriverName) => mean(results[name].map((p) => p.clientBusyUsPerChunk))
const cpu = (name: DriverName) => median(results[name].map((p) => p.clientCpuUsPerChunk ?? Number.NaN))
const limitedBy = (name: DriverName) =>
  results[name].length === 0 ? null : elu(name) >= 0.9 ? 'client' : 'mock'
const pairedRatio = (name: DriverName) =>
  median(results[name].map((p, i) => p.chunksPerS / (results.bare[i]?.chunksPerS ?? Number.NaN)))
const byDriver = (figure: (name: DriverName) => number, digits: number) =>
  Object.fromEntries(DRIVERS.map((name) => [name, Number(figure(name).toFixed(digits))]))
const summary = {
  /** harness…, ratio, medianRoundRatio: the default client's figures. */
  harnessChunksPerS: Math.round(rate(DEFAULT_CLIENT)),
  bareChunksPerS: Math.round(rate('bare')),
  sdkChunksPerS: Math.round(rate('sdk')),
  ratio: Number((rate(DEFAULT_CLIENT) / rate('bare')).toFixed(3)),
  sdkRatio: Number((rate('sdk') / rate('bare')).toFixed(3)),
  defaultClient: DEFAULT_CLIENT,
  medianRoundRatio: Number(pairedRatio(DEFAULT_CLIENT).toFixed(3)),
  chunksPerS: byDriver(rate, 0),
  ratios: Object.fromEntries(
    OPENAI_CLIENTS.map((name) => [name, Number((rate(name) / rate('bare')).toFixed(3))]),
  ),
  clientElu: byDriver(elu, 3),
  clientBusyUsPerChunk: byDriver(busy, 3),
  /** Median over rounds; the ratio bare/client of these is the client-cost ratio, whatever limits throughput. */
  clientCpuUsPerChunk: byDriver(cpu, 3),
  /**
   * Heuristic: a client thread busy ≥ 90 % of the time is what limited its phase; below that it waited
   * for the mock (or the shared cores).
   */
  limitedBy: Object.fromEntries(DRIVERS.map((name) => [name, limitedBy(name)])),
  errors: Object.values(results)
    .flat()
    .reduce((n, p) => n + p.errors, 0),
  concurrency,
  outputTokens,
  durationS: durationMs / 1000,
  rounds,
}
if (args.json) {
  console.log(JSON.stringify(summary))
} else {
  const line = (label: string, values: Record<string, unknown>) =>
    log(`${label}: ${DRIVERS.map((name) => `${name} ${String(values[name])}`).join(', ')}`)
  line('\nmean chunks/s', Object.fromEntries(DRIVERS.map((name) => [name, fmt(rate(name))])))
  log(
    `ratio ${DEFAULT_CLIENT} (default)/bare ${summary.ratio} (median of rounds ${summary.medianRoundRatio}); ` +
      OPENAI_CLIENTS.map((name) => `${name}/bare ${summary.ratios[name]}`).join(', '),
  )
  line('client event-loop utilization', summary.clientElu)
  line('limited by (client when its ELU ≥ 0.9)', summary.limitedBy)
  line('client busy µs per chunk', summary.clientBusyUsPerChunk)
  line('client CPU µs per chunk (median)', summary.clientCpuUsPerChunk)
}
