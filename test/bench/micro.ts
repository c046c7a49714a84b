/**
 * The micro `forward-P` task next to llama.cpp's own prompt processing, `llama-bench -p P -n 0`:
 *
 *   npm run -s bench:micro -- [--json] [--pp 128,512] [--variants bench-f32,bench-q8_0,bench-q4_0]
 *                             [--time-ms 2000] [--iterations 10] [--repetitions 5] [--rounds 2] [--factor 2]
 *
 * harness = a scenario with one micro load (`{ kind: 'forward', promptTokens: P }`, tinybench, timeMs /
 * iterations as given) run by runScenario on the llama-cpp engine as scenarios run it (isolated child, 1
 * thread, batchSize = P so the pass is one batch, flash attention auto); its figure is tokensPerS = P ×
 * tinybench throughput.mean, the mean of per-iteration tokens/s. llama-bench = `llama-bench -m <file> -t 1
 * -p P -n 0 -r R -b P -ub P -fa auto -o json`, its avg_ts (the mean of per-repetition tokens/s, the same
 * definition), from the cache test/real-server/build-llama-cpp.sh fills (~/.cache/bench-tools, -march=native
 * build of the llama.cpp commit node-llama-cpp bundles), and, when test/bench/build-llama-bench-nlc.sh can
 * build it (~10 s, cached), the same llama-bench against node-llama-cpp's own libraries (`sameLibs`: the
 * same ggml CPU code as the engine). Rounds alternate the order (H L, L H, …) on this shared machine; each
 * side's figure is the mean over its rounds.
 *
 * Agreement: harness / llama-bench must lie within [1/factor, factor] — default 2.5 against the -march=native
 * build (node-llama-cpp's prebuilt ggml CPU code alone moved pp by up to 2× against it here, bench:native;
 * measured 2026-12-07: bench-f32 forward-128 0.47, the quantized ones 0.89–1.19) — and within
 * [1/sameLibsFactor, sameLibsFactor], default 1.5, against the same-libraries build (the same ggml code:
 * what is left is node-llama-cpp's and the harness's own cost; measured 0.79–1.41 at load average 14–23).
 * Each line says `ok` or `OUTSIDE`, and the script exits 1 when any pair is outside. Without a llama-bench
 * build it prints the harness side alone, says why, and exits 0. Fixtures missing from .bench/models are
 * generated first. Timings on a shared 2-vCPU box move with its load: the load average is printed with them.
 */
import { execFile } from 'node:child_process'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { parseScenario } from '../../harness/config/index.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { createNullSink } from '../../harness/jsonl-sink.ts'
import { runScenario } from '../../harness/runner.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    /** Comma-separated prompt sizes P. */
    pp: { type: 'string', default: '128,512' },
    /** Comma-separated fixture names (GGUF), from --models-dir. */
    variants: { type: 'string', default: 'bench-f32,bench-q8_0,bench-q4_0' },
    'models-dir': { type: 'string' },
    /** tinybench time per task, ms. */
    'time-ms': { type: 'string', default: '2000' },
    /** tinybench iterations per task, at least. */
    iterations: { type: 'string', default: '10' },
    /** llama-bench -r. */
    repetitions: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    /** Agreement bound: harness / llama-bench (-march=native build) within [1/factor, factor]. */
    factor: { type: 'string', default: '2.5' },
    /** Agreement bound against llama-bench on node-llama-cpp's own libraries (same ggml code). */
    'same-libs-factor': { type: 'string', default: '1.5' },
  },
})

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const modelsDir = resolve(args['models-dir'] ?? join(ROOT, '.bench/models'))
const sizes = args.pp.split(',').map(Number)
const variants = args.variants.split(',').filter(Boolean)
const TIME_MS = Number(args['time-ms'])
const ITERATIONS = Number(args.iterations)
const REPETITIONS = Number(args.repetitions)
const ROUNDS = Number(args.rounds)
const FACTOR = Number(args.factor)
const SAME_LIBS_FACTOR = Number(args['same-libs-factor'])
for (const [name, v] of [
  ['--time-ms', TIME_MS],
  ['--iterations', ITERATIONS],
  ['--repetitions', REPETITIONS],
  ['--rounds', ROUNDS],
  ['--factor', FACTOR],
] as const)
  if (!(v > 0 && Number.isFinite(v))) throw new Error(`${name} must be a positive number, got ${v}`)
if (!(FACTOR >= 1 && SAME_LIBS_FACTOR >= 1))
  throw new Error(`--factor and --same-libs-factor must be ≥ 1, got ${FACTOR}, ${SAME_LIBS_FACTOR}`)
if (sizes.some((p) => !(Number.isInteger(p) && p > 0)))
  throw new Error(`--pp must list positive integers, got ${args.pp}`)
const log = args.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`)
const execFileAsync = promisify(execFile)

/** tokens/s of forward-P through bench's runner (micro load, isolated llama-cpp engine). */
async function harnessSide(model: string, p: number): Promise<number> {
  const scenario = parseScenario({
    name: 'bench-micro',
    targets: [
      {
        name: 'h',
        engine: {
          kind: 'llama-cpp',
          model,
          threads: 1,
          batchSize: p,
          contextSize: p + 8,
          flashAttention: 'auto',
        },
      },
    ],
    loads: [
      {
        kind: 'micro',
        tasks: [{ kind: 'forward', promptTokens: p }],
        timeMs: TIME_MS,
        iterations: ITERATIONS,
        warmupTimeMs: 0,
        warmupIterations: 1,
        maxTimeMs: Math.max(60_000, 4 * TIME_MS),
      },
    ],
  })
  const result = await runScenario({ scenario, baseDir: ROOT, sink: createNullSink() })
  const run = result.runs[0]
  const task = run?.micro?.[0]
  if (run?.state !== 'completed' || !task)
    throw new Error(`micro forward-${p} on ${model}: ${run?.state ?? 'no run'} ${run?.error ?? ''}`)
  return task.opsPerS * task.unitsPerOp
}

/** llama-bench's avg_ts of `-p P -n 0` (tokens/s), same thread count, batch and flash attention. */
async function llamaBenchSide(binary: string, model: string, p: number): Promise<number> {
  const { stdout } = await execFileAsync(
    binary,
    ['-m', model, '-t', '1', '-p', String(p), '-n', '0', '-r', String(REPETITIONS)].concat([
      '-b',
      String(p),
      '-ub',
      String(p),
      '-fa',
      'auto',
      '-o',
      'json',
    ]),
    { maxBuffer: 16 * 2 ** 20 },
  )
  const records = JSON.parse(stdout) as { n_prompt: number; n_gen: number; avg_ts: number }[]
  const pp = records.find((r) => r.n_prompt === p && r.n_gen === 0)
  if (!pp) throw new Error(`llama-bench gave no pp${p} record: ${stdout.slice(0, 200)}`)
  return pp.avg_ts
}

/** llama-bench on node-llama-cpp's own libraries, or why there is none. */
async function sameLibsBinary(): Promise<{ path?: string; reason?: string }> {
  try {
    const { stdout } = await execFileAsync('bash', [join(ROOT, 'test/bench/build-llama-bench-nlc.sh')], {
      cwd: ROOT,
    })
    return { path: stdout.trim().split('\n').at(-1)! }
  } catch (err) {
    return { reason: `llama-bench on node-llama-cpp's libraries could not be built: ${String(err)}` }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const within = (ratio: number, factor: number) => ratio >= 1 / factor && ratio <= factor

await generateFixtures({ outDir: modelsDir, sizes: ['bench'] })
const tool = findLlamaCppTool(ROOT, 'llama-bench')
const sameLibs = tool.found ? await sameLibsBinary() : { reason: 'no llama-bench build' }
if (!tool.found) log(`llama-bench comparison skipped: ${tool.reason}`)
if (sameLibs.reason) log(`same-libraries comparison skipped: ${sameLibs.reason}`)
const loadBefore = loadavg()
const rows: {
  variant: string
  promptTokens: number
  harnessTokensPerS: number
  llamaBenchTokensPerS?: number
  ratio?: number
  sameLibsTokensPerS?: number
  sameLibsRatio?: number
  agrees?: boolean
  sameLibsAgrees?: boolean
}[] = []
for (const variant of variants) {
  const model = join(modelsDir, `${variant}.gguf`)
  for (const p of sizes) {
    const h: number[] = []
    const b: number[] = []
    const n: number[] = []
    const sides = [
      async () => h.push(await harnessSide(model, p)),
      ...(tool.found ? [async () => b.push(await llamaBenchSide(tool.path, model, p))] : []),
      ...(sameLibs.path ? [async () => n.push(await llamaBenchSide(sameLibs.path as string, model, p))] : []),
    ]
    for (let round = 0; round < ROUNDS; round++)
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await side()
    const row: (typeof rows)[number] = { variant, promptTokens: p, harnessTokensPerS: mean(h) }
    if (b.length > 0) {
      row.llamaBenchTokensPerS = mean(b)
      row.ratio = row.harnessTokensPerS / row.llamaBenchTokensPerS
      row.agrees = within(row.ratio, FACTOR)
    }
    if (n.length > 0) {
      row.sameLibsTokensPerS = mean(n)
      row.sameLibsRatio = row.harnessTokensPerS / row.sameLibsTokensPerS
      row.sameLibsAgrees = within(row.sameLibsRatio, SAME_LIBS_FACTOR)
    }
    rows.push(row)
    log(
      `${variant.padEnd(12)} forward-${String(p).padEnd(4)} harness ${row.harnessTokensPerS.toFixed(0).padStart(6)} tok/s` +
        (row.ratio !== undefined
          ? ` · llama-bench -p ${p} -n 0 ${row.llamaBenchTokensPerS?.toFixed(0).padStart(6)} tok/s → ${row.ratio.toFixed(3)} ${row.agrees ? 'ok' : 'OUTSIDE'} [1/${FACTOR}, ${FACTOR}]`
          : '') +
        (row.sameLibsRatio !== undefined
          ? ` · same libs ${row.sameLibsTokensPerS?.toFixed(0)} tok/s → ${row.sameLibsRatio.toFixed(3)} ${row.sameLibsAgrees ? 'ok' : 'OUTSIDE'} [1/${SAME_LIBS_FACTOR}, ${SAME_LIBS_FACTOR}]`
          : ''),
    )
  }
}
const loadAfter = loadavg()
const outside = rows.filter((r) => r.agrees === false || r.sameLibsAgrees === false)
const summary = {
  factor: FACTOR,
  sameLibsFactor: SAME_LIBS_FACTOR,
  settings: {
    threads: 1,
    batch: 'P',
    flashAttention: 'auto',
    timeMs: TIME_MS,
    iterations: ITERATIONS,
    repetitions: REPETITIONS,
    rounds: ROUNDS,
  },
  llamaBench: tool.found ? tool.path : null,
  skipped: tool.found ? undefined : tool.reason,
  sameLibs: sameLibs.path ?? null,
  loadAverage: { before: loadBefore, after: loadAfter },
  rows,
  agree: outside.length === 0,
}
if (args.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
else
  log(
    `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; ${outside.length === 0 ? 'every pair within its factor' : `${outside.length} pair(s) outside their factor`} (llama-bench ${FACTOR}, same libraries ${SAME_LIBS_FACTOR})`,
  )
process.exitCode = outside.length === 0 ? 0 : 1
