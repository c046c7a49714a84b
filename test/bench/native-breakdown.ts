/**
 * Where a generated token's time goes in the llama-cpp engine, layer by layer, in ONE process (the engine's
 * own, as its isolated child runs it: UV_THREADPOOL_SIZE=1 unless set), on the bench GGUF fixtures, 1 thread,
 * from an empty context (llama-bench's tg):
 *
 *   npm run -s bench:native-breakdown [-- --json --tokens 128 --rounds 6 --variants bench-q4_0]
 *
 * Each round runs every layer once, in rotating order (drift of the shared machine hits all alike); per
 * layer the median over rounds of wall ms per token, and the CPU per token of the process's main thread
 * (JavaScript: node-llama-cpp's batching and our loop) and of its other threads (llama.cpp's compute on the
 * libuv pool thread), from /proc/<pid>/task/<tid>/schedstat. Layers, each adding to the one before:
 *
 * - `decodeOnly`: sequence.evaluate([token], { _noSampling }) per token: what nativeSpeed() times (tg):
 *   node-llama-cpp's decode path with llama-bench's work (one llama_decode of one token, logits on, no sampling).
 * - `decodeBatchOnly`: the same decodes through node-llama-cpp's context batching only
 *   (sequence._decodeTokens, internal): without evaluate()'s per-call generator, locks and sampler object.
 * - `nlcGenerate`: node-llama-cpp's own generation loop, sequence.evaluate(prompt, { temperature: 0 })
 *   iterated: decode + sampling (greedy, a second native async call per token) + the generator.
 * - `engineGenerate`: our engine's generate() in this process (tokenBias for ignoreEos, detokenization,
 *   stop-string / UTF-8 handling, one token event each), timed first token → last token like the runner.
 * - `ppDecodeBatch`: `pp` prompt tokens in one node-llama-cpp evaluation (nativeSpeed's pp), per token.
 * - `llamaBenchTg` / `llamaBenchPp`: llama.cpp's llama-bench (`-t 1 -p pp -n tokens -r 1`, same -fa, -b/-ub =
 *   pp), one run per round in the rotation, wall time only (its own process); `llamaBenchSameLibs*`: the
 *   same llama-bench compiled against node-llama-cpp's own libraries (build-llama-bench-nlc.sh), i.e. a bare
 *   llama_decode loop on exactly the ggml CPU code the engine runs.
 *
 * The compute thread's CPU per token in `decodeBatchOnly` is llama_decode's own work in the prebuilt ggml
 * CPU variant node-llama-cpp loaded (`ggmlCpu`); `ppDecodeBatch`'s main thread shows that a whole-prompt
 * evaluation costs node-llama-cpp's JavaScript next to nothing, so pp against llama-bench compares compute.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import {
  getLlama,
  type LlamaContextSequence,
  LlamaLogLevel,
  type SequenceEvaluateOptions,
  type Token,
} from 'node-llama-cpp'
import { createLlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    tokens: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '6' },
    variants: { type: 'string', default: 'bench-f32,bench-q8_0,bench-q4_0' },
    'flash-attention': { type: 'string', default: 'auto' },
    /** Prompt tokens of the pp layer (one evaluation) and of llama-bench's `-p`. */
    pp: { type: 'string', default: '512' },
  },
})
const TOKENS = Number(args.tokens)
const PP = Number(args.pp)
const ROUNDS = Number(args.rounds)
const flashAttention =
  args['flash-attention'] === 'auto' ? ('auto' as const) : args['flash-attention'] === 'true'
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const log = args.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`)

interface Cpu {
  main: number
  others: number
}
function cpuNs(): Cpu {
  const cpu = { main: 0, others: 0 }
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      if (tid === String(process.pid)) cpu.main += ns
      else cpu.others += ns
    } catch {}
  }
  return cpu
}

interface Sample {
  wallMs: number
  mainCpuMs: number
  otherCpuMs: number
}
/** One pass of a layer: its wall time and the tokens it evaluated or generated. */
type Layer = (sequence: LlamaContextSequence) => Promise<{ wallMs: number; tokens?: number }>

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = (s.length - 1) / 2
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2
}

const manifests = await generateFixtures({ outDir: join(ROOT, '.bench/models'), sizes: ['bench'] })
const wanted = args.variants.split(',')
const llama = await getLlama({
  gpu: false,
  build: 'never',
  maxThreads: 0,
  logLevel: LlamaLogLevel.error,
})
const noSampling = { _noSampling: true } as SequenceEvaluateOptions
const llamaBenchTool = findLlamaCppTool(ROOT, 'llama-bench')

/** llama-bench at the same settings, right after the layers (ms per token of its tg and pp means). */
/** llama-bench compiled against node-llama-cpp's own libraries (same ggml CPU code), when it builds. */
const sameLibsTool = await promisify(execFile)('bash', [join(ROOT, 'test/bench/build-llama-bench-nlc.sh')])
  .then(({ stdout }) => stdout.trim().split('\n').at(-1))
  .catch(() => undefined)

async function llamaBench(
  modelPath: string,
  binary = llamaBenchTool.found ? llamaBenchTool.path : undefined,
) {
  if (binary === undefined) return undefined
  const fa = flashAttention === 'auto' ? 'auto' : flashAttention ? 'on' : 'off'
  const { stdout } = await promisify(execFile)(binary, [
    ...['-m', modelPath, '-t', '1', '-p', String(PP), '-n', String(TOKENS), '-r', '1'],
    ...['-fa', fa, '-b', String(PP), '-ub', String(PP), '-o', 'json'],
  ])
  const records = JSON.parse(stdout) as { n_prompt: number; n_gen: number; avg_ts: number }[]
  const ts = (pp: boolean) =>
    records.find((r) => (pp ? r.n_gen === 0 : r.n_prompt === 0))?.avg_ts ?? Number.NaN
  return { tgMsPerToken: 1000 / ts(false), ppMsPerToken: 1000 / ts(true) }
}
const results = []
for (const name of wanted) {
  const m = manifests.find((x) => x.name === name)
  if (!m) throw new Error(`no fixture ${name}`)
  const modelPath = join(ROOT, '.bench/models', m.file)
  const model = await llama.loadModel({ modelPath })
  const context = await model.createContext({
    contextSize: Math.max(1024, PP + 1),
    batchSize: PP,
    threads: 1,
    flashAttention,
  })
  const sequence = context.getSequence()
  const bos = model.tokens.bos as Token
  let seed = 1
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return (seed % 259) as Token
  }
  const decodeOnly: Layer = async (seq) => {
    await seq.clearHistory()
    const t0 = performance.now()
    let token = bos
    for (let i = 0; i < TOKENS; i++) {
      for await (const _ of seq.evaluate([token], noSampling)) {
      }
      token = rand()
    }
    return { wallMs: performance.now() - t0 }
  }
  const internal = (seq: LlamaContextSequence) =>
    seq as unknown as {
      _decodeTokens(
        tokens: Token[],
        logits: boolean[],
        priority: number,
        meter: unknown,
        shift: unknown,
        mapper: () => null,
      ): Promise<unknown>
      _tokenMeter: unknown
      _contextShift: unknown
    }
  const decodeBatchOnly: Layer = async (seq) => {
    await seq.clearHistory()
    const s = internal(seq)
    const t0 = performance.now()
    let token = bos
    for (let i = 0; i < TOKENS; i++) {
      await s._decodeTokens([token], [true], 5, s._tokenMeter, s._contextShift, () => null)
      token = rand()
    }
    return { wallMs: performance.now() - t0 }
  }
  const nlcGenerate: Layer = async (seq) => {
    await seq.clearHistory()
    const t0 = performance.now()
    let n = 0
    for await (const _ of seq.evaluate([bos], { temperature: 0 })) if (++n === TOKENS) break
    return { wallMs: performance.now() - t0 }
  }
  const ppLayer: Layer = async (seq) => {
    await seq.clearHistory()
    const s = internal(seq)
    const tokens = [bos, ...Array.from({ length: PP - 1 }, rand)]
    const logits: boolean[] = []
    logits[PP - 1] = true
    const t0 = performance.now()
    await s._decodeTokens(tokens, logits, 5, s._tokenMeter, s._contextShift, () => null)
    return { wallMs: performance.now() - t0, tokens: PP }
  }
  const layers: [string, Layer][] = [
    ['decodeOnly', decodeOnly],
    ['decodeBatchOnly', decodeBatchOnly],
    ['nlcGenerate', nlcGenerate],
    ['ppDecodeBatch', ppLayer],
  ]
  const samples = new Map<string, Sample[]>()
  const run = async (layer: string, fn: () => Promise<{ wallMs: number; tokens?: number }>) => {
    const c0 = cpuNs()
    const { wallMs, tokens = TOKENS } = await fn()
    const c1 = cpuNs()
    const list = samples.get(layer) ?? []
    list.push({
      wallMs: wallMs / tokens,
      mainCpuMs: (c1.main - c0.main) / 1e6 / tokens,
      otherCpuMs: (c1.others - c0.others) / 1e6 / tokens,
    })
    samples.set(layer, list)
  }
  for (const [, fn] of layers) await fn(sequence) // warmup
  await context.dispose()
  // Our engine in this process; the raw layers run on their own context, disposed above.
  const engine = createLlamaCppEngine({ modelPath, threads: 1, contextSize: 1024, flashAttention })
  await engine.start()
  const engineGenerate = async () => {
    let first = 0
    let last = 0
    let n = 0
    for await (const e of engine.generate(
      {
        prompt: '',
        maxTokens: TOKENS + 1,
        minTokens: TOKENS + 1,
        ignoreEos: true,
        sampling: { temperature: 0 },
      },
      new AbortController().signal,
    )) {
      if (e.type !== 'token') continue
      last = performance.now()
      if (n === 0) first = last
      n += e.tokens
    }
    // TOKENS gaps after the first token, as the runner's decode time counts them.
    return { wallMs: ((last - first) / (n - 1)) * TOKENS }
  }
  await engineGenerate()
  const context2 = await model.createContext({
    contextSize: Math.max(1024, PP + 1),
    batchSize: PP,
    threads: 1,
    flashAttention,
  })
  const sequence2 = context2.getSequence()
  // llama-bench (its own process, one repetition of tg and pp per round): wall time only.
  const llamaBenchRound = async (binary: string | undefined, prefix: string) => {
    const b = await llamaBench(modelPath, binary)
    if (!b) return
    for (const [layer, ms] of [
      [`${prefix}Tg`, b.tgMsPerToken],
      [`${prefix}Pp`, b.ppMsPerToken],
    ] as const) {
      const list = samples.get(layer) ?? []
      list.push({ wallMs: ms, mainCpuMs: Number.NaN, otherCpuMs: Number.NaN })
      samples.set(layer, list)
    }
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order: [string, () => Promise<unknown>][] = [
      ...layers.map(([n, fn]) => [n, () => run(n, () => fn(sequence2))] as [string, () => Promise<unknown>]),
      ['engineGenerate', () => run('engineGenerate', engineGenerate)],
      [
        'llamaBench',
        () => llamaBenchRound(llamaBenchTool.found ? llamaBenchTool.path : undefined, 'llamaBench'),
      ],
      ['llamaBenchSameLibs', () => llamaBenchRound(sameLibsTool, 'llamaBenchSameLibs')],
    ]
    for (let k = 0; k < order.length; k++) await order[(k + r) % order.length]![1]()
  }
  await engine[Symbol.asyncDispose]()
  await context2.dispose()
  await model.dispose()
  const summary = Object.fromEntries(
    [...samples].map(([layer, list]) => [
      layer,
      {
        msPerToken: median(list.map((s) => s.wallMs)),
        tokensPerS: 1000 / median(list.map((s) => s.wallMs)),
        mainThreadCpuMsPerToken: median(list.map((s) => s.mainCpuMs)),
        computeThreadsCpuMsPerToken: median(list.map((s) => s.otherCpuMs)),
      },
    ]),
  )
  const libs = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((l) => /\/(libggml-cpu[^/\s]*\.so)/.exec(l)?.[1])
    .filter((x) => x !== undefined)
  results.push({
    name,
    layers: summary,
    ggmlCpu: [...new Set(libs)],
  })
  log(`${name} (${[...new Set(libs)].join(', ')})`)
  for (const [layer, s] of Object.entries(summary))
    log(
      `  ${layer.padEnd(16)} ${s.msPerToken.toFixed(3)} ms/token (${s.tokensPerS.toFixed(0)} tok/s) · main thread ${s.mainThreadCpuMsPerToken.toFixed(3)} ms CPU · compute ${s.computeThreadsCpuMsPerToken.toFixed(3)} ms CPU`,
    )
}
await llama.dispose()
if (args.json)
  process.stdout.write(
    `${JSON.stringify({ settings: { tokens: TOKENS, rounds: ROUNDS, threads: 1, flashAttention, uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' }, variants: results }, null, 2)}\n`,
  )
