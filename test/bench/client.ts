/**
 * Client capacity benchmark: how many content chunks per second the harness's HTTP clients (http1,
 * undici, sdk) can take in, against the mock server with zero delays in a worker thread (its own event
 * loop), compared with a bare undici SSE reader that does the least work that still finds content chunks.
 * `harness…` and `ratio` are the default client's figures. The harness clients run through the runner's
 * own request path (executeRequest), as in `bench run`.
 *
 * Garbage, measured rather than inferred from p99: every phase also reports the JavaScript heap bytes the
 * client thread allocated per content chunk (V8's sampling heap profiler) and the scavenges per 10 k
 * chunks (allocation.ts). A second,
 * paced phase (`paced` in the JSON) sends a fixed number of requests to a mock that spaces chunks
 * `--paced-itl-ms` apart, so nearly every chunk is its own socket read as in `bench selftest`, and puts
 * each client next to selftest's raw-socket bare reader (`raw`): bytes per chunk there is a deterministic
 * figure for a given client, unlike p99.
 *
 *   npm run bench:client [-- --json] [-- --duration-s 5 --rounds 3 --concurrency 64 --output-tokens 256]
 *   [-- --paced-itl-ms 2 --paced-tokens 64 --paced-requests-per-stream 8]
 *
 * Drivers run alternately (round-robin, order rotated each round) so drift of the shared machine hits all
 * of them alike. `clientElu` is the event-loop utilization of this (client) thread during a phase: close
 * to 1 means the client is the limit; well below 1 means the server side (mock, other core) is.
 */
import { setMaxListeners } from 'node:events'
import { performance } from 'node:perf_hooks'
import { StringDecoder } from 'node:string_decoder'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { type AllocationSample, startAllocationSample } from '../../harness/cli/selftest/allocation.ts'
import { runBareReader } from '../../harness/cli/selftest/bare-reader.ts'
import { systemClock } from '../../harness/clock.ts'
import {
  buildRequestBody,
  createOpenAIEngine,
  DEFAULT_OPENAI_CLIENT,
  OPENAI_CLIENTS,
  type OpenAIClient,
} from '../../harness/engines/openai/openai.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { executeRequest } from '../../harness/request.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'duration-s': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    'output-tokens': { type: 'string', default: '256' },
    'warmup-s': { type: 'string', default: '1' },
    /** Subset to run, e.g. `http1` alone under `node --cpu-prof`; `raw` runs in the paced phase only. */
    drivers: { type: 'string', default: 'http1,undici,sdk,bare,raw' },
    /** Gap between the paced mock's chunks, ms (0 skips the paced phase). */
    'paced-itl-ms': { type: 'string', default: '2' },
    'paced-tokens': { type: 'string', default: '64' },
    /** Requests each stream sends in a paced measurement (after as many for warmup). */
    'paced-requests-per-stream': { type: 'string', default: '8' },
    /** Print the paced phase's top allocating functions per driver (bytes per chunk), last round. */
    'allocation-sites': { type: 'boolean', default: false },
  },
})
const durationMs = Number(args['duration-s']) * 1000
const rounds = Number(args.rounds)
const concurrency = Number(args.concurrency)
const outputTokens = Number(args['output-tokens'])
const warmupMs = Number(args['warmup-s']) * 1000
const pacedItlMs = Number(args['paced-itl-ms'])
const pacedTokens = Number(args['paced-tokens'])
const pacedRequestsPerStream = Number(args['paced-requests-per-stream'])
const log = args.json ? () => {} : (line: string) => console.log(line)

type DriverName = OpenAIClient | 'bare'
const DRIVERS: readonly DriverName[] = [...OPENAI_CLIENTS, 'bare']
/** Drivers of the paced phase: the clients, the undici bare reader, and selftest's raw-socket reader. */
type PacedName = DriverName | 'raw'
const PACED_DRIVERS: readonly PacedName[] = [...DRIVERS, 'raw']
const DEFAULT_CLIENT: OpenAIClient = DEFAULT_OPENAI_CLIENT

interface Driver {
  name: DriverName
  /** One streaming request; resolves to the content chunks received. */
  request(): Promise<number>
  close(): PromiseLike<void>
}

/** Garbage and CPU of the client thread over a phase, per content chunk. */
interface Garbage {
  /** JavaScript heap bytes allocated per content chunk (sampled, allocation.ts). */
  bytesPerChunk: number
  scavengesPer10kChunks: number
  /** GC pause time per 10 k chunks, ms. */
  gcPauseMsPer10kChunks: number
  /** Client-thread CPU time per content chunk (schedstat, ns resolution), µs. */
  cpuUsPerChunk?: number
}

function garbageOf(sample: AllocationSample, chunks: number): Garbage {
  if (sample.sites !== undefined && !args.json)
    for (const { site, bytes } of sample.sites.slice(0, 15))
      console.log(`${(bytes / chunks).toFixed(1).padStart(10)} B/chunk  ${site}`)
  const garbage: Garbage = {
    bytesPerChunk: sample.allocatedBytes / chunks,
    scavengesPer10kChunks: (sample.scavenges / chunks) * 1e4,
    gcPauseMsPer10kChunks: (sample.gcPauseMs / chunks) * 1e4,
  }
  if (sample.threadCpuNs !== undefined) garbage.cpuUsPerChunk = sample.threadCpuNs / 1000 / chunks
  return garbage
}

interface Phase extends Garbage {
  chunks: number
  requests: number
  errors: number
  firstError?: string
  elapsedMs: number
  chunksPerS: number
  clientElu: number
  /** Client-thread busy time per content chunk (ELU × elapsed / chunks): its cost, whoever is the limit. */
  clientBusyUsPerChunk: number
}

const MODEL = 'mock-model'
const generation = { prompt: 'Count to a large number.', maxTokens: outputTokens, ignoreEos: true }

function harnessDriver(name: OpenAIClient, baseUrl: string, tokens: number): Driver {
  const engine = createOpenAIEngine({ baseUrl, model: MODEL, api: 'chat', client: name })
  // One run-wide signal, as the runner's cancel signal (which lifts its listener limit the same way); the
  // bare reader has none at all.
  const signal = new AbortController().signal
  setMaxListeners(0, signal)
  const request = { ...generation, maxTokens: tokens }
  const slot = { seq: 0, promptIndex: 0, scheduledAt: 0 }
  const options = { clock: systemClock, origin: 0, timeoutMs: 60_000, signal }
  return {
    name,
    async request() {
      const outcome = await executeRequest(engine, request, slot, options)
      if (outcome.state !== 'ok') throw new Error(`${outcome.error.kind}: ${outcome.error.message}`)
      return outcome.chunks
    },
    close: () => engine[Symbol.asyncDispose](),
  }
}

/**
 * The baseline: undici request(), the body iterated as it comes, lines split, and a `data:` line counted
 * when it holds a non-empty `"content":"…"` — a substring check instead of JSON parsing.
 */
function bareDriver(baseUrl: string, tokens: number): Driver {
  const url = new URL(baseUrl)
  const pool = new Pool(url.origin, { connections: 1024, pipelining: 1 })
  const path = `${url.pathname.replace(/\/+$/, '')}/chat/completions`
  const body = JSON.stringify(
    buildRequestBody('chat', MODEL, { ...generation, maxTokens: tokens }, undefined),
  )
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

/**
 * @param heap run the sampling heap profiler (bytes per chunk): it slows allocation, so timed rounds run
 *   without it and one extra phase per driver afterwards measures the bytes (allocation.ts).
 */
async function runPhase(driver: Driver, phaseMs: number, heap = false): Promise<Phase> {
  let chunks = 0
  let requests = 0
  let errors = 0
  let firstError: string | undefined
  // First: it starts with a full collection, which must not pause the timed phase.
  const stopSample = await startAllocationSample({ heap })
  const started = performance.now()
  const deadline = started + phaseMs
  const elu = performance.eventLoopUtilization()
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
  const sample = await stopSample()
  const clientElu = performance.eventLoopUtilization(elu).utilization
  const phase: Phase = {
    ...garbageOf(sample, chunks),
    chunks,
    requests,
    errors,
    elapsedMs,
    chunksPerS: (chunks / elapsedMs) * 1000,
    clientElu,
    clientBusyUsPerChunk: (clientElu * elapsedMs * 1000) / chunks,
  }
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

/** One paced measurement: a fixed number of requests, so the figures compare across drivers and runs. */
interface PacedPhase extends Garbage {
  chunks: number
  errors: number
  firstError?: string
}

/** `requestsPerStream` requests on each of the streams, closed loop. */
async function runPacedPhase(driver: Driver, requestsPerStream: number): Promise<PacedPhase> {
  let chunks = 0
  let errors = 0
  let firstError: string | undefined
  const stopSample = await startAllocationSample({ sites: args['allocation-sites'] })
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let k = 0; k < requestsPerStream; k++) {
        try {
          const received = await driver.request()
          chunks += received
        } catch (error) {
          errors++
          firstError ??= error instanceof Error ? error.message : String(error)
        }
      }
    }),
  )
  const phase: PacedPhase = { ...garbageOf(await stopSample(), chunks), chunks, errors }
  if (firstError !== undefined) phase.firstError = firstError
  return phase
}

/** The same for selftest's raw-socket bare reader, which runs its own closed loop. */
async function runRawPacedPhase(url: string, requestsPerStream: number): Promise<PacedPhase> {
  const body = JSON.stringify(
    buildRequestBody('chat', MODEL, { ...generation, maxTokens: pacedTokens }, undefined),
  )
  const options = {
    url: `${url}/chat/completions`,
    bodies: [body],
    concurrency,
    warmupRequests: 0,
    rampUpMs: 0,
  }
  const stopSample = await startAllocationSample({ sites: args['allocation-sites'] })
  const result = await runBareReader({ ...options, requests: concurrency * requestsPerStream })
  const phase: PacedPhase = {
    ...garbageOf(await stopSample(), result.chunks),
    chunks: result.chunks,
    errors: result.errors,
  }
  if (result.firstError !== undefined) phase.firstError = result.firstError
  return phase
}

const selected = new Set(args.drivers.split(','))
const createDrivers = (url: string, tokens: number): Driver[] =>
  DRIVERS.filter((name) => selected.has(name)).map((name) =>
    name === 'bare' ? bareDriver(url, tokens) : harnessDriver(name, url, tokens),
  )
const results = Object.fromEntries(DRIVERS.map((name) => [name, [] as Phase[]])) as Record<
  DriverName,
  Phase[]
>
const pacedResults = Object.fromEntries(PACED_DRIVERS.map((name) => [name, [] as PacedPhase[]])) as Record<
  PacedName,
  PacedPhase[]
>
/** The untimed phase of each driver with the sampling heap profiler on: its bytes per chunk. */
const heapPhases: Partial<Record<DriverName, Phase>> = {}
const fmtPhase = (phase: Garbage) =>
  `${Number.isNaN(phase.bytesPerChunk) ? '-' : phase.bytesPerChunk.toFixed(0)} B/chunk, ${phase.scavengesPer10kChunks.toFixed(2)} scavenges/10k chunks, ` +
  `${phase.cpuUsPerChunk?.toFixed(2) ?? '?'} µs CPU/chunk`

const mock = await startMockServerInWorker({
  ttft: { kind: 'fixed', ms: 0 },
  itl: { kind: 'fixed', ms: 0 },
  outputTokens,
  model: MODEL,
})
const drivers = createDrivers(mock.url, outputTokens)
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
          `${phase.clientBusyUsPerChunk.toFixed(2)} µs busy/chunk, ${fmtPhase(phase)}` +
          (phase.errors > 0 ? `  ${phase.errors} errors (${phase.firstError})` : ''),
      )
    }
  }
  // Bytes per chunk from one untimed phase per driver with the heap profiler on (not in the rates above).
  for (const driver of drivers) {
    const phase = await runPhase(driver, durationMs, true)
    heapPhases[driver.name] = phase
    log(`heap    ${driver.name.padEnd(7)} ${fmtPhase(phase)}`)
  }
} finally {
  for (const driver of drivers) await driver.close()
  await mock.close()
}

if (pacedItlMs > 0) {
  const paced = await startMockServerInWorker({
    ttft: { kind: 'fixed', ms: 0 },
    itl: { kind: 'fixed', ms: pacedItlMs },
    outputTokens: pacedTokens,
    model: MODEL,
  })
  const pacedDrivers = createDrivers(paced.url, pacedTokens)
  const withRaw = selected.has('raw')
  try {
    log(
      `\npaced: ${concurrency} streams × ${pacedRequestsPerStream} requests × ${pacedTokens} tokens, ${pacedItlMs} ms between chunks`,
    )
    for (const driver of pacedDrivers) await runPacedPhase(driver, pacedRequestsPerStream)
    if (withRaw) await runRawPacedPhase(paced.url, pacedRequestsPerStream)
    for (let round = 0; round < rounds; round++) {
      const order: PacedName[] = [...pacedDrivers.map((d) => d.name), ...(withRaw ? ['raw' as const] : [])]
      for (let i = 0; i < order.length; i++) {
        const name = order[(i + round) % order.length]!
        const driver = pacedDrivers.find((d) => d.name === name)
        const phase =
          driver === undefined
            ? await runRawPacedPhase(paced.url, pacedRequestsPerStream)
            : await runPacedPhase(driver, pacedRequestsPerStream)
        pacedResults[name].push(phase)
        log(
          `round ${round + 1} ${name.padEnd(7)} ${fmtPhase(phase)}` +
            (phase.errors > 0 ? `  ${phase.errors} errors (${phase.firstError})` : ''),
        )
      }
    }
  } finally {
    for (const driver of pacedDrivers) await driver.close()
    await paced.close()
  }
}

const rate = (name: DriverName) => mean(results[name].map((p) => p.chunksPerS))
const elu = (name: DriverName) => mean(results[name].map((p) => p.clientElu))
const busy = (name: DriverName) => mean(results[name].map((p) => p.clientBusyUsPerChunk))
/** Median over rounds of a per-phase figure (NaN when the driver did not run). */
const medianOf = <P extends Garbage>(phases: P[], figure: (phase: P) => number | undefined) =>
  phases.length === 0 ? Number.NaN : median(phases.map((p) => figure(p) ?? Number.NaN))
const cpu = (name: DriverName) => medianOf(results[name], (p) => p.cpuUsPerChunk)
const limitedBy = (name: DriverName) =>
  results[name].length === 0 ? null : elu(name) >= 0.9 ? 'client' : 'mock'
const pairedRatio = (name: DriverName) =>
  median(results[name].map((p, i) => p.chunksPerS / (results.bare[i]?.chunksPerS ?? Number.NaN)))
const byDriver = (figure: (name: DriverName) => number, digits: number) =>
  Object.fromEntries(DRIVERS.map((name) => [name, Number(figure(name).toFixed(digits))]))
const byPaced = (figure: (phase: PacedPhase) => number | undefined, digits: number) =>
  Object.fromEntries(
    PACED_DRIVERS.map((name) => [name, Number(medianOf(pacedResults[name], figure).toFixed(digits))]),
  )
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
  /** JavaScript heap bytes the client thread allocated per content chunk, from the untimed heap-profiled phase. */
  bytesPerChunk: byDriver((name) => heapPhases[name]?.bytesPerChunk ?? Number.NaN, 0),
  scavengesPer10kChunks: byDriver((name) => medianOf(results[name], (p) => p.scavengesPer10kChunks), 2),
  /**
   * Heuristic: a client thread busy ≥ 90 % of the time is what limited its phase; below that it waited
   * for the mock (or the shared cores).
   */
  limitedBy: Object.fromEntries(DRIVERS.map((name) => [name, limitedBy(name)])),
  /** Fixed request counts against a paced mock (about one chunk per socket read); medians over rounds. */
  paced:
    pacedItlMs > 0
      ? {
          itlMs: pacedItlMs,
          tokens: pacedTokens,
          requestsPerStream: pacedRequestsPerStream,
          bytesPerChunk: byPaced((p) => p.bytesPerChunk, 0),
          scavengesPer10kChunks: byPaced((p) => p.scavengesPer10kChunks, 2),
          gcPauseMsPer10kChunks: byPaced((p) => p.gcPauseMsPer10kChunks, 2),
          cpuUsPerChunk: byPaced((p) => p.cpuUsPerChunk, 2),
          errors: Object.values(pacedResults)
            .flat()
            .reduce((n, p) => n + p.errors, 0),
        }
      : null,
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
  const line = (label: string, values: Record<string, unknown>, names: readonly string[] = DRIVERS) =>
    log(`${label}: ${names.map((name) => `${name} ${String(values[name])}`).join(', ')}`)
  line('\nmean chunks/s', Object.fromEntries(DRIVERS.map((name) => [name, fmt(rate(name))])))
  log(
    `ratio ${DEFAULT_CLIENT} (default)/bare ${summary.ratio} (median of rounds ${summary.medianRoundRatio}); ` +
      OPENAI_CLIENTS.map((name) => `${name}/bare ${summary.ratios[name]}`).join(', '),
  )
  line('client event-loop utilization', summary.clientElu)
  line('limited by (client when its ELU ≥ 0.9)', summary.limitedBy)
  line('client busy µs per chunk', summary.clientBusyUsPerChunk)
  line('client CPU µs per chunk (median)', summary.clientCpuUsPerChunk)
  line('heap bytes per chunk (median)', summary.bytesPerChunk)
  line('scavenges per 10 k chunks (median)', summary.scavengesPer10kChunks)
  if (summary.paced !== null) {
    line('paced heap bytes per chunk (median)', summary.paced.bytesPerChunk, PACED_DRIVERS)
    line('paced scavenges per 10 k chunks (median)', summary.paced.scavengesPer10kChunks, PACED_DRIVERS)
    line('paced client CPU µs per chunk (median)', summary.paced.cpuUsPerChunk, PACED_DRIVERS)
  }
}
