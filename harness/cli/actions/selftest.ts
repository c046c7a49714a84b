/**
 * `bench selftest`: measures the harness's own timing error. A mock server in its own process injects a
 * known, fixed TTFT and inter-chunk gap; the harness runs closed-loop loads at several concurrencies and we
 * print |measured − injected| for TTFT and ITL (chunk gap) p50/p99, plus the client-saturation flag. It is a
 * benchmark that prints, not a pass/fail test: the figure depends on the machine.
 *
 * The mock counts each TTFT from the client's send stamp (`sendTimeHeader` → `--client-clock`, one monotonic
 * clock for both processes), so the ~0.3–1 ms a request spends reaching the mock's handler is not mistaken
 * for injected delay; the time between the harness's tSend and that stamp still counts as error. Streams
 * start spread over one gap (`rampUpMs`): started together they would stay in lockstep and the mock would
 * write 256 chunks at once, serially.
 *
 * The error is not all the harness's: on a small shared machine the mock writes late and this process is
 * woken late too. So every level also runs a bare reader (selftest/bare-reader.ts: raw socket, minimal
 * parsing, same body, send stamp, load and process position) interleaved with the harness (ABBA halves),
 * and reports harness error − bare error as the excess: the harness's own cost, which is what the goal
 * (≤ 0.5 ms at 1 and 64 streams) bounds.
 * @module
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseScenario, type Scenario } from '../../config/index.ts'
import {
  API_PATHS,
  buildRequestBody,
  DEFAULT_OPENAI_CLIENT,
  type OpenAIClient,
} from '../../engines/openai/openai.ts'
import { HarnessError } from '../../errors.ts'
import { distribution } from '../../metrics/index.ts'
import { loadPrompts } from '../../prompts/index.ts'
import type { OkOutcome } from '../../results.ts'
import { runScenario } from '../../runner.ts'
import type { ResultSink } from '../../sink.ts'
import { parseNumberFlag } from '../action.ts'
import { type BareReaderResult, runBareReader } from '../selftest/bare-reader.ts'

export interface SelftestOptions {
  levels: number[]
  ttftMs: number
  itlMs: number
  outputTokens: number
  /** Measured requests per level. @default max(300, 16 × concurrency) */
  requests?: number
  /** The openai engine's HTTP client under test. @default the engine's default */
  client?: OpenAIClient
  /**
   * Rounds per level, each the full ABBA measurement; the figures are the median over rounds. One p99
   * comparison at 64 streams swings by several ms on a shared 2-vCPU machine (session 8: ITL p99 excess
   * +0.52 … +3.29 ms over four runs), so judging the goal takes ≥ 5. @default 1
   */
  rounds?: number
  json?: boolean
}

export interface SelftestLevel {
  concurrency: number
  requests: number
  ok: number
  ttftP50ErrorMs: number
  ttftP99ErrorMs: number
  itlP50ErrorMs: number
  itlP99ErrorMs: number
  measuredTtftP50Ms: number
  measuredTtftP99Ms: number
  measuredItlP50Ms: number
  measuredItlP99Ms: number
  /** Measured TTFT − the mock's own arrival → first-write time: the client's share of the error (loopback included). */
  ttftClientErrorP50Ms: number | null
  ttftClientErrorP99Ms: number | null
  /** Measured (E2E − TTFT) − the mock's own first → last write time. */
  decodeSpanClientErrorP50Ms: number | null
  decodeSpanClientErrorP99Ms: number | null
  /** How late the mock itself wrote the first chunk vs the injected TTFT (the server's share). */
  serverTtftLateP50Ms: number | null
  serverTtftLateP99Ms: number | null
  chunksPerS: number
  /** CPU time of this (client) process per content chunk over the measured run, all threads, µs. */
  clientCpuUsPerChunk: number
  eventLoopDelayP99Ms: number | null
  clientSaturated: boolean
  /** The bare reader (the floor, selftest/bare-reader.ts) at the same level: measured requests it completed. */
  bareOk: number
  /** |bare measured − injected|, ms: what any client in this position sees (mock, kernel, scheduling). */
  bareTtftP50ErrorMs: number
  bareTtftP99ErrorMs: number
  bareItlP50ErrorMs: number
  bareItlP99ErrorMs: number
  /** Harness error − bare error, ms: the harness's own share (may be < 0 within the noise). Goal ≤ 0.5. */
  ttftP50ExcessMs: number
  ttftP99ExcessMs: number
  itlP50ExcessMs: number
  itlP99ExcessMs: number
  /** CPU time of this process per content chunk while the bare reader ran, µs. */
  bareCpuUsPerChunk: number
  /**
   * Who ran when: each reader ran half the requests twice, `HBBH` (harness, bare, bare, harness) or `BHHB`
   * (alternating by level), and its figures pool both halves. With rounds, the first round's order (the
   * next round takes the other).
   */
  order: 'HBBH' | 'BHHB'
  /** Rounds measured; every figure above is their median (counts are summed). */
  rounds: number
  /** Each round's TTFT and ITL p99 excess, ms, in the order run: the spread the median hides. */
  roundExcessMs: { ttftP99: number; itlP99: number }[]
}

/** Goal on the excess (harness − bare) of TTFT and ITL p50/p99, ms, at GOAL_LEVELS streams. */
export const EXCESS_GOAL_MS = 0.5
const GOAL_LEVELS = [1, 64]
const PREWARM_STREAMS = 64
const PREWARM_REQUESTS = 256

const BIN = fileURLToPath(new URL('../bench.mjs', import.meta.url))

/** Starts `bench mock-server --json` as a child process; resolves with its base URL. */
async function startMockProcess(args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'mock-server', '--json', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new HarnessError(`the mock server exited (code ${code}) before listening`)),
    )
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url)
      } catch {
        reject(new HarnessError(`unexpected mock server output: ${line}`))
      }
    })
  })
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

export async function runSelftest(options: SelftestOptions): Promise<SelftestLevel[]> {
  const mock = await startMockProcess([
    '--ttft',
    `fixed:${options.ttftMs}`,
    '--itl',
    `fixed:${options.itlMs}`,
    '--output-tokens',
    String(options.outputTokens),
    '--client-clock',
  ])
  const levels: SelftestLevel[] = []
  const scenarioAt = (concurrency: number, requests: number) =>
    parseScenario({
      name: 'selftest',
      prompts: { kind: 'synthetic', promptTokens: 64, outputTokens: options.outputTokens },
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            baseUrl: mock.url,
            model: 'mock-model',
            sendTimeHeader: true,
            ...(options.client === undefined ? {} : { client: options.client }),
          },
        },
      ],
      // Streams started together stay in lockstep (same TTFT, gaps and length), so the mock would write
      // all their chunks in one burst, serially, k-th ~k × 13 µs late; spread over one gap, they are not.
      loads: [{ kind: 'concurrent', concurrency, requests, rampUpMs: options.itlMs }],
      warmupRequests: concurrency,
      // The client alone is measured: no /metrics scrapes on its event loop or in its CPU figure.
      serverMetrics: 'off',
    })
  try {
    // Both paths and the mock start cold (interpreted code, lazy allocations). A level's own warmup is one
    // request per stream, which at 1 stream leaves the first measured requests — a p99 of 300 is ~3 of
    // them — to the JIT, and the first level's cold mock to whichever reader went first. So, unmeasured,
    // 256 requests over 64 streams through each (~1.5 s apiece at the default delays).
    const prewarm = scenarioAt(PREWARM_STREAMS, PREWARM_REQUESTS)
    await runHarnessLevel(prewarm)
    await runBareLevel(prewarm, mock.url)
    for (const [index, concurrency] of options.levels.entries()) {
      // A p99 needs a few hundred TTFTs; at high levels 16 rounds also put the start-up ramp in the minority.
      const requests = options.requests ?? Math.max(300, concurrency * 16)
      const rounds: SelftestLevel[] = []
      for (let round = 0; round < (options.rounds ?? 1); round++) {
        // Each reader runs its requests in two halves, in ABBA order (harness, bare, bare, harness; BAAB at
        // the next level or round), and its samples are pooled: on a shared machine conditions drift within
        // a level, and this way both readers see the same drift, whoever starts.
        const order: SelftestLevel['order'] = (index + round) % 2 === 0 ? 'HBBH' : 'BHHB'
        const halves = [Math.ceil(requests / 2), Math.floor(requests / 2)]
        const harness: HarnessHalf[] = []
        const bare: BareReaderResult[] = []
        for (const who of order) {
          // Each reader's first run takes the first half, its second the rest (none with --requests 1).
          const half = halves[who === 'H' ? harness.length : bare.length]!
          if (half === 0) continue
          const scenario = scenarioAt(concurrency, half)
          if (who === 'H') harness.push(await runHarnessLevel(scenario))
          else bare.push(await runBareLevel(scenario, mock.url))
        }
        rounds.push(summarizeLevel(concurrency, requests, harness, bare, options, order))
      }
      levels.push(medianOfRounds(rounds))
    }
  } finally {
    await mock.stop()
  }
  return levels
}

/** What one run of the harness leaves: its ok outcomes and the run's own figures. */
interface HarnessHalf {
  outcomes: OkOutcome[]
  ok: number
  windowMs: number
  cpuUs: number
  eventLoopDelayP99Ms: number | undefined
  clientSaturated: boolean
}

/** The level's figures from the pooled samples of both halves of each reader. */
function summarizeLevel(
  concurrency: number,
  requests: number,
  harness: readonly HarnessHalf[],
  bare: readonly BareReaderResult[],
  options: SelftestOptions,
  order: SelftestLevel['order'],
): SelftestLevel {
  const outcomes = harness.flatMap((h) => h.outcomes)
  // Pooled, as summarizeRun pools the ok requests of one run (linear interpolation, METRICS.md).
  const ttft = distribution(outcomes.map((o) => o.ttftMs))
  const gaps = distribution(outcomes.flatMap((o) => o.chunkGapsMs))
  if (ttft === undefined || gaps === undefined)
    throw new HarnessError(`selftest at concurrency ${concurrency} produced no measurements (no ok requests)`)
  const bareTtft = distribution(bare.flatMap((b) => b.ttftMs))
  const bareGaps = distribution(bare.flatMap((b) => b.chunkGapsMs))
  if (bareTtft === undefined || bareGaps === undefined)
    throw new HarnessError(
      `the bare reader at concurrency ${concurrency} measured nothing: ${bare.find((b) => b.firstError)?.firstError ?? 'no ok requests'}`,
    )
  // The mock reports what it actually did (llama-server style timings: prompt_ms = arrival → first
  // content write, predicted_ms = first → last write); measured − actual is the client's own error.
  const ttftClient = distribution(
    outcomes.flatMap((o) =>
      o.serverTimings?.promptMs !== undefined ? [o.ttftMs - o.serverTimings.promptMs] : [],
    ),
  )
  const decodeClient = distribution(
    outcomes.flatMap((o) =>
      o.serverTimings?.predictedMs !== undefined ? [o.e2eMs - o.ttftMs - o.serverTimings.predictedMs] : [],
    ),
  )
  const ttftServer = distribution(
    outcomes.flatMap((o) =>
      o.serverTimings?.promptMs !== undefined ? [o.serverTimings.promptMs - options.ttftMs] : [],
    ),
  )
  const chunks = outcomes.reduce((sum, o) => sum + o.chunks, 0)
  const bareChunks = bare.reduce((sum, b) => sum + b.chunks, 0)
  const loopDelays = harness.flatMap((h) =>
    h.eventLoopDelayP99Ms === undefined ? [] : [h.eventLoopDelayP99Ms],
  )
  const err = (value: number, injected: number) => Math.abs(value - injected)
  const figures = {
    ttftP50ErrorMs: err(ttft.p50, options.ttftMs),
    ttftP99ErrorMs: err(ttft.p99, options.ttftMs),
    itlP50ErrorMs: err(gaps.p50, options.itlMs),
    itlP99ErrorMs: err(gaps.p99, options.itlMs),
    bareTtftP50ErrorMs: err(bareTtft.p50, options.ttftMs),
    bareTtftP99ErrorMs: err(bareTtft.p99, options.ttftMs),
    bareItlP50ErrorMs: err(bareGaps.p50, options.itlMs),
    bareItlP99ErrorMs: err(bareGaps.p99, options.itlMs),
  }
  return {
    concurrency,
    requests,
    ok: harness.reduce((sum, h) => sum + h.ok, 0),
    ttftP50ErrorMs: figures.ttftP50ErrorMs,
    ttftP99ErrorMs: figures.ttftP99ErrorMs,
    itlP50ErrorMs: figures.itlP50ErrorMs,
    itlP99ErrorMs: figures.itlP99ErrorMs,
    measuredTtftP50Ms: ttft.p50,
    measuredTtftP99Ms: ttft.p99,
    measuredItlP50Ms: gaps.p50,
    measuredItlP99Ms: gaps.p99,
    ttftClientErrorP50Ms: ttftClient?.p50 ?? null,
    ttftClientErrorP99Ms: ttftClient?.p99 ?? null,
    decodeSpanClientErrorP50Ms: decodeClient?.p50 ?? null,
    decodeSpanClientErrorP99Ms: decodeClient?.p99 ?? null,
    serverTtftLateP50Ms: ttftServer?.p50 ?? null,
    serverTtftLateP99Ms: ttftServer?.p99 ?? null,
    chunksPerS: chunks / (harness.reduce((sum, h) => sum + h.windowMs, 0) / 1000),
    clientCpuUsPerChunk: harness.reduce((sum, h) => sum + h.cpuUs, 0) / chunks,
    eventLoopDelayP99Ms: loopDelays.length === 0 ? null : Math.max(...loopDelays),
    clientSaturated: harness.some((h) => h.clientSaturated),
    bareOk: bare.reduce((sum, b) => sum + b.ok, 0),
    bareTtftP50ErrorMs: figures.bareTtftP50ErrorMs,
    bareTtftP99ErrorMs: figures.bareTtftP99ErrorMs,
    bareItlP50ErrorMs: figures.bareItlP50ErrorMs,
    bareItlP99ErrorMs: figures.bareItlP99ErrorMs,
    ttftP50ExcessMs: figures.ttftP50ErrorMs - figures.bareTtftP50ErrorMs,
    ttftP99ExcessMs: figures.ttftP99ErrorMs - figures.bareTtftP99ErrorMs,
    itlP50ExcessMs: figures.itlP50ErrorMs - figures.bareItlP50ErrorMs,
    itlP99ExcessMs: figures.itlP99ErrorMs - figures.bareItlP99ErrorMs,
    bareCpuUsPerChunk: bare.reduce((sum, b) => sum + b.cpuUs, 0) / bareChunks,
    order,
    rounds: 1,
    roundExcessMs: [
      {
        ttftP99: figures.ttftP99ErrorMs - figures.bareTtftP99ErrorMs,
        itlP99: figures.itlP99ErrorMs - figures.bareItlP99ErrorMs,
      },
    ],
  }
}

/** Counts a level sums over its rounds; every other number is the rounds' median. */
const SUMMED: ReadonlySet<keyof SelftestLevel> = new Set(['requests', 'ok', 'bareOk'] as const)

/** One level from its rounds: medians (counts summed), saturated if any round was, each round's excess kept. */
export function medianOfRounds(rounds: readonly SelftestLevel[]): SelftestLevel {
  const first = rounds[0]
  if (first === undefined) throw new HarnessError('selftest: a level needs at least one round')
  if (rounds.length === 1) return first
  const out: Record<string, unknown> = { ...first }
  for (const [key, value] of Object.entries(first) as [keyof SelftestLevel, unknown][]) {
    if (typeof value !== 'number' && value !== null) continue
    const values = rounds.flatMap((r) => (typeof r[key] === 'number' ? [r[key] as number] : []))
    if (key === 'concurrency') continue
    if (SUMMED.has(key)) out[key] = values.reduce((a, b) => a + b, 0)
    else out[key] = values.length === 0 ? null : median(values)
  }
  return {
    ...(out as unknown as SelftestLevel),
    clientSaturated: rounds.some((r) => r.clientSaturated),
    rounds: rounds.length,
    roundExcessMs: rounds.flatMap((r) => r.roundExcessMs),
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** One run through the harness: the runner, the openai engine, the client under test. */
async function runHarnessLevel(scenario: Scenario): Promise<HarnessHalf> {
  const outcomes: OkOutcome[] = []
  // CPU of this process over the measured run: from startRun (after the warmup) to finish.
  let cpuAtStart = process.cpuUsage()
  let cpu: NodeJS.CpuUsage = { user: 0, system: 0 }
  const sink: ResultSink = {
    startRun: async () => {
      cpuAtStart = process.cpuUsage()
      return {
        runId: 'selftest',
        record: (o) => {
          if (o.state === 'ok') outcomes.push(o)
        },
        recordItem: () => {},
        finish: async () => {
          cpu = process.cpuUsage(cpuAtStart)
        },
      }
    },
    close: async () => {},
  }
  const result = await runScenario({ scenario, baseDir: process.cwd(), sink })
  const m = result.runs[0]?.metrics
  if (m === undefined)
    throw new HarnessError(`selftest produced no measurements: ${result.runs[0]?.error ?? 'no metrics'}`)
  return {
    outcomes,
    ok: m.ok,
    windowMs: m.windowMs,
    cpuUs: cpu.user + cpu.system,
    eventLoopDelayP99Ms: m.eventLoopDelayP99Ms,
    clientSaturated: m.clientSaturated,
  }
}

/** The same level through the bare reader: the scenario's prompts and bodies, in the runner's order. */
async function runBareLevel(scenario: Scenario, baseUrl: string): Promise<BareReaderResult> {
  const target = scenario.targets[0]!
  const load = scenario.loads[0]!
  if (target.engine.kind !== 'openai' || load.kind !== 'concurrent' || load.requests === undefined)
    throw new HarnessError('selftest needs an openai target and a concurrent load with requests')
  const { concurrency, requests, rampUpMs = 0 } = load
  const { model, api } = target.engine
  if (!scenario.prompts) throw new HarnessError('selftest needs a scenario with prompts')
  const source = await loadPrompts(scenario.prompts, { seed: scenario.seed, baseDir: process.cwd() })
  // The same lengths in the same order as the harness's run (the text differs, as between any two runs).
  const prompts = Array.from({ length: scenario.warmupRequests + requests }, (_, k) => source.at(k))
  // As runner.ts toRequest builds each request.
  const bodies = prompts.map((p) =>
    JSON.stringify(
      buildRequestBody(
        api,
        model,
        {
          prompt: p.prompt,
          ...(p.messages ? { messages: p.messages } : {}),
          maxTokens: p.outputTokens,
          ...(scenario.fixedOutputLength ? { minTokens: p.outputTokens, ignoreEos: true } : {}),
          sampling: scenario.sampling,
        },
        undefined,
      ),
    ),
  )
  return runBareReader({
    url: `${baseUrl.replace(/\/+$/, '')}${API_PATHS[api]}`,
    bodies,
    concurrency,
    requests,
    warmupRequests: scenario.warmupRequests,
    rampUpMs,
  })
}

/** The goal's verdict: which figures at GOAL_LEVELS exceed EXCESS_GOAL_MS, or null when none was run. */
export function excessGoalMisses(levels: readonly SelftestLevel[]): string[] | null {
  const judged = levels.filter((l) => GOAL_LEVELS.includes(l.concurrency))
  if (judged.length === 0) return null
  return judged.flatMap((l) =>
    (
      [
        ['TTFT p50', l.ttftP50ExcessMs],
        ['TTFT p99', l.ttftP99ExcessMs],
        ['ITL p50', l.itlP50ExcessMs],
        ['ITL p99', l.itlP99ExcessMs],
      ] as const
    )
      .filter(([, excess]) => excess > EXCESS_GOAL_MS)
      .map(([name, excess]) => `${name} excess ${excess.toFixed(3)} at ${l.concurrency}`),
  )
}

function formatSelftest(levels: readonly SelftestLevel[], options: SelftestOptions): string {
  const f = (v: number) => v.toFixed(3)
  const header = [
    'streams',
    'TTFT p50 err',
    'TTFT p99 err',
    'bare p99',
    'excess p99',
    'ITL p50 err',
    'ITL p99 err',
    'bare p99',
    'excess p99',
    'client TTFT p99',
    'server late p99',
    'chunks/s',
    'CPU µs/chunk',
    'bare µs/chunk',
    'loop p99',
    'saturated',
  ]
  const g = (v: number | null) => (v === null ? '-' : v.toFixed(3))
  const rows = levels.map((l) => [
    String(l.concurrency),
    f(l.ttftP50ErrorMs),
    f(l.ttftP99ErrorMs),
    f(l.bareTtftP99ErrorMs),
    f(l.ttftP99ExcessMs),
    f(l.itlP50ErrorMs),
    f(l.itlP99ErrorMs),
    f(l.bareItlP99ErrorMs),
    f(l.itlP99ExcessMs),
    g(l.ttftClientErrorP99Ms),
    g(l.serverTtftLateP99Ms),
    l.chunksPerS.toFixed(0),
    l.clientCpuUsPerChunk.toFixed(1),
    l.bareCpuUsPerChunk.toFixed(1),
    l.eventLoopDelayP99Ms === null ? '-' : l.eventLoopDelayP99Ms.toFixed(1),
    l.clientSaturated ? 'yes' : 'no',
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (r: string[]) => r.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  ')
  const misses = excessGoalMisses(levels)
  const goal = `goal: excess (harness error − bare error) ≤ ${EXCESS_GOAL_MS} ms for TTFT and ITL p50/p99 at ${GOAL_LEVELS.join(' and ')} streams`
  return [
    `client ${options.client ?? DEFAULT_OPENAI_CLIENT}; injected TTFT ${options.ttftMs} ms, gap ${options.itlMs} ms, ${options.outputTokens} tokens; errors = |measured − injected| in ms`,
    ...((options.rounds ?? 1) > 1
      ? [`${options.rounds} rounds per level: every figure is the median over rounds (counts summed)`]
      : []),
    'bare = the same error seen by a bare raw-socket reader at the same load (the floor: mock, kernel, scheduling); excess = harness − bare',
    'client = measured − what the mock reports it did (the harness share); server late = mock first write − injected',
    line(header),
    ...rows.map(line),
    misses === null
      ? `${goal} (not judged: none of those levels ran)`
      : misses.length === 0
        ? `${goal}: met`
        : `${goal}: NOT met (${misses.join(', ')})`,
  ].join('\n')
}

/** The flags as commander hands them: --levels still the comma-separated text. */
export type SelftestFlags = Omit<SelftestOptions, 'levels'> & { levels: string }

/** `bench selftest`: measures, prints the table (or JSON); exit 0 (it is a benchmark, not a test). */
export async function selftestCommand(opts: SelftestFlags): Promise<number> {
  const levels = opts.levels.split(',').map((s) => parseNumberFlag('--levels', 'int', 1)(s))
  const options = { ...opts, levels }
  const result = await runSelftest(options)
  process.stdout.write(
    `${opts.json ? JSON.stringify({ levels: result }) : formatSelftest(result, options)}\n`,
  )
  return 0
}
