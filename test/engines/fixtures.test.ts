/**
 * The generated fixtures on the real engines: every tiny GGUF variant loads in node-llama-cpp and decodes
 * greedily the same way twice; the ONNX decoders give the same tokens with and without the KV cache; and
 * the random-weight GGUF and ONNX files, which hold the same weights, agree with each other.
 */
import { copyFileSync, mkdtempSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getLlama, type Llama, LlamaCompletion, LlamaLogLevel, type Token } from 'node-llama-cpp'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeByteTokens, encodeByteTokens } from '../../harness/fixtures/byte-vocab.ts'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { GgufFormatError, readGgufHeader } from '../../harness/fixtures/gguf-reader.ts'
import type { FixtureManifest } from '../../harness/fixtures/manifest.ts'

const dir = mkdtempSync(join(tmpdir(), 'bench-fixtures-engines-'))
let manifests: FixtureManifest[]
let llama: Llama
const PRINTABLE = /^[\x20-\x7e]+$/
const STEPS = 8

beforeAll(async () => {
  manifests = await generateFixtures({ outDir: dir, sizes: ['tiny'] })
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
})
afterAll(async () => {
  await llama?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const variant = (name: string) => {
  const m = manifests.find((x) => x.name === name)
  if (!m) throw new Error(`no fixture ${name}`)
  return m
}

/** Greedy completion of `prompt` in node-llama-cpp, twice on a cleared sequence. */
async function llamaGreedyTwice(
  m: FixtureManifest,
  prompt: string,
  contextOptions: object = {},
): Promise<[string, string]> {
  const model = await llama.loadModel({ modelPath: join(dir, m.file) })
  try {
    const context = await model.createContext({ threads: 1, contextSize: 128, ...contextOptions })
    const sequence = context.getSequence()
    const completion = new LlamaCompletion({ contextSequence: sequence })
    const first = await completion.generateCompletion(prompt, { maxTokens: STEPS, temperature: 0 })
    await sequence.clearHistory()
    const second = await completion.generateCompletion(prompt, { maxTokens: STEPS, temperature: 0 })
    await context.dispose()
    return [first, second]
  } finally {
    await model.dispose()
  }
}

describe('GGUF fixtures in node-llama-cpp', () => {
  const nextByte = [
    'tiny-f32',
    'tiny-f16',
    'tiny-q8_0',
    'tiny-q4_0',
    'tiny-layerdrop-f32',
    'tiny-magprune50-f32',
  ]
  for (const name of nextByte) {
    it(`${name} continues "abc" with "defghijk", twice`, async () => {
      const [first, second] = await llamaGreedyTwice(variant(name), 'abc')
      expect(first, 'first run').toBe('defghijk')
      expect(second, 'second run').toBe(first)
    })
  }

  for (const name of ['tiny-random-f32', 'tiny-random-q4_0']) {
    it(`${name} decodes printable ASCII, the same twice`, async () => {
      const [first, second] = await llamaGreedyTwice(variant(name), 'Hello')
      expect(first, 'printable').toMatch(PRINTABLE)
      expect(first.length, 'one byte per token').toBe(STEPS)
      expect(second, 'second run').toBe(first)
    })
  }

  it('the tokenizer sees one token per byte after BOS', async () => {
    const model = await llama.loadModel({ modelPath: join(dir, variant('tiny-q8_0').file) })
    try {
      expect(model.tokenize('abc'), 'byte tokens').toEqual([0x61 + 3, 0x62 + 3, 0x63 + 3])
      expect(model.tokens.bos, 'BOS').toBe(1)
      expect(model.detokenize([0x68 + 3, 0x69 + 3] as Token[]), 'detokenize').toBe('hi')
    } finally {
      await model.dispose()
    }
  })

  it('a truncated copy is reported by the GGUF reader before any native load', () => {
    const copy = join(dir, 'truncated.gguf')
    copyFileSync(join(dir, variant('tiny-q4_0').file), copy)
    truncateSync(copy, 40_000)
    expect(() => readGgufHeader(copy), 'error').toThrow(GgufFormatError)
    expect(() => readGgufHeader(copy), 'message').toThrow(
      /truncated\.gguf: corrupt or truncated GGUF file: tensor .+ needs bytes/,
    )
  })
})

/** Greedy decoding against the Optimum decoder layout, with or without the KV cache. */
class OnnxDecoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly m: FixtureManifest,
  ) {}

  static async load(m: FixtureManifest): Promise<OnnxDecoder> {
    const session = await ort.InferenceSession.create(join(dir, m.file), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    })
    return new OnnxDecoder(session, m)
  }

  release(): Promise<void> {
    return this.session.release()
  }

  /** Runs one forward pass over rows of equal length (left-padded with mask 0); returns logits and presents. */
  async forward(rows: number[][], masks: number[][], past?: Record<string, ort.Tensor>) {
    const a = this.m.architecture
    const batch = rows.length
    const seq = rows[0]!.length
    const total = masks[0]!.length
    const pastLen = total - seq
    const int64 = (values: number[], dims: number[]) =>
      new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims)
    // Optimum's position ids: count of real tokens before each position (padding gets 1, never used).
    const positions = masks.map((mask) => {
      let seen = 0
      return mask.map((bit) => (bit ? seen++ : 1)).slice(pastLen)
    })
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(rows.flat(), [batch, seq]),
      attention_mask: int64(masks.flat(), [batch, total]),
      position_ids: int64(positions.flat(), [batch, seq]),
    }
    for (let l = 0; l < a.blockCount; l++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${l}.${kind}`] =
          past?.[`present.${l}.${kind}`] ??
          new ort.Tensor('float32', new Float32Array(0), [batch, a.headCount, 0, a.headDim])
      }
    }
    return this.session.run(feeds)
  }

  private argmaxLast(logits: ort.Tensor, row: number): number {
    const [, seq, vocab] = logits.dims as [number, number, number]
    const data = logits.data as Float32Array
    const start = (row * seq + seq - 1) * vocab
    let best = 0
    for (let v = 1; v < vocab; v++) if (data[start + v]! > data[start + best]!) best = v
    return best
  }

  /** Prompt once, then one token per step reusing present.* as past_key_values. */
  async greedyCached(prompt: number[], steps: number): Promise<number[]> {
    let mask = prompt.map(() => 1)
    let out = await this.forward([prompt], [mask])
    const tokens = [this.argmaxLast(out.logits!, 0)]
    while (tokens.length < steps) {
      mask = [...mask, 1]
      out = await this.forward([[tokens.at(-1)!]], [mask], out)
      tokens.push(this.argmaxLast(out.logits!, 0))
    }
    return tokens
  }

  /** Recomputes the whole sequence every step (no cache). */
  async greedyFull(prompt: number[], steps: number): Promise<number[]> {
    const seq = [...prompt]
    const tokens: number[] = []
    while (tokens.length < steps) {
      const out = await this.forward([seq], [seq.map(() => 1)])
      tokens.push(this.argmaxLast(out.logits!, 0))
      seq.push(tokens.at(-1)!)
    }
    return tokens
  }

  /** Batched prompts, left-padded, then cached steps for all rows together. */
  async greedyBatch(prompts: number[][], steps: number): Promise<number[][]> {
    const width = Math.max(...prompts.map((p) => p.length))
    const rows = prompts.map((p) => [...new Array(width - p.length).fill(0), ...p])
    let masks = prompts.map((p) => [...new Array(width - p.length).fill(0), ...p.map(() => 1)])
    let out = await this.forward(rows, masks)
    const tokens = prompts.map((_, r) => [this.argmaxLast(out.logits!, r)])
    while (tokens[0]!.length < steps) {
      masks = masks.map((m) => [...m, 1])
      out = await this.forward(
        tokens.map((t) => [t.at(-1)!]),
        masks,
        out,
      )
      for (const [r, t] of tokens.entries()) t.push(this.argmaxLast(out.logits!, r))
    }
    return tokens
  }
}

describe('ONNX fixtures in onnxruntime-node', () => {
  const prompt = encodeByteTokens('abc', { bos: true })

  for (const name of ['tiny-onnx-fp32', 'tiny-onnx-int8']) {
    it(`${name}: KV-cache decoding equals full recompute and continues "abc" with "defghijk"`, async () => {
      const decoder = await OnnxDecoder.load(variant(name))
      try {
        const cached = await decoder.greedyCached(prompt, STEPS)
        expect(decodeByteTokens(cached), 'cached output').toBe('defghijk')
        expect(await decoder.greedyFull(prompt, STEPS), 'same tokens without the cache').toEqual(cached)
      } finally {
        await decoder.release()
      }
    })
  }

  it('tiny-random-onnx-fp32: KV-cache decoding equals full recompute on context-dependent output', async () => {
    const decoder = await OnnxDecoder.load(variant('tiny-random-onnx-fp32'))
    try {
      const cached = await decoder.greedyCached(encodeByteTokens('Hello', { bos: true }), STEPS)
      expect(decodeByteTokens(cached), 'printable').toMatch(PRINTABLE)
      expect(await decoder.greedyFull(encodeByteTokens('Hello', { bos: true }), STEPS), 'no cache').toEqual(
        cached,
      )
    } finally {
      await decoder.release()
    }
  })

  it('tiny-random-onnx-fp32: a left-padded batch decodes each row as if alone', async () => {
    const decoder = await OnnxDecoder.load(variant('tiny-random-onnx-fp32'))
    try {
      const prompts = [encodeByteTokens('Hello', { bos: true }), encodeByteTokens('ok', { bos: true })]
      const batch = await decoder.greedyBatch(prompts, 6)
      expect(batch[0], 'row 0').toEqual(await decoder.greedyCached(prompts[0]!, 6))
      expect(batch[1], 'row 1 (padded)').toEqual(await decoder.greedyCached(prompts[1]!, 6))
    } finally {
      await decoder.release()
    }
  })

  it('holds the same weights as the GGUF: tiny-random ONNX and llama.cpp agree token for token', async () => {
    const decoder = await OnnxDecoder.load(variant('tiny-random-onnx-fp32'))
    let onnxText: string
    try {
      onnxText = decodeByteTokens(await decoder.greedyCached(encodeByteTokens('Hello', { bos: true }), STEPS))
    } finally {
      await decoder.release()
    }
    // An F32 KV cache keeps llama.cpp's arithmetic close enough that near-ties cannot flip.
    const [llamaText] = await llamaGreedyTwice(variant('tiny-random-f32'), 'Hello', {
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    })
    expect(llamaText, 'same greedy continuation').toBe(onnxText)
  })
})
