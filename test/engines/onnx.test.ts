/**
 * The onnx engine on the tiny generated ONNX decoders: the shared conformance suite (fp32 and int8 with the
 * KV cache, fp32 without), then what is specific to it: the same tokens as llama.cpp for the same weights,
 * cache vs recompute, seeded sampling, EOS handling, probabilities, corrupt files, config, the runner.
 */
import { copyFileSync, mkdtempSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import type { Engine } from '../../harness/engines/engine.ts'
import { createLlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { createOnnxEngine } from '../../harness/engines/onnx/onnx.ts'
import { EngineStartError, ScenarioError } from '../../harness/errors.ts'
import { runScenario } from '../../harness/runner.ts'
import { collect, engineConformance } from '../helpers/engine-conformance.ts'
import { eosModels, tinyModels } from '../helpers/fixture-models.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

const broken = {
  createBroken: () =>
    createOnnxEngine({ modelPath: '/nonexistent/missing-model.onnx', intraOpNumThreads: 1 }),
  brokenNames: 'missing-model.onnx',
}
for (const [name, useCache] of [
  ['tiny-onnx-fp32', true],
  ['tiny-onnx-int8', true],
  ['tiny-onnx-fp32', false],
] as const) {
  engineConformance(
    `onnx ${name}${useCache ? '' : ', no cache'}`,
    async () =>
      createOnnxEngine({ modelPath: (await tinyModels()).path(name), intraOpNumThreads: 1, useCache }),
    [],
    broken,
  )
}

const never = () => new AbortController().signal
const greedy = { temperature: 0 }

async function text(
  engine: Engine,
  prompt: string,
  maxTokens: number,
  sampling: object = greedy,
): Promise<string> {
  return (await collect(engine.generate({ prompt, maxTokens, sampling }, never()))).text
}

describe('onnx engine on tiny-random (context-dependent output)', () => {
  let cached: Engine
  let uncached: Engine
  beforeAll(async () => {
    const modelPath = (await tinyModels()).path('tiny-random-onnx-fp32')
    cached = createOnnxEngine({ modelPath, intraOpNumThreads: 1 })
    uncached = createOnnxEngine({ modelPath, intraOpNumThreads: 1, useCache: false })
    await cached.start()
    await uncached.start()
  })
  afterAll(async () => {
    await cached?.[Symbol.asyncDispose]()
    await uncached?.[Symbol.asyncDispose]()
  })

  it('describes itself', () => {
    expect(cached.info.kind, 'kind').toBe('onnx')
    expect(cached.info.model, 'model').toBe('tiny-random-onnx-fp32.onnx')
    expect(cached.info.engineVersion, 'version').toBe('onnxruntime-node 1.30.0')
    expect(cached.info.device, 'device').toBe('cpu')
  })

  it('gives the same greedy tokens with and without the KV cache', async () => {
    const a = await text(cached, 'Hello', 16)
    expect(a.length, 'printable, one byte per token').toBe(16)
    expect(await text(uncached, 'Hello', 16), 'no cache').toBe(a)
  })

  it('gives the same greedy tokens as llama.cpp on the same weights (tiny-random-f32)', async () => {
    const llama = createLlamaCppEngine({
      modelPath: (await tinyModels()).path('tiny-random-f32'),
      threads: 1,
    })
    await llama.start()
    try {
      for (const prompt of ['Hello', 'ok'])
        expect(await text(cached, prompt, 12), `"${prompt}"`).toBe(await text(llama, prompt, 12))
      // No spaces: the GGUF's SentencePiece tokenizer turns " " into "▁" (3 byte tokens), the byte one does not.
      const choices = ['!', 'world', 'x']
      const [onnxScores, llamaScores] = [
        await cached.scoreChoices!('Hello', choices),
        await llama.scoreChoices!('Hello', choices),
      ]
      for (const [i, s] of onnxScores.entries()) expect(s, `choice ${i}`).toBeCloseTo(llamaScores[i]!, 2)
    } finally {
      await llama[Symbol.asyncDispose]()
    }
  })

  it('samples reproducibly from the seed', async () => {
    const sampled = (seed: number) => text(cached, 'Hello', 16, { temperature: 1, seed })
    const first = await sampled(7)
    expect(await sampled(7), 'same seed, same text').toBe(first)
    const others = await Promise.all([1, 2, 3, 4].map(sampled))
    expect(
      others.some((t) => t !== first),
      'other seeds, other texts',
    ).toBe(true)
  })

  it('scoreChoices agrees with and without the cache and with topLogprobs', async () => {
    const choices = ['!', ' world', 'xyz']
    const a = await cached.scoreChoices!('Hello', choices)
    const b = await uncached.scoreChoices!('Hello', choices)
    for (const [i, s] of a.entries()) expect(s, `choice ${i}`).toBeCloseTo(b[i]!, 4)
    const positions = await cached.topLogprobs!('Hello', 259)
    expect(positions.length, 'BOS + 5 bytes').toBe(6)
    const last = positions[5]!
    expect(last.find((e) => e.token === '!')?.logprob, 'P("!" | Hello)').toBeCloseTo(a[0]!, 4)
    const total = last.reduce((s, e) => s + Math.exp(e.logprob), 0)
    expect(total, 'the whole vocabulary sums to 1').toBeCloseTo(1, 6)
  })
})

describe('onnx engine: end of sequence', () => {
  let engine: Engine
  beforeAll(async () => {
    engine = createOnnxEngine({ modelPath: eosModels().onnx, intraOpNumThreads: 1 })
    await engine.start()
  })
  afterAll(async () => {
    await engine?.[Symbol.asyncDispose]()
  })

  it('stops at EOS after "c"; ignoreEos and minTokens ban it', async () => {
    const stop = await collect(engine.generate({ prompt: 'ab', maxTokens: 10, sampling: greedy }, never()))
    expect(stop.text, 'EOS after c').toBe('c')
    expect(stop.done[0]?.finishReason, 'finish').toBe('stop')
    expect(stop.done[0]?.outputTokens, 'EOS not counted').toBe(1)
    const fixed = await collect(
      engine.generate({ prompt: 'ab', maxTokens: 5, ignoreEos: true, sampling: greedy }, never()),
    )
    expect(fixed.text, 'ignoreEos').toBe('cdefg')
    const min = await collect(
      engine.generate({ prompt: 'ab', maxTokens: 200, minTokens: 2, sampling: greedy }, never()),
    )
    expect(min.done[0]?.outputTokens, 'minTokens: until the next "c" (see llama-cpp.test.ts)').toBe(96)
  })
})

describe('onnx engine: bad model files and config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-onnx-engine-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('a truncated .onnx fails start() with EngineStartError naming the file and the problem', async () => {
    const copy = join(dir, 'truncated.onnx')
    copyFileSync((await tinyModels()).path('tiny-onnx-fp32'), copy)
    truncateSync(copy, 100_000)
    const error = await createOnnxEngine({ modelPath: copy })
      .start()
      .catch((err: unknown) => err)
    expect(error, 'EngineStartError').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'message').toMatch(/truncated\.onnx: corrupt or truncated ONNX file: .+/)
  })

  it('a GGUF given to the onnx engine is reported as not an ONNX file', async () => {
    const error = await createOnnxEngine({ modelPath: (await tinyModels()).path('tiny-f32') })
      .start()
      .catch((err: unknown) => err)
    expect((error as Error).message, 'message').toMatch(/tiny-f32\.gguf: corrupt or truncated ONNX file/)
  })

  it("the config takes 'byte' or a tokenizer.json path, and names the field otherwise", () => {
    const scenario = (tokenizer: string) =>
      parseScenario({
        name: 'onnx-tokenizer',
        prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
        targets: [{ name: 'm', engine: { kind: 'onnx', model: 'm.onnx', tokenizer } }],
        loads: [{ kind: 'sequential', requests: 1 }],
      })
    expect(scenario('models/tokenizer.json').targets[0]?.engine, 'a path').toMatchObject({
      tokenizer: 'models/tokenizer.json',
    })
    expect(scenario('byte').targets[0]?.engine, 'byte').toMatchObject({ tokenizer: 'byte' })
    expect(() => scenario('sentencepiece'), 'ScenarioError').toThrow(ScenarioError)
    expect(() => scenario('sentencepiece'), 'reason').toThrow(
      /targets\[0\]\.engine\.tokenizer: must be 'byte' or the path of a tokenizer\.json/,
    )
  })
})

describe('onnx through the runner', () => {
  it('concurrent 2: every request ok, counted by the tokenizer, with sane timings', async () => {
    const model = (await tinyModels()).path('tiny-onnx-int8')
    const scenario = parseScenario({
      name: 'native-onnx',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 6, count: 4 },
      targets: [{ name: 'tiny-onnx-int8', engine: { kind: 'onnx', model, intraOpNumThreads: 1 } }],
      loads: [{ kind: 'concurrent', concurrency: 2, requests: 6 }],
      warmupRequests: 1,
    })
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: '.', sink })
    expect(result.state, 'scenario').toBe('completed')
    const run = sink.runs[0]
    expect(run?.meta.engine.kind, 'engine kind').toBe('onnx')
    expect(run?.meta.engineOptions, 'stored options').toEqual({ kind: 'onnx', model, intraOpNumThreads: 1 })
    expect(run?.outcomes.length, 'requests').toBe(6)
    for (const o of run?.outcomes ?? []) {
      if (o.state !== 'ok') return expect.unreachable(`outcome ${JSON.stringify(o)}`)
      expect(o.tokensSource, 'tokensSource').toBe('tokenizer')
      expect(o.outputTokens, 'fixed output length').toBe(6)
      expect(o.chunks, 'one chunk per token').toBe(6)
      expect(o.promptTokens, 'BOS + prompt bytes').toBeGreaterThan(8)
      expect(o.e2eMs, 'e2e ≥ ttft').toBeGreaterThanOrEqual(o.ttftMs)
    }
  })
})
