/**
 * Native speed benchmark, two parts.
 *
 * 1. (default) The llama-cpp engine next to llama.cpp's own llama-bench, same file, same llama.cpp commit,
 *    matched settings (1 thread, depth, flash attention, batch = ubatch = pp so pp is one batch):
 *
 *      npm run -s bench:native -- --json [--pp 512 --tg 128 --repetitions 5 --depth 0 --rounds 2 --fa auto|on|off --variants bench-f32,bench-q8_0,bench-q4_0]
 *
 *    prints {"variants":[{"name","settings","harnessTg","llamaBenchTg","tgRatio","harnessPp","llamaBenchPp","ppRatio"}], …}.
 *    harness = the engine's nativeSpeed() (llama-bench's pp / tg method, harness/engines/llama-cpp/README.md) through
 *    the isolated engine as scenarios run it; llama-bench = `llama-bench -m <file> -t 1 -p pp -n tg -r R
 *    -d depth -fa X -b pp -ub pp -o json` from the cache of test/real-server/build-llama-cpp.sh. Rounds
 *    alternate ABBA (H L, L H, …) on this shared machine; each side's figure is the mean over all its
 *    repetitions' tokens/s (llama-bench avg_ts pooled over rounds). `details` adds sd, samples, and the decode
 *    speed a request sees through generate() (`generateTg`: sampling, detokenization, our loop; stamped in
 *    the child), and `ggmlCpu` which ggml CPU code each side ran (node-llama-cpp picks a prebuilt
 *    libggml-cpu-<variant>.so at run time; llama-bench is built with -march=native). Because that choice
 *    alone moved pp and tg by up to 2× here, a third side runs in the same rotation: llama-bench compiled
 *    against node-llama-cpp's own libraries (test/bench/build-llama-bench-nlc.sh, ~10 s, cached), whose
 *    `*SameLibs` ratios in `details` are node-llama-cpp's own cost with the same ggml code on both sides.
 *
 * 2. `--overhead`: decode (tg) and prompt (pp) speed THROUGH THE HARNESS (runScenario → isolated child →
 *    node-llama-cpp, fixed output length, sequential requests) against node-llama-cpp's own generation loop
 *    in this process, under the key `overhead`. Goal: ratio ≥ 0.97.
 *
 *      npm run bench:native -- --overhead [--pairs 12 --warmup 2 --output-tokens 128 --prompt-tokens 256 --in-process]
 *
 * Overhead part, both sides: 1 thread, greedy, the same prompt (BOS + `promptTokens − 1` byte tokens), `outputTokens`
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
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { getLlama, type Llama, LlamaLogLevel, type Token } from 'node-llama-cpp'
import { parseScenario } from '../../harness/config/index.ts'
import type { TargetConfig } from '../../harness/config/schema.ts'
import type { Engine, NativeSpeedResult, StreamEvent } from '../../harness/engines/engine.ts'
import type { IsolatedEngine, IsolateStats } from '../../harness/engines/isolate/index.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { createNullSink } from '../../harness/jsonl-sink.ts'
import type { RunMetrics } from '../../harness/metrics/types.ts'
import { createRandom } from '../../harness/random.ts'
import type { OkOutcome } from '../../harness/results.ts'
import { runScenario } from '../../harness/runner.ts'
import { createTargetEngine as createEngine } from '../../harness/target-engine.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'

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
    /** Part 2: the harness against node-llama-cpp's own loop (key `overhead`). */
    overhead: { type: 'boolean', default: false },
    /** Part 1: skip the llama-bench comparison. */
    'no-llama-bench': { type: 'boolean', default: false },
    pp: { type: 'string', default: '512' },
    tg: { type: 'string', default: '128' },
    repetitions: { type: 'string', default: '5' },
    depth: { type: 'string', default: '0' },
    /** ABBA rounds of (harness, llama-bench) per variant. */
    rounds: { type: 'string', default: '2' },
    /** Flash attention on both sides: llama-bench `-fa`. */
    fa: { type: 'string', default: 'auto' },
    /** Pin the engine's process to these CPUs (engine option `cpus`), e.g. `--cpus 1`. */
    cpus: { type: 'string' },
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
const wanted = (args.variants ?? (args.overhead ? undefined : 'bench-f32,bench-q8_0,bench-q4_0'))
  ?.split(',')
  .map((s) => s.trim())
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

type Variant = (typeof variants)[number]

/** Part 2: one variant through the harness against node-llama-cpp's own loop. */
async function overheadFor(variant: Variant) {
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
  const out = {
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
  }
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
  return out
}

// ---- Part 1: the engine's nativeSpeed() next to llama-bench -------------------------------------------

const PP = Number(args.pp)
const TG = Number(args.tg)
const REPETITIONS = Number(args.repetitions)
const DEPTH = Number(args.depth)
const ROUNDS = Number(args.rounds)
if (!['auto', 'on', 'off'].includes(args.fa)) throw new Error(`--fa must be auto, on or off, got ${args.fa}`)
const FA = args.fa as 'auto' | 'on' | 'off'
const BATCH = Math.max(1, PP)
const execFileAsync = promisify(execFile)

/** The ggml CPU library a process mapped (node-llama-cpp loads one prebuilt variant at run time). */
function ggmlCpuOf(pid: number | undefined): string[] {
  if (pid === undefined) return []
  try {
    const libs = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .map((l) => /\/(libggml-cpu[^/\s]*\.so)/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined)
    return [...new Set(libs)]
  } catch {
    return []
  }
}

interface LlamaBenchRecord {
  n_prompt: number
  n_gen: number
  n_depth?: number
  n_threads: number
  n_batch: number
  n_ubatch: number
  flash_attn: number | boolean | string
  type_k: string
  avg_ts: number
  stddev_ts: number
  samples_ts?: number[]
  build_commit?: string
  cpu_info?: string
}

interface Side {
  pp: number[]
  tg: number[]
}

function pooled(samples: number[]): { mean: number; sd: number; n: number } {
  const s = stat(samples)
  return { mean: s.mean, sd: s.sd, n: s.n }
}

/**
 * llama-bench built against node-llama-cpp's own prebuilt libraries (test/bench/build-llama-bench-nlc.sh,
 * ~10 s, cached): the same ggml CPU code as the engine, so the engine's figures against it are
 * node-llama-cpp's own cost, with the prebuilt-vs-native-build difference taken out. Undefined with a
 * reason when it cannot be built.
 */
async function sameLibsLlamaBench(): Promise<{ path?: string; reason?: string }> {
  try {
    const { stdout } = await execFileAsync('bash', [join(ROOT, 'test/bench/build-llama-bench-nlc.sh')], {
      cwd: ROOT,
    })
    return { path: stdout.trim().split('\n').at(-1)! }
  } catch (err) {
    return { reason: `llama-bench on node-llama-cpp's libraries could not be built: ${String(err)}` }
  }
}

async function compareFor(variant: Variant, llamaBench: string, sameLibs: string | undefined) {
  const modelPath = join(modelsDir, variant.file)
  const created = await createEngine({
    kind: 'llama-cpp',
    model: modelPath,
    threads: THREADS,
    contextSize: DEPTH + Math.max(PP, TG) + 1,
    batchSize: BATCH,
    flashAttention: FA === 'auto' ? 'auto' : FA === 'on',
    ...(args.cpus !== undefined ? { cpus: args.cpus.split(',').map(Number) } : {}),
  })
  const engine = created.engine
  const harness: Side = { pp: [], tg: [] }
  const bench: Side = { pp: [], tg: [] }
  const benchSameLibs: Side = { pp: [], tg: [] }
  const generateTg: number[] = []
  let harnessSettings: Record<string, unknown> = {}
  let benchSettings: Record<string, unknown> = {}
  let ggmlCpu: string[] = []
  try {
    await engine.start()
    ggmlCpu = ggmlCpuOf((engine as Partial<IsolatedEngine>).isolate?.pid)
    const runHarness = async () => {
      const r: NativeSpeedResult = await engine.nativeSpeed!({
        pp: PP,
        tg: TG,
        repetitions: REPETITIONS,
        depth: DEPTH,
      })
      harness.pp.push(...(r.pp?.samplesTs ?? []))
      harness.tg.push(...(r.tg?.samplesTs ?? []))
      harnessSettings = r.settings
      // What a request sees: TG tokens after the first through generate() (sampling, detokenization, our
      // loop), stamped in the child where each token appeared, after a prompt of DEPTH tokens (BOS + one
      // byte token per character in the fixtures' byte vocabulary; only BOS at depth 0).
      const stamps: number[] = []
      for await (const e of engine.generate(
        {
          prompt: PROMPT.slice(0, Math.max(0, DEPTH - 1)).padEnd(Math.max(0, DEPTH - 1), 'a'),
          maxTokens: TG + 1,
          minTokens: TG + 1,
          ignoreEos: true,
          sampling: { temperature: 0 },
        },
        new AbortController().signal,
      ))
        if (e.type === 'token' && e.atMs !== undefined) stamps.push(e.atMs)
      generateTg.push(((stamps.length - 1) / (stamps.at(-1)! - stamps[0]!)) * 1000)
    }
    const runBench = async (binary = llamaBench, into = bench) => {
      const { stdout } = await execFileAsync(
        binary,
        [
          ['-m', modelPath],
          ['-t', String(THREADS)],
          ['-p', String(PP)],
          ['-n', String(TG)],
          ['-r', String(REPETITIONS)],
          ['-d', String(DEPTH)],
          ['-fa', FA],
          ['-b', String(BATCH)],
          ['-ub', String(BATCH)],
          ['-o', 'json'],
        ].flat(),
        { maxBuffer: 16 * 2 ** 20 },
      )
      const records = JSON.parse(stdout) as LlamaBenchRecord[]
      for (const r of records) {
        const samples = r.samples_ts ?? [r.avg_ts]
        if (r.n_gen === 0) into.pp.push(...samples)
        else if (r.n_prompt === 0) into.tg.push(...samples)
      }
      const first = records[0]
      if (first && into === bench)
        benchSettings = {
          n_threads: first.n_threads,
          n_batch: first.n_batch,
          n_ubatch: first.n_ubatch,
          n_depth: first.n_depth ?? 0,
          flash_attn: first.flash_attn,
          type_k: first.type_k,
          build_commit: first.build_commit,
        }
    }
    const sides = [
      runHarness,
      () => runBench(),
      ...(sameLibs ? [() => runBench(sameLibs, benchSameLibs)] : []),
    ]
    for (let round = 0; round < ROUNDS; round++) {
      // ABBA: H L (N), (N) L H, H L (N) …
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await side()
      log(`  ${variant.name} round ${round + 1}/${ROUNDS} done`)
    }
  } finally {
    await created.dispose()
  }
  const hTg = pooled(harness.tg)
  const bTg = pooled(bench.tg)
  const hPp = pooled(harness.pp)
  const bPp = pooled(bench.pp)
  const gTg = pooled(generateTg)
  const nTg = pooled(benchSameLibs.tg)
  const nPp = pooled(benchSameLibs.pp)
  const settings = {
    file: variant.file,
    threads: THREADS,
    depth: DEPTH,
    flashAttention: FA,
    batchSize: BATCH,
    ubatchSize: BATCH,
    pp: PP,
    tg: TG,
    repetitions: REPETITIONS,
    rounds: ROUNDS,
    ...(args.cpus !== undefined ? { cpus: args.cpus } : {}),
  }
  const row = {
    name: variant.name,
    settings,
    harnessTg: hTg.mean,
    llamaBenchTg: bTg.mean,
    tgRatio: hTg.mean / bTg.mean,
    harnessPp: hPp.mean,
    llamaBenchPp: bPp.mean,
    ppRatio: hPp.mean / bPp.mean,
  }
  const detail = {
    name: variant.name,
    harnessTgSd: hTg.sd,
    llamaBenchTgSd: bTg.sd,
    harnessPpSd: hPp.sd,
    llamaBenchPpSd: bPp.sd,
    /** llama-bench on node-llama-cpp's own libraries (same ggml CPU code as the engine), tokens/s. */
    ...(sameLibs
      ? {
          llamaBenchSameLibsTg: nTg.mean,
          llamaBenchSameLibsTgSd: nTg.sd,
          tgRatioSameLibs: hTg.mean / nTg.mean,
          generateTgRatioSameLibs: gTg.mean / nTg.mean,
          llamaBenchSameLibsPp: nPp.mean,
          llamaBenchSameLibsPpSd: nPp.sd,
          ppRatioSameLibs: hPp.mean / nPp.mean,
        }
      : {}),
    samples: {
      harnessTg: harness.tg,
      llamaBenchTg: bench.tg,
      harnessPp: harness.pp,
      llamaBenchPp: bench.pp,
      ...(sameLibs ? { llamaBenchSameLibsTg: benchSameLibs.tg, llamaBenchSameLibsPp: benchSameLibs.pp } : {}),
    },
    /** Decode speed of generate() (sampling, detokenization, our loop), tokens/s, one request per round. */
    generateTg: gTg.mean,
    generateTgSd: gTg.sd,
    generateTgRatio: gTg.mean / bTg.mean,
    harnessSettings,
    llamaBenchSettings: benchSettings,
    ggmlCpu: {
      harness: ggmlCpu,
      llamaBench: 'static ggml-cpu built with -march=native (GGML_NATIVE, AMX off)',
      ...(sameLibs
        ? { llamaBenchSameLibs: "node-llama-cpp's prebuilt libggml-cpu-*.so, picked at run time" }
        : {}),
    },
  }
  log(
    `${variant.name.padEnd(12)} tg ${hTg.mean.toFixed(1)} ± ${hTg.sd.toFixed(1)} vs llama-bench ${bTg.mean.toFixed(1)} ± ${bTg.sd.toFixed(1)} → ${row.tgRatio.toFixed(3)}` +
      ` · pp ${hPp.mean.toFixed(0)} ± ${hPp.sd.toFixed(0)} vs ${bPp.mean.toFixed(0)} ± ${bPp.sd.toFixed(0)} → ${row.ppRatio.toFixed(3)}` +
      ` · generate() tg ${gTg.mean.toFixed(1)} → ${detail.generateTgRatio.toFixed(3)} · ggml ${ggmlCpu.join(',') || '?'}` +
      (sameLibs
        ? ` · llama-bench on node-llama-cpp's libraries: tg ${nTg.mean.toFixed(1)} (→ ${(hTg.mean / nTg.mean).toFixed(3)}, generate() → ${(gTg.mean / nTg.mean).toFixed(3)}), pp ${nPp.mean.toFixed(0)} (→ ${(hPp.mean / nPp.mean).toFixed(3)})`
        : ''),
  )
  return { row, detail }
}

const rows = []
const details = []
const overhead = []
let llamaBenchSkip: string | undefined
try {
  if (!args['no-llama-bench']) {
    const tool = findLlamaCppTool(ROOT, 'llama-bench')
    const sameLibs: { path?: string; reason?: string } = tool.found ? await sameLibsLlamaBench() : {}
    if (sameLibs.reason) log(sameLibs.reason)
    if (!tool.found) llamaBenchSkip = tool.reason
    else
      for (const variant of variants) {
        const { row, detail } = await compareFor(variant, tool.path, sameLibs.path)
        rows.push(row)
        details.push(detail)
      }
    if (llamaBenchSkip) log(`llama-bench comparison skipped: ${llamaBenchSkip}`)
  }
  if (args.overhead) for (const variant of variants) overhead.push(await overheadFor(variant))
} finally {
  rmSync(dir, { recursive: true, force: true })
  await llama.dispose()
}

const loadAverage = {
  before: loadAverageBefore,
  after: loadavg()[0] ?? Number.NaN,
  cores: availableParallelism(),
}
const overheadSettings = {
  pairs,
  warmup,
  outputTokens,
  promptTokens: promptBytes + 1,
  threads: THREADS,
}
if (args.json)
  process.stdout.write(
    `${JSON.stringify(
      {
        variants: rows,
        ...(llamaBenchSkip ? { skipped: llamaBenchSkip } : {}),
        details,
        // The machine is shared: a 1-minute load average near or above the core count means noisy figures.
        loadAverage,
        ...(args.overhead ? { overhead: { settings: overheadSettings, variants: overhead } } : {}),
      },
      null,
      2,
    )}\n`,
  )
else {
  if (rows.length > 0)
    log(`\nworst tgRatio ${Math.min(...rows.map((r) => r.tgRatio)).toFixed(3)} (goal ≥ 0.9)`)
  if (overhead.length > 0)
    log(`worst overhead decode ratio ${Math.min(...overhead.map((r) => r.ratio)).toFixed(3)} (goal ≥ 0.97)`)
  log(
    `load average ${loadAverage.before.toFixed(2)} → ${loadAverage.after.toFixed(2)} on ${loadAverage.cores} cores`,
  )
}
