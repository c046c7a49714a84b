/**
 * Quality and accuracy of the trained fixture variants against their F32 teacher (issue 16):
 *
 *   npm run -s bench:quality -- --json [--reference teacher-f32] [--size teacher] [--max-tokens 1024]
 *     [--context 256] [--limit-per-subject N] [--models DIR]
 *
 * prints {"reference", "corpus", "variants":[{"name","method","quant","kld":{"mean","se"},"top1":{"p","se"},
 * "acc":{"acc","stderr","n"}}], "order":{…}}: every GGUF variant of the reference's family (Q8_0, Q4_0,
 * layer-dropped, magnitude-pruned, …) and every distilled or untrained student beside it, each scored by
 * `bench run` itself (runScenario: measure accuracy and quality, reference measured first) on llama-cpp:
 * - KLD / top-1 (METRICS.md "Quality"): full next-token distributions over the knowledge corpus the
 *   teacher was trained on (`knowledge/corpus.txt`), llama-perplexity --kl-divergence windows;
 * - acc (METRICS.md "Accuracy"): the knowledge set's held-out test items, lm-eval mmlu_continuation, 5 dev
 *   shots, log-likelihood of each choice's text.
 * `order` states the expected orderings as measured booleans (Q8_0 < Q4_0 < pruned by KLD; a distilled
 * student far below its untrained twin), null where a variant is missing. Fixtures missing from the models
 * folder are generated first (no training: the teacher's weights are committed).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseScenario } from '../../harness/config/index.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import type { FixtureSize } from '../../harness/fixtures/llama-weights.ts'
import type { FixtureManifest } from '../../harness/fixtures/manifest.ts'
import { runScenario } from '../../harness/runner.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    reference: { type: 'string', default: 'teacher-f32' },
    size: { type: 'string', default: 'teacher' },
    models: { type: 'string', default: fileURLToPath(new URL('../../.bench/models', import.meta.url)) },
    'max-tokens': { type: 'string', default: '1024' },
    context: { type: 'string', default: '256' },
    'limit-per-subject': { type: 'string' },
  },
})

const modelsDir = resolve(values.models!)
const manifests: FixtureManifest[] = await generateFixtures({
  outDir: modelsDir,
  sizes: [values.size as FixtureSize],
})
const reference = manifests.find((m) => m.name === values.reference)
if (reference === undefined || reference.format !== 'gguf') {
  process.stderr.write(
    `bench:quality: no GGUF fixture named ${values.reference} among the ${values.size} fixtures (${manifests.map((m) => m.name).join(', ')}); pass --reference NAME\n`,
  )
  process.exit(1)
}
// The reference's family, plus students (distilled, and their untrained twins) made beside it.
const isStudent = (m: FixtureManifest) => m.method === 'distilled' || m.name.includes('student')
const variants = manifests.filter(
  (m) =>
    m.format === 'gguf' &&
    m.name !== reference.name &&
    (m.family === reference.family || isStudent(m)) &&
    !m.name.includes('random'),
)
const knowledge = join(modelsDir, 'knowledge')
const corpus = join(knowledge, 'corpus.txt')
if (!existsSync(corpus)) {
  process.stderr.write(
    `bench:quality: ${corpus} is missing: run \`npx bench fixtures --size ${values.size}\`\n`,
  )
  process.exit(1)
}

const scenario = parseScenario({
  name: 'bench-quality',
  seed: 42,
  measure: ['accuracy', 'quality'],
  accuracy: {
    dataset: knowledge,
    shots: 5,
    prompt: 'mmlu-continuation',
    scoring: 'loglik',
    ...(values['limit-per-subject'] !== undefined
      ? { limitPerSubject: Number(values['limit-per-subject']) }
      : {}),
  },
  quality: {
    corpus,
    reference: reference.name,
    maxTokens: Number(values['max-tokens']),
    contextTokens: Number(values.context),
  },
  targets: [reference, ...variants].map((m) => ({
    name: m.name,
    engine: { kind: 'llama-cpp' as const, model: join(modelsDir, m.file), threads: 1, contextSize: 2048 },
  })),
})
const started = performance.now()
const sink = createMemorySink()
const result = await runScenario({ scenario, baseDir: process.cwd(), sink })

interface Row {
  name: string
  method: string
  quant: string
  kld: { mean: number; se: number } | null
  top1: { p: number; se: number } | null
  acc: { acc: number; stderr: number | null; n: number } | null
  error?: string
}
const rows: Row[] = [reference, ...variants].map((m) => {
  const runs = result.runs.filter((r) => r.target === m.name)
  const q = runs.find((r) => r.quality)?.quality?.summary
  const a = runs.find((r) => r.accuracy)?.accuracy
  const errors = runs.flatMap((r) => (r.error ? [r.error] : []))
  return {
    name: m.name,
    method: m.method,
    quant: m.quantLabel,
    kld: q?.state === 'ok' ? { mean: q.klDivergence.mean, se: q.klDivergence.se } : null,
    top1: q?.state === 'ok' ? { p: q.top1Agreement.p, se: q.top1Agreement.se } : null,
    acc: a?.acc !== undefined ? { acc: a.acc, stderr: a.accStderr ?? null, n: a.n } : null,
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
  }
})

const kldOf = (pred: (r: Row) => boolean) => rows.find(pred)?.kld?.mean
const less = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? null : a < b
const q8 = kldOf((r) => r.quant === 'Q8_0')
const q4 = kldOf((r) => r.quant === 'Q4_0')
const pruned = kldOf((r) => r.method === 'pruned' && r.name.includes('magprune'))
const distilled = kldOf((r) => r.method === 'distilled')
const untrained = kldOf((r) => isStudentRow(r) && r.method !== 'distilled')
function isStudentRow(r: Row): boolean {
  return r.name.includes('student')
}
const report = {
  reference: reference.name,
  corpus: { file: corpus, bytes: readFileSync(corpus).length },
  settings: {
    maxTokens: Number(values['max-tokens']),
    contextTokens: Number(values.context),
    shots: 5,
    prompt: 'mmlu-continuation',
  },
  variants: rows,
  order: {
    q8BelowQ4: less(q8, q4),
    q4BelowPruned: less(q4, pruned),
    distilledFarBelowUntrained:
      distilled === undefined || untrained === undefined ? null : distilled * 10 < untrained,
  },
  state: result.state,
  seconds: Math.round((performance.now() - started) / 100) / 10,
}

if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`)
else {
  const f = (v: number | undefined, d = 4) => (v === undefined ? '-' : v.toPrecision(d))
  process.stdout.write(`reference ${report.reference}; KLD over ${report.settings.maxTokens} corpus tokens\n`)
  for (const r of rows)
    process.stdout.write(
      `${r.name.padEnd(28)} ${r.method.padEnd(10)} KLD ${f(r.kld?.mean)} ± ${f(r.kld?.se, 2)}  top-1 ${f(r.top1?.p, 3)}  acc ${f(r.acc?.acc, 3)} ± ${f(r.acc?.stderr ?? undefined, 2)}${r.error ? `  (${r.error})` : ''}\n`,
    )
  process.stdout.write(`order: ${JSON.stringify(report.order)} · ${report.seconds} s\n`)
}
process.exit(result.state === 'completed' ? 0 : 1)
