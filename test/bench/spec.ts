/**
 * Speculative-decoding measurements on the fixture pairs (issue 20), not a test: tok/s and speedups depend on
 * the machine and its load, so they are printed with the load average beside them.
 *
 *   npm run -s bench:spec -- [--json] [--models DIR] [--max-tokens 64] [--ks 1,2,3,4,5,6,7,8]
 *     [--pairs teacher-q4,bench-tiny] [--no-predictor] [--sampled]
 *
 * Pairs (target ← draft; all share the 259-token byte vocabulary):
 * - teacher-f32 ← teacher-q4_0 (quantized draft), ← teacher-layerdrop-f32, ← teacher-f32 (identical: α = 1),
 *   ← student-distilled-f32 and ← student-untrained-f32 when the student fixtures exist;
 * - bench-f32 ← tiny-f32 (both continue the next byte: α ≈ 1; the draft is ~10× cheaper: where speculation pays);
 * - bench-random-f32 ← tiny-random-f32 (unrelated weights: α low).
 * Each pair is one runStudy (harness/speculative/study.ts): greedy (and with --sampled, also sampled at T = 1),
 * the native loop per K with exact counts, the logprob α, c, and node-llama-cpp's DraftSequenceTokenPredictor.
 * Fixtures missing from the models folder are generated first (bench size: ~576 MB, ~20 s).
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { formatStudy } from '../../harness/speculative/format.ts'
import { align } from '../../harness/speculative/model.ts'
import { parseStudy, runStudy, type SpecStudyResult } from '../../harness/speculative/study.ts'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    models: { type: 'string', default: fileURLToPath(new URL('../../.bench/models', import.meta.url)) },
    'max-tokens': { type: 'string', default: '64' },
    ks: { type: 'string', default: '1,2,3,4,5,6,7,8' },
    pairs: { type: 'string' },
    'no-predictor': { type: 'boolean', default: false },
    sampled: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
})

const PAIRS = [
  { id: 'teacher-q4', target: 'teacher-f32', draft: 'teacher-q4_0' },
  { id: 'teacher-layerdrop', target: 'teacher-f32', draft: 'teacher-layerdrop-f32' },
  { id: 'teacher-self', target: 'teacher-f32', draft: 'teacher-f32' },
  { id: 'teacher-student', target: 'teacher-f32', draft: 'student-distilled-f32', optional: true },
  { id: 'teacher-untrained', target: 'teacher-f32', draft: 'student-untrained-f32', optional: true },
  { id: 'bench-tiny', target: 'bench-f32', draft: 'tiny-f32' },
  { id: 'bench-random', target: 'bench-random-f32', draft: 'tiny-random-f32' },
]
/** Knowledge-set-like openings for the teacher; any text for the next-byte and random models. */
const PROMPTS = ['The capital of', 'Q: What is the', 'abc', 'The answer is']

const dir = values.models
const wanted = values.pairs?.split(',')
const pairs = PAIRS.filter((p) => !wanted || wanted.includes(p.id))
const sizes = new Set(
  pairs
    .flatMap((p) => [p.target, p.draft])
    .map((n) => (n.startsWith('student') ? 'teacher' : n.split('-')[0]!)),
)
const missing = pairs.some(
  (p) => !p.optional && ![p.target, p.draft].every((n) => existsSync(join(dir, `${n}.gguf`))),
)
if (missing) {
  process.stderr.write(`bench:spec: generating fixtures ${[...sizes].join(', ')} into ${dir}\n`)
  await generateFixtures({ outDir: dir, sizes: [...sizes] as ('tiny' | 'bench' | 'teacher')[] })
}

const uptime = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')
const results: SpecStudyResult[] = []
for (const pair of pairs) {
  const target = join(dir, `${pair.target}.gguf`)
  const draft = join(dir, `${pair.draft}.gguf`)
  if (!existsSync(target) || !existsSync(draft)) {
    process.stderr.write(`bench:spec: skipping ${pair.id}: ${pair.draft}.gguf not in ${dir}\n`)
    continue
  }
  for (const mode of values.sampled ? (['greedy', 'sampled'] as const) : (['greedy'] as const)) {
    const study = parseStudy({
      name: `${pair.id}-${mode}`,
      target,
      draft,
      prompts: PROMPTS,
      ks: values.ks.split(',').map(Number),
      mode,
      maxTokens: Number(values['max-tokens']),
      predictor: !values['no-predictor'],
    })
    process.stderr.write(`bench:spec: ${study.name} (load average ${uptime()})\n`)
    const result = await runStudy(study)
    results.push(result)
    if (values.verbose && !values.json) process.stdout.write(`${formatStudy(result)}\n\n`)
  }
}

if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
else {
  const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d))
  for (const r of results) {
    const e = r.environment
    process.stdout.write(
      `\n${r.study.name}: ${r.study.target.split('/').pop()} ← ${r.study.draft.split('/').pop()}, ${r.study.prompts.length} prompts × ${r.study.maxTokens} tokens\n` +
        `  load average before ${e.loadAverageBefore.map((x) => x.toFixed(2)).join(', ')}, after ${e.loadAverageAfter.map((x) => x.toFixed(2)).join(', ')}\n` +
        `  target ${f(r.baseline.target.tokensPerS, 0)} tok/s, draft ${f(r.baseline.draft.tokensPerS, 0)} tok/s → c = ${f(r.costRatio, 3)}; ` +
        `logprob α: Σmin ${f(r.logprob.alpha, 3)}, top-1 ${f(r.logprob.top1, 3)}; predicted best K ${r.optimal.k} (S ${f(r.optimal.speedup)})\n`,
    )
    const head = [
      'K',
      'accept',
      'τ',
      'α̂',
      'S measured',
      'S predicted',
      'error',
      'S pred(τ)',
      '= target',
      'nlc S',
      'nlc val/ref',
    ]
    const rows = r.perK.map((k) => [
      String(k.k),
      f(k.metrics.draftAcceptanceRate, 3),
      f(k.metrics.meanAcceptanceLength),
      f(k.metrics.alphaHat, 3),
      f(k.measuredSpeedup),
      f(k.predictedSpeedup),
      f(k.error),
      f(k.predictedFromTau),
      k.matchesTarget === undefined ? '-' : k.matchesTarget ? 'yes' : 'NO',
      f(k.nodeLlamaCpp?.speedup),
      k.nodeLlamaCpp ? `${k.nodeLlamaCpp.predictions.validated}/${k.nodeLlamaCpp.predictions.refuted}` : '-',
    ])
    process.stdout.write(
      `${align([head, ...rows])
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    )
  }
}
