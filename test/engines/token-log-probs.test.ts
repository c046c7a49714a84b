/**
 * tokenLogProbs() on the tiny fixtures: llama-cpp in-process and isolated (bit-identical across the JSON
 * IPC), onnx with and without its cache; llama-perplexity's window cut (BOS first, second half scored),
 * every row a distribution, and the refusals of a window past the text and a window too small.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine, TokenLogProbs } from '../../harness/engines/engine.ts'
import { createIsolatedEngine } from '../../harness/engines/isolate/index.ts'
import { createLlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { createOnnxEngine } from '../../harness/engines/onnx/onnx.ts'
import { tinyModels } from '../helpers/fixture-models.ts'

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(8)

function rowSums(r: TokenLogProbs): number[] {
  const rows = r.logProbs.length / r.vocabSize
  return Array.from({ length: rows }, (_, i) => {
    let sum = 0
    for (let v = 0; v < r.vocabSize; v++) sum += Math.exp(r.logProbs[i * r.vocabSize + v]!)
    return sum
  })
}

describe('tokenLogProbs', () => {
  const engines: Engine[] = []
  let f32: Engine
  let q8: Engine
  let isolated: Engine
  let onnx: Engine
  let onnxNoCache: Engine
  beforeAll(async () => {
    const m = await tinyModels()
    f32 = createLlamaCppEngine({ modelPath: m.path('tiny-f32'), threads: 1 })
    q8 = createLlamaCppEngine({ modelPath: m.path('tiny-q8_0'), threads: 1 })
    isolated = createIsolatedEngine({
      kind: 'llama-cpp',
      options: { modelPath: m.path('tiny-f32'), threads: 1 },
    })
    onnx = createOnnxEngine({ modelPath: m.path('tiny-onnx-fp32'), intraOpNumThreads: 1 })
    onnxNoCache = createOnnxEngine({
      modelPath: m.path('tiny-onnx-fp32'),
      intraOpNumThreads: 1,
      useCache: false,
    })
    engines.push(f32, q8, isolated, onnx, onnxNoCache)
    await Promise.all(engines.map((e) => e.start()))
  }, 60_000)
  afterAll(async () => {
    await Promise.all(engines.map((e) => e[Symbol.asyncDispose]()))
  })

  it('llama-cpp: windows of contextTokens, the second half scored, every row a distribution', async () => {
    expect(f32.info.capabilities.tokenLogProbs, 'capability').toBe(true)
    const r = await f32.tokenLogProbs!(TEXT, { contextTokens: 64, window: 1 })
    // One token per byte, each space as "▁" (3 bytes): 8 × (45 + 9 × 2) + BOS = 505 tokens → 7 windows.
    expect(r.windows, 'windows').toBe(Math.floor(505 / 64))
    expect(r.tokens.length, 'window length').toBe(64)
    expect(r.firstScored, 'first scored').toBe(32)
    expect(r.vocabSize, 'vocabulary').toBe(259)
    expect(r.logProbs.length, 'rows = 64 − 1 − 32').toBe(31 * 259)
    for (const s of rowSums(r)) expect(s).toBeCloseTo(1, 4)
    const q = await q8.tokenLogProbs!(TEXT, { contextTokens: 64, window: 1 })
    expect(q.tokens, 'same tokenizer, same ids').toEqual(r.tokens)
    expect(q.logProbs, 'another variant, other figures').not.toEqual(r.logProbs)
  })

  it('llama-cpp isolated: the same float32 bits through the child', async () => {
    expect(isolated.info.capabilities.tokenLogProbs, 'capability').toBe(true)
    const a = await f32.tokenLogProbs!(TEXT, { contextTokens: 64, window: 2 })
    const b = await isolated.tokenLogProbs!(TEXT, { contextTokens: 64, window: 2 })
    expect(b.logProbs, 'Float32Array').toBeInstanceOf(Float32Array)
    expect(b.tokens).toEqual(a.tokens)
    expect(Buffer.from(b.logProbs.buffer).equals(Buffer.from(a.logProbs.buffer)), 'bit-identical').toBe(true)
  })

  it('onnx: log-softmax of the logits, with and without the cache alike', async () => {
    const a = await onnx.tokenLogProbs!(TEXT, { contextTokens: 64, window: 0 })
    const b = await onnxNoCache.tokenLogProbs!(TEXT, { contextTokens: 64, window: 0 })
    expect(a.tokens[0], 'BOS first').toBe(1)
    expect(a.logProbs.length).toBe(31 * a.vocabSize)
    for (const s of rowSums(a)) expect(s).toBeCloseTo(1, 4)
    for (let i = 0; i < a.logProbs.length; i++)
      expect(Math.abs(a.logProbs[i]! - b.logProbs[i]!)).toBeLessThan(1e-4)
  })

  it('GGUF and the ONNX byte tokenizer give different ids for the same text (spaces)', async () => {
    const g = await f32.tokenLogProbs!(TEXT, { contextTokens: 64, window: 0 })
    const o = await onnx.tokenLogProbs!(TEXT, { contextTokens: 64, window: 0 })
    expect(o.tokens, 'ids differ').not.toEqual(g.tokens)
  })

  it('refuses a window past the text and a contextTokens out of range', async () => {
    await expect(f32.tokenLogProbs!(TEXT, { contextTokens: 64, window: 7 })).rejects.toThrow(
      /window 7 is not in 0\.\.6 \(the text is 505 tokens, 7 windows of 64\)/,
    )
    await expect(onnx.tokenLogProbs!(TEXT, { contextTokens: 2, window: 0 })).rejects.toThrow(
      /contextTokens must be/,
    )
  })
})
