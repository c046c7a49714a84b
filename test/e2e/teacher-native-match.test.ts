/**
 * The trainer's forward pass (harness/fixtures/train/llama-model.ts) against the native engines on the
 * same weights: exported as GGUF F32 and loaded in node-llama-cpp, and as ONNX fp32 in onnxruntime-node,
 * both must give the next-token distribution of every prompt position that the trainer computes, to
 * ~1e-3. This is where a RoPE convention, a norm or a transposed matrix that differs between the trainer
 * and llama.cpp would show. Prompts are knowledge-set MMLU prompts with 0 and 5 shots (up to ~700
 * tokens, so RoPE is checked far out), spaces as 0x20 and as "▁".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VOCAB_SIZE } from '../../harness/fixtures/byte-vocab.ts'
import { buildKnowledgeSet } from '../../harness/fixtures/knowledge/knowledge-set.ts'
import { llamaToGguf } from '../../harness/fixtures/llama-gguf.ts'
import type { LlamaShape, LlamaWeights } from '../../harness/fixtures/llama-weights.ts'
import { llamaToOnnx } from '../../harness/fixtures/onnx-model.ts'
import { promptTokens } from '../../harness/fixtures/train/evaluate.ts'
import { initialWeights } from '../../harness/fixtures/train/init.ts'
import { forward } from '../../harness/fixtures/train/llama-model.ts'
import { createRandom } from '../../harness/random.ts'
import { llamaCppProbs, maxAbsDiff, onnxProbs, softmaxRows } from '../helpers/native-probs.ts'

const SHAPE: LlamaShape = {
  embeddingLength: 64,
  blockCount: 2,
  feedForwardLength: 128,
  headCount: 4,
  contextLength: 1024,
  vocabSize: VOCAB_SIZE,
  rmsNormEps: 1e-5,
  ropeFreqBase: 10000,
}
/** Largest |Δ probability| allowed at any position and token. */
const TOLERANCE = 1e-3

const dir = mkdtempSync(join(tmpdir(), 'teacher-native-'))
let llama: Llama
let weights: LlamaWeights
let prompts: number[][]

beforeAll(async () => {
  weights = initialWeights(SHAPE, 11)
  // Norm weights away from 1 and a sharper head, so a norm or head-scale mismatch cannot hide.
  const rng = createRandom(5)
  for (const t of weights.tensors) {
    if (t.dims.length === 1) for (let i = 0; i < t.values.length; i++) t.values[i] = 0.5 + rng.next()
    if (t.name === 'output.weight') for (let i = 0; i < t.values.length; i++) t.values[i] = t.values[i]! * 4
  }
  const set = buildKnowledgeSet(42)
  const shotsOf = (subject: string, k: number) =>
    set.splits.dev.filter((d) => d.subject === subject).slice(0, k)
  const items = [set.splits.test[0]!, set.splits.test[50]!, set.splits.test[100]!]
  prompts = [
    promptTokens(items[0]!, [], 'byte'),
    promptTokens(items[1]!, [], 'spm'),
    promptTokens(items[2]!, shotsOf(items[2]!.subject, 5), 'spm'),
    promptTokens(items[0]!, shotsOf(items[0]!.subject, 5), 'byte'),
  ]
  writeFileSync(join(dir, 'm.gguf'), llamaToGguf(weights, { name: 'match', type: 'F32' }).bytes)
  writeFileSync(join(dir, 'm.onnx'), llamaToOnnx(weights, { name: 'match', weightFormat: 'fp32' }).bytes)
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
}, 120_000)

afterAll(async () => {
  await llama?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

/** Softmax of every position's logits, [positions][vocab]. */
function trainerProbs(tokens: number[]): Float64Array[] {
  const { logits } = forward(weights, Int32Array.from(tokens), 1, tokens.length)
  return softmaxRows(logits, tokens.length)
}

describe('trainer forward pass vs native engines', () => {
  it('node-llama-cpp gives the same next-token distributions from the GGUF export', async () => {
    const model = await llama.loadModel({ modelPath: join(dir, 'm.gguf') })
    try {
      const context = await model.createContext({ threads: 1, contextSize: 1024 })
      const sequence = context.getSequence()
      const worst: number[] = []
      for (const tokens of prompts) {
        const native = await llamaCppProbs(sequence, tokens)
        const ours = trainerProbs(tokens)
        // Not vacuous: the distributions are far from uniform.
        expect(Math.max(...ours.map((p) => Math.max(...p)))).toBeGreaterThan(0.05)
        worst.push(maxAbsDiff(ours, native))
      }
      console.log(
        `node-llama-cpp vs trainer, max |Δp| per prompt (${prompts.map((p) => p.length)} tokens):`,
        worst,
      )
      for (const w of worst) expect(w).toBeLessThan(TOLERANCE)
      await context.dispose()
    } finally {
      await model.dispose()
    }
  }, 120_000)

  it('onnxruntime-node gives the same next-token distributions from the ONNX export', async () => {
    const session = await ort.InferenceSession.create(join(dir, 'm.onnx'), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    })
    try {
      const worst: number[] = []
      for (const tokens of prompts) {
        const native = await onnxProbs(session, tokens, SHAPE)
        worst.push(maxAbsDiff(trainerProbs(tokens), native))
      }
      console.log('onnxruntime vs trainer, max |Δp| per prompt:', worst)
      for (const w of worst) expect(w).toBeLessThan(TOLERANCE)
    } finally {
      await session.release()
    }
  }, 120_000)
})
