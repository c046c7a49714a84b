/**
 * The committed distilled student (48 wide: 4 heads of 12, unlike every other fixture's 16) through the
 * native engines: its GGUF F32 in node-llama-cpp and its ONNX fp32 in onnxruntime-node must give the
 * next-token distribution our forward pass gives at every position (to 1e-3 in onnxruntime, 1e-2 in
 * llama.cpp), so the figures the trainer recorded are the ones `bench run` measures. Two knowledge prompts (5 shots, spaces as "▁" and as 0x20).
 * ~3–6 s on the busy 2-vCPU box.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildKnowledgeSet } from '../../harness/fixtures/knowledge/knowledge-set.ts'
import { llamaToGguf } from '../../harness/fixtures/llama-gguf.ts'
import { llamaToOnnx } from '../../harness/fixtures/onnx-model.ts'
import { loadStudent } from '../../harness/fixtures/student/load.ts'
import { promptTokens } from '../../harness/fixtures/train/evaluate.ts'
import { forward } from '../../harness/fixtures/train/llama-model.ts'
import { llamaCppProbs, maxAbsDiff, onnxProbs, softmaxRows } from '../helpers/native-probs.ts'

/**
 * Largest |Δ probability| allowed at any position and token. On these trained, sharp distributions
 * llama.cpp differs from our fp32 forward pass by up to ~5e-3 at ~490 tokens (measured 4.6e-3 for the
 * student and 2.8e-3 for the committed teacher on the same prompt, so not the student's head size;
 * teacher-native-match's untrained weights stay under 1e-3), likely its default F16 KV cache;
 * onnxruntime computes in fp32 throughout and stays under 1e-3.
 */
const LLAMA_CPP_TOLERANCE = 1e-2
const ONNX_TOLERANCE = 1e-3

const { weights } = loadStudent()
const shape = weights.shape
const dir = mkdtempSync(join(tmpdir(), 'student-native-'))
let llama: Llama
let prompts: number[][]

beforeAll(async () => {
  const set = buildKnowledgeSet(42)
  const shotsOf = (subject: string) => set.splits.dev.filter((d) => d.subject === subject).slice(0, 5)
  const a = set.splits.test[3]!
  const b = set.splits.test[90]!
  prompts = [promptTokens(a, shotsOf(a.subject), 'spm'), promptTokens(b, shotsOf(b.subject), 'byte')]
  writeFileSync(join(dir, 's.gguf'), llamaToGguf(weights, { name: 'student', type: 'F32' }).bytes)
  writeFileSync(join(dir, 's.onnx'), llamaToOnnx(weights, { name: 'student', weightFormat: 'fp32' }).bytes)
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
}, 60_000)

afterAll(async () => {
  await llama?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const ours = (tokens: number[]) =>
  softmaxRows(forward(weights, Int32Array.from(tokens), 1, tokens.length).logits, tokens.length)

describe('distilled student: trainer forward pass vs native engines', () => {
  it('node-llama-cpp gives the same next-token distributions from the GGUF', async () => {
    const model = await llama.loadModel({ modelPath: join(dir, 's.gguf') })
    try {
      const context = await model.createContext({ threads: 1, contextSize: 1024 })
      const sequence = context.getSequence()
      for (const tokens of prompts) {
        const native = await llamaCppProbs(sequence, tokens)
        const mine = ours(tokens)
        expect(maxAbsDiff(mine, native), `${tokens.length} tokens`).toBeLessThan(LLAMA_CPP_TOLERANCE)
        // Not vacuous: a trained student is confident somewhere.
        expect(Math.max(...mine.map((p) => Math.max(...p)))).toBeGreaterThan(0.5)
      }
      await context.dispose()
    } finally {
      await model.dispose()
    }
  }, 60_000)

  it('onnxruntime-node gives the same next-token distributions from the ONNX', async () => {
    const session = await ort.InferenceSession.create(join(dir, 's.onnx'), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    })
    try {
      for (const tokens of prompts) {
        const native = await onnxProbs(session, tokens, shape)
        expect(maxAbsDiff(ours(tokens), native), `${tokens.length} tokens`).toBeLessThan(ONNX_TOLERANCE)
      }
    } finally {
      await session.release()
    }
  }, 60_000)
})
