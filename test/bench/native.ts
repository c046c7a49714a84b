/**
 * Native-engine overhead benchmark: decode (tg) and prompt (pp) speed of each bench-size GGUF fixture
 * measured THROUGH THE HARNESS (runScenario → isolated child process → node-llama-cpp, fixed output
 * length, sequential requests) against node-llama-cpp's own generation loop with no harness, in this
 * process, in the same run. Goal: ratio ≥ 0.97.
 *
 *   npm run bench:native [-- --json] [-- --pairs 12 --warmup 2 --output-tokens 128 --prompt-tokens 256 --variants bench-q4_0,bench-f32 --in-process]
 *
 * Both sides: 1 thread, greedy, the same prompt (BOS + `promptTokens − 1` byte tokens), `outputTokens`
 * generated tokens. Per variant one harness run (one child process; `warmup` requests excluded, then
 * `pairs` measured ones); raw generations run in between, in ABBA order (H1 R1 R2 H2 H3 R3 R4 H4 …), each
 * right after a harness request has ended (the harness's times for it are already taken), so drift of the
 * shared machine hits both sides alike. The raw side warms up as many generations as the harness.
 * Definitions, the same for both sides:
 * - genTokensPerS of one generation = (outputTokens − 1) / (tLast − t1) · 1000: tokens after the first
 *   over the time from the first to the last token (harness: the runner's outcome, (e2eMs − ttftMs), i.e.
 *   decodeTokensPerS; its token times are stamped in the child where each token was produced).
 * - promptTokensPerS of one generation = promptTokens / (t1 − t0) · 1000, t0 = the request handed over
 *   (harness: tSend, so the IPC send, tokenization and sequence reset count; raw: before the same
 *   tokenization and reset), t1 = the first token: prompt processing plus the first sampling step.
 * - per variant: mean ± sd over the measured generations; `ratio` = harness mean / raw mean;
 *   `ratioMedianOfPairs` = median of H_i / R_i (robust to a burst of load on the shared machine);
 *   `ratioCi95` = 95 % bootstrap interval of `ratio` over the pairs (is the goal inside the noise?);
 *   `cpuRatio` = raw CPU time per generation / harness CPU time per generation (this process and the child
 *   together): the work the harness adds, which a busy machine does not blur as it does wall-clock speed;
 *   `engineCpuRatio` = the same for the engine process's threads other than its main thread (llama.cpp's
 *   compute): near 1 when the harness leaves the engine's own work alone and only the hand-offs differ.
 * Fixtures missing from .bench/models are generated first.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { getLlama, type Llama, LlamaLogLevel, type Token } from 'node-llama-cpp'
import { parseScenario } from '../../harness/config/index.ts'
import type { TargetConfig } from '../../harness/config/schema.ts'
import type { Engine, StreamEvent } from '../../harness/engines/engine.ts'
import { createEngine } from '../../harness/engines/index.ts'
import type { IsolatedEngine, IsolateStats } from '../../harness/engines/isolate/index.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { createNullSink } from '../../harness/jsonl-sink.ts'
import type { RunMetrics } from '../../harness/metrics/types.ts'
import { createRandom } from '../../harness/random.ts'
import type { OkOutcome } from '../../harness/results.ts'
import { runScenario } from '../../harness/runner.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    /** Measured generations per side (rounded up to even, for ABBA). */
    pairs: { type: 'string', default: '12' },
    /** Generations before the measured ones, per side (JIT of a fresh child, caches). */
    warmup: { type: 'string', default: '2' },
    'output-tokens': { type: 'string', default: '128' },
    'prompt-tokens': { type: 'string', default: '256' },
    /** Comma-separated fixture names; default: every bench-size GGUF. */
    variants: { type: 'string' },
    'models-dir': { type: 'string' },
    /** Also run the harness with the engine in this process (`isolate: false`), after: IPC vs engine cost. */
    'in-process': { type: 'boolean', default: false },
  },
})
const pairs = Math.ceil(Number(args.pairs) / 2) * 2
const warmup = Number(args.warmup)
const outputTokens = Number(args['output-tokens'])
const promptBytes = Number(args['prompt-tokens']) - 1
const THREADS = 1
const CONTEXT_SIZE = 1024
const log = args.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`)
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const modelsDir = resolve(args['models-dir'] ?? join(ROOT, '.bench/models'))

// Printable ASCII without spaces: one byte token each in the fixtures' byte vocabulary (a space is "▁").
const PROMPT = Array.from({ length: promptBytes }, (_, i) => String.fromCharCode(0x61 + (i % 26))).join('')

interface Sample {
  genTokensPerS: number
  promptTokensPerS: number
}

interface CpuNs {
  /** The main thread (tid = pid): the JS event loop. */
  main: number
  /** Every other thread: the engine's compute (llama.cpp decodes on libuv pool threads), GC helpers. */
  others: number
}

/**
 * CPU time of a process's threads so far, ns (Linux /proc/<pid>/task/<tid>/schedstat), zeros without
 * /proc. On a shared machine wall-clock speed depends on what else runs; CPU time per generation does
 * not, so `cpuRatio` (raw CPU / harness CPU, parent and child together) shows the work the harness adds,
 * and `engineCpuRatio` (the engine process's non-main threads only) whether the engine's own compute got
 * slower under the harness.
 */
function cpuNs(pid: number | undefined): CpuNs {
  const cpu = { main: 0, others: 0 }
  if (pid === undefined) return cpu
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
        if (tid === String(pid)) cpu.main += ns
        else cpu.others += ns
      } catch {
        // The thread ended in between.
      }
    }
  } catch {
    return cpu
  }
  return cpu
}

const totalNs = (c: CpuNs) => c.main + c.others

interface Stat {
  mean: number
  sd: number
  n: number
}

function stat(values: readonly number[]): Stat {
  const n = values.length
  const mean = values.reduce((s, v) => s + v, 0) / n
  const sd = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0
  return { mean, sd, n }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = (sorted.length - 1) / 2
  return (sorted[Math.floor(mid)]! + sorted[Math.ceil(mid)]!) / 2
}

interface CpuSample {
  /** All threads of the processes involved, ms. */
  cpuMs: number
  /** The engine process's threads other than its main thread, ms. */
  engineCpuMs: number
}

/**
 * 95 % percentile-bootstrap interval of mean(harness) / mean(raw), resampling the ABBA pairs together
 * (each H_i with its R_i, so drift of the machine stays paired). Seeded: the same samples give the same
 * interval. 2 000 resamples.
 */
function ratioCi95(harness: readonly number[], raw: readonly number[]): [number, number] {
  const n = Math.min(harness.length, raw.length)
  const random = createRandom(0x5eed)
  const ratios: number[] = []
  for (let b = 0; b < 2000; b++) {
    let h = 0
    let r = 0
    for (let k = 0; k < n; k++) {
      const i = random.int(0, n - 1)
      h += harness[i]!
      r += raw[i]!
    }
    ratios.push(h / r)
  }
  ratios.sort((a, b) => a - b)
  return [ratios[Math.floor(0.025 * (ratios.length - 1))]!, ratios[Math.ceil(0.975 * (ratios.length - 1))]!]
}

interface RawModel {
  generate(): Promise<Sample & CpuSample>
  dispose(): Promise<void>
}

/** node-llama-cpp's own loop: sequence.evaluate() with greedy sampling, stamped in this process. */
async function loadRaw(llama: Llama, modelPath: string): Promise<RawModel> {
  const model = await llama.loadModel({ modelPath })
  const context = await model.createContext({ contextSize: CONTEXT_SIZE, threads: THREADS })
  const sequence = context.getSequence()
  return {
    async generate() {
      const cpu0 = cpuNs(process.pid)
      const t0 = performance.now()
      await sequence.clearHistory()
      const bos = model.tokens.bos
      const prompt: Token[] = [
        ...(model.tokens.shouldPrependBosToken && bos != null ? [bos] : []),
        ...model.tokenize(PROMPT),
      ]
      let generated = 0
      let t1 = 0
      let tLast = 0
      for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
        tLast = performance.now()
        if (generated === 0) t1 = tLast
        if (++generated === outputTokens) break
      }
      if (generated !== outputTokens)
        throw new Error(`raw loop generated ${generated} of ${outputTokens} tokens`)
      const cpu1 = cpuNs(process.pid)
      return {
        cpuMs: (totalNs(cpu1) - totalNs(cpu0)) / 1e6,
        engineCpuMs: (cpu1.others - cpu0.others) / 1e6,
        genTokensPerS: ((outputTokens - 1) / (tLast - t1)) * 1000,
        promptTokensPerS: (prompt.length / (t1 - t0)) * 1000,
      }
    },
    async dispose() {
      await context.dispose()
      await model.dispose()
    },
  }
}

interface HarnessRun {
  harness: Sample[]
  raw: (Sample & CpuSample)[]
  /** CPU of this process and the engine's child during each measured harness request. */
  harnessCpu: CpuSample[]
  errors: string[]
  metrics?: RunMetrics
  isolate?: IsolateStats
}

/**
 * One harness run of `warmup + pairs` sequential requests. With `raw`, raw generations run right after
 * harness requests end (inside the engine's generate(), after its done event: the runner has stamped
 * everything it measures by then), in ABBA order.
 */
async function harnessRun(
  name: string,
  modelPath: string,
  promptFile: string,
  raw: RawModel | undefined,
  isolate = true,
): Promise<HarnessRun> {
  const scenario = parseScenario({
    name: 'bench-native',
    prompts: { kind: 'jsonl', path: promptFile, outputTokens },
    targets: [
      {
        name,
        engine: { kind: 'llama-cpp', model: modelPath, threads: THREADS, contextSize: CONTEXT_SIZE, isolate },
      },
    ],
    loads: [{ kind: 'sequential', requests: pairs }],
    warmupRequests: warmup,
    requestTimeoutMs: 600_000,
    sampling: { temperature: 0 },
  })
  const run: HarnessRun = { harness: [], raw: [], harnessCpu: [], errors: [] }
  const result = await runScenario({
    scenario,
    baseDir: ROOT,
    sink: createNullSink(),
    monitorEventLoop: false,
    createEngine: async (target: TargetConfig) => {
      const created = await createEngine(target.engine)
      const engine = created.engine
      let calls = 0
      const paired: Engine = {
        ...engine,
        async *generate(request, signal): AsyncGenerator<StreamEvent> {
          const k = ++calls
          const child = (engine as Partial<IsolatedEngine>).isolate?.pid
          // One /proc reading per process and boundary: the first sits between the runner's tSend and the
          // engine call, so it counts in the harness's prompt time. In-process the engine's threads are ours.
          const snapshot = () => {
            const self = cpuNs(process.pid)
            const engineProcess = child === undefined ? self : cpuNs(child)
            const total = totalNs(self) + (child === undefined ? 0 : totalNs(engineProcess))
            return { total, engine: engineProcess.others }
          }
          const before = snapshot()
          yield* engine.generate(request, signal)
          if (k > warmup) {
            const after = snapshot()
            run.harnessCpu.push({
              cpuMs: (after.total - before.total) / 1e6,
              engineCpuMs: (after.engine - before.engine) / 1e6,
            })
          }
          if (!raw) return
          if (k <= warmup) await raw.generate()
          // Measured request m = k − warmup: after odd m run R_m and R_{m+1} (H1 R1 R2 H2 H3 R3 R4 H4).
          else if ((k - warmup) % 2 === 1) for (let i = 0; i < 2; i++) run.raw.push(await raw.generate())
        },
      }
      return {
        ...created,
        engine: paired,
        dispose: async () => {
          run.isolate = (engine as Partial<IsolatedEngine>).isolate?.stats()
          await created.dispose()
        },
      }
    },
    onEvent: (event) => {
      if (event.type === 'target-failed') run.errors.push(event.message)
      if (event.type !== 'request') return
      const o = event.outcome
      if (o.state === 'ok') run.harness.push(harnessSample(o))
      else run.errors.push(`${o.error.kind}: ${o.error.message}`)
    },
  })
  run.metrics = result.runs[0]?.metrics
  return run
}

function harnessSample(o: OkOutcome): Sample {
  return {
    genTokensPerS: ((o.outputTokens - 1) / (o.e2eMs - o.ttftMs)) * 1000,
    promptTokensPerS: ((o.promptTokens ?? Number.NaN) / o.ttftMs) * 1000,
  }
}

const manifests = await generateFixtures({ outDir: modelsDir, sizes: ['bench'] })
const wanted = args.variants?.split(',').map((s) => s.trim())
const variants = manifests.filter(
  (m) => m.format === 'gguf' && (wanted === undefined || wanted.includes(m.name)),
)
if (variants.length === 0) throw new Error(`no bench GGUF fixture matches ${args.variants ?? '(all)'}`)
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: LlamaLogLevel.error })
const dir = mkdtempSync(join(tmpdir(), 'bench-native-'))
const promptFile = join(dir, 'prompt.jsonl')
writeFileSync(promptFile, `${JSON.stringify({ prompt: PROMPT })}\n`)
const loadAverageBefore = loadavg()[0] ?? Number.NaN
const mb = (b: number | undefined) => (b === undefined ? '-' : (b / 2 ** 20).toFixed(1))

const results = []
try {
  for (const variant of variants) {
    const modelPath = join(modelsDir, variant.file)
    const raw = await loadRaw(llama, modelPath)
    let run: HarnessRun
    let inProcess: HarnessRun | undefined
    try {
      run = await harnessRun(variant.name, modelPath, promptFile, raw)
      if (args['in-process'])
        inProcess = await harnessRun(variant.name, modelPath, promptFile, undefined, false)
    } finally {
      await raw.dispose()
    }
    const errors = [...run.errors, ...(inProcess?.errors ?? [])]
    const hg = stat(run.harness.map((x) => x.genTokensPerS))
    const rg = stat(run.raw.map((x) => x.genTokensPerS))
    const hp = stat(run.harness.map((x) => x.promptTokensPerS))
    const rp = stat(run.raw.map((x) => x.promptTokensPerS))
    const ig = inProcess ? stat(inProcess.harness.map((x) => x.genTokensPerS)) : undefined
    const pairRatios = run.harness.map((h, i) => h.genTokensPerS / (run.raw[i]?.genTokensPerS ?? Number.NaN))
    const ci = ratioCi95(
      run.harness.map((x) => x.genTokensPerS),
      run.raw.map((x) => x.genTokensPerS),
    )
    const hc = stat(run.harnessCpu.map((x) => x.cpuMs))
    const rc = stat(run.raw.map((x) => x.cpuMs))
    const he = stat(run.harnessCpu.map((x) => x.engineCpuMs))
    const re = stat(run.raw.map((x) => x.engineCpuMs))
    const m = run.metrics
    const ipc = run.isolate
    results.push({
      name: variant.name,
      quantLabel: variant.quantLabel,
      harnessGenTokensPerS: hg.mean,
      rawGenTokensPerS: rg.mean,
      ratio: hg.mean / rg.mean,
      ratioMedianOfPairs: median(pairRatios),
      ratioCi95: ci,
      harnessGenTokensPerSSd: hg.sd,
      rawGenTokensPerSSd: rg.sd,
      harnessPromptTokensPerS: hp.mean,
      rawPromptTokensPerS: rp.mean,
      promptRatio: hp.mean / rp.mean,
      harnessPromptTokensPerSSd: hp.sd,
      rawPromptTokensPerSSd: rp.sd,
      ...(ig ? { inProcessGenTokensPerS: ig.mean, inProcessRatio: ig.mean / rg.mean } : {}),
      /** CPU per generation (prompt + output), both harness processes vs the raw loop's, ms. */
      harnessCpuMsPerRequest: hc.mean,
      rawCpuMsPerRequest: rc.mean,
      cpuRatio: rc.mean / hc.mean,
      /** The engine's compute threads only (not the event loops): raw / harness. */
      harnessEngineCpuMsPerRequest: he.mean,
      rawEngineCpuMsPerRequest: re.mean,
      engineCpuRatio: re.mean / he.mean,
      samples: { harness: hg.n, raw: rg.n, ...(ig ? { inProcess: ig.n } : {}) },
      errors,
      memory: {
        modelBytes: m?.modelBytes,
        loadMs: m?.loadMs,
        loadRssBytes: m?.loadRssBytes,
        loadPeakRssBytes: m?.loadPeakRssBytes,
        peakRssBytes: m?.peakRssBytes,
        peakRssSamplesN: m?.peakRssSamplesN,
      },
      ipc: ipc && {
        sendLatencyMsMean: ipc.sendLatency.meanMs,
        sendLatencyMsMax: ipc.sendLatency.maxMs,
        messageLatencyMsP50: ipc.messageLatency.p50Ms,
        messageLatencyMsMean: ipc.messageLatency.meanMs,
        tokenDeliveryMsP50: ipc.tokenLatency.p50Ms,
        tokenDeliveryMsMax: ipc.tokenLatency.maxMs,
        tokensPerMessage: ipc.tokenLatency.n / ipc.messageLatency.n,
        clockOffsetMs: ipc.clock?.offsetMs,
        clockRttMs: ipc.clock?.rttMs,
      },
    })
    log(
      `${variant.name.padEnd(20)} tg ${hg.mean.toFixed(1)} ± ${hg.sd.toFixed(1)} vs ${rg.mean.toFixed(1)} ± ${rg.sd.toFixed(1)} tok/s → ${(hg.mean / rg.mean).toFixed(3)} [95 % CI ${ci[0].toFixed(3)}–${ci[1].toFixed(3)}] (median of pairs ${median(pairRatios).toFixed(3)})` +
        (ig ? ` · in-process ${ig.mean.toFixed(1)} → ${(ig.mean / rg.mean).toFixed(3)}` : '') +
        ` · pp ${hp.mean.toFixed(0)} vs ${rp.mean.toFixed(0)} → ${(hp.mean / rp.mean).toFixed(3)}` +
        ` · CPU/request ${hc.mean.toFixed(0)} vs ${rc.mean.toFixed(0)} ms → ${(rc.mean / hc.mean).toFixed(3)}` +
        ` (engine threads ${he.mean.toFixed(0)} vs ${re.mean.toFixed(0)} → ${(re.mean / he.mean).toFixed(3)})` +
        ` · model ${mb(m?.modelBytes)} MiB, load ${m?.loadMs?.toFixed(0) ?? '-'} ms, RSS after load ${mb(m?.loadRssBytes)} / peak ${mb(m?.peakRssBytes)} MiB` +
        ` · IPC send ${ipc?.sendLatency.meanMs.toFixed(3) ?? '-'} ms, message p50 ${ipc?.messageLatency.p50Ms.toFixed(3) ?? '-'} ms` +
        (errors.length > 0 ? ` · ${errors.length} errors: ${errors[0]}` : ''),
    )
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
  await llama.dispose()
}

const settings = {
  pairs,
  warmup,
  outputTokens,
  promptTokens: promptBytes + 1,
  threads: THREADS,
  // The machine is shared: a 1-minute load average near or above the core count means noisy figures.
  loadAverage: {
    before: loadAverageBefore,
    after: loadavg()[0] ?? Number.NaN,
    cores: availableParallelism(),
  },
}
if (args.json) process.stdout.write(`${JSON.stringify({ settings, variants: results }, null, 2)}\n`)
else {
  const worst = Math.min(...results.map((r) => r.ratio))
  log(
    `\nworst decode ratio ${worst.toFixed(3)} (goal ≥ 0.97) · load average ${settings.loadAverage.before.toFixed(2)} → ${settings.loadAverage.after.toFixed(2)} on ${settings.loadAverage.cores} cores`,
  )
}
