/**
 * The knowledge teacher knows something, measured as a user measures it: `bench run` (the real CLI in a
 * child process) on an accuracy scenario shaped like scenarios/mmlu-sample.ts — the knowledge set's 136
 * held-out test items, lm-eval's mmlu_continuation prompt after 5 dev shots, each choice's text scored by
 * log-likelihood — through both native engines: the teacher's GGUF in node-llama-cpp (spaces become
 * SentencePiece "▁") and its ONNX export in onnxruntime-node (byte tokenizer.json, spaces 0x20). Both score
 * above what chance reaches with 99 % probability, and within a few items of what our trainer's forward
 * pass recorded for the same prompts (teacher.json); the random-weights `tiny` model stays inside chance's
 * 99 % region. The models come from generateFixtures, i.e. from the committed weights, as `bench fixtures`
 * makes them. ~30 s on the 2-vCPU box (3 targets × 136 items × 4 choices).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { logFactorials } from '../../harness/accuracy/binomial.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { buildKnowledgeSet, writeKnowledgeSet } from '../../harness/fixtures/knowledge/knowledge-set.ts'
import { readTeacherRecord } from '../../harness/fixtures/teacher/load.ts'
import { runCli } from '../helpers/cli.ts'

/** Chance for 4 choices. */
const CHANCE = 0.25
/** Two-sided 99 %: each tail holds at most 0.5 %. */
const TAIL = 0.005
/** Items the engines may differ from our forward pass by (float32 kernels, near-ties of log-likelihoods). */
const ENGINE_SLACK = 3

/**
 * The 99 % acceptance region of Binomial(n, p): the smallest `low` with P(X < low) ≤ TAIL and the
 * largest `high` with P(X > high) ≤ TAIL.
 */
function binomialRegion(n: number, p: number): { low: number; high: number } {
  const lf = logFactorials(n)
  const pmf = Array.from({ length: n + 1 }, (_, k) =>
    Math.exp(lf[n]! - lf[k]! - lf[n - k]! + k * Math.log(p) + (n - k) * Math.log(1 - p)),
  )
  let low = 0
  for (let below = 0; below + pmf[low]! <= TAIL; low++) below += pmf[low]!
  let high = n
  for (let above = 0; above + pmf[high]! <= TAIL; high--) above += pmf[high]!
  return { low, high }
}

interface AccuracyRun {
  target: string
  state: string
  load: { prompt: string; scoring: string; items: number; shots: number }
  accuracy: { n: number; correct: number; errors: number; acc: number; accNorm?: number }
}

const set = buildKnowledgeSet(42)
const region = binomialRegion(set.splits.test.length, CHANCE)
const dir = mkdtempSync(join(tmpdir(), 'teacher-acc-'))
let runs: Map<string, AccuracyRun>

beforeAll(async () => {
  await generateFixtures({ outDir: dir, sizes: ['teacher', 'tiny'] })
  const dataset = join(dir, 'knowledge')
  writeKnowledgeSet(dataset, set)
  const llama = (name: string) => ({
    name,
    engine: { kind: 'llama-cpp', model: join(dir, `${name}.gguf`), threads: 1, contextSize: 2048 },
  })
  const scenario = join(dir, 'teacher-accuracy.json')
  writeFileSync(
    scenario,
    JSON.stringify({
      name: 'teacher-accuracy',
      seed: 42,
      measure: ['accuracy'],
      accuracy: { dataset, shots: 5, prompt: 'mmlu-continuation', scoring: 'loglik' },
      targets: [
        llama('teacher-f32'),
        {
          name: 'teacher-onnx-fp32',
          engine: {
            kind: 'onnx',
            model: join(dir, 'teacher-onnx-fp32.onnx'),
            tokenizer: join(dir, 'tokenizer.json'),
            intraOpNumThreads: 1,
          },
        },
        llama('tiny-random-f32'),
      ],
    }),
  )
  const result = await runCli(['run', scenario, '--no-db', '--format', 'json'], { timeoutMs: 170_000 })
  expect(result.code, result.stderr).toBe(0)
  const out = JSON.parse(result.stdout) as { runs: AccuracyRun[] }
  runs = new Map(out.runs.map((r) => [r.target, r]))
}, 180_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the knowledge teacher through bench run on both native engines', () => {
  it('chance stays in its 99 % region: the bound below excludes it', () => {
    // Hand check for n = 136, p = 0.25: mean 34, sd 5.05; 99 % ≈ 34 ± 2.58 · 5.05 ≈ 21…47.
    expect(set.splits.test.length, 'held-out test items').toBe(136)
    expect(region.low, 'low end').toBeGreaterThanOrEqual(20)
    expect(region.high, 'high end').toBeLessThanOrEqual(48)
  })

  it('scores every item of every target by log-likelihood of the choice texts', () => {
    for (const name of ['teacher-f32', 'teacher-onnx-fp32', 'tiny-random-f32']) {
      const run = runs.get(name)!
      expect(run.state, `${name} state`).toBe('completed')
      expect(run.load, `${name} load`).toMatchObject({
        prompt: 'mmlu-continuation',
        scoring: 'loglik',
        items: 136,
        shots: 5,
      })
      expect([run.accuracy.n, run.accuracy.errors], `${name} scored, errors`).toEqual([136, 0])
    }
  })

  it('teacher far above chance in both engines, as our forward pass recorded; random inside chance', () => {
    const record = readTeacherRecord()
    const llama = runs.get('teacher-f32')!.accuracy
    const onnx = runs.get('teacher-onnx-fp32')!.accuracy
    const random = runs.get('tiny-random-f32')!.accuracy
    console.log(
      `136 test items, chance 99 %: ${region.low}…${region.high}. teacher-f32 (llama-cpp, ▁): ${llama.correct} ` +
        `(trainer ${record.accuracy.test.spm.correct}); teacher-onnx-fp32 (onnx, 0x20): ${onnx.correct} ` +
        `(trainer ${record.accuracy.test.byte.correct}); tiny-random-f32: ${random.correct}`,
    )
    expect(llama.correct, 'llama-cpp teacher above chance').toBeGreaterThan(region.high)
    expect(onnx.correct, 'onnx teacher above chance').toBeGreaterThan(region.high)
    // The engines compute what our forward pass does (teacher-native-match.test.ts), up to near-ties.
    expect(
      Math.abs(llama.correct - record.accuracy.test.spm.correct),
      'llama-cpp vs trainer',
    ).toBeLessThanOrEqual(ENGINE_SLACK)
    expect(Math.abs(onnx.correct - record.accuracy.test.byte.correct), 'onnx vs trainer').toBeLessThanOrEqual(
      ENGINE_SLACK,
    )
    expect(random.correct, 'random above the low end').toBeGreaterThanOrEqual(region.low)
    expect(random.correct, 'random below the high end').toBeLessThanOrEqual(region.high)
  })
})
