/**
 * The onnx engine with a Hugging Face tokenizer.json: the fixtures' own (written by generateFixtures beside
 * the models) must tokenize exactly as the byte tokenizer, so the same model gives the same tokens either
 * way; and the failures a user meets (missing file, not JSON, not a tokenizer) name the file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createOnnxEngine } from '../../harness/engines/onnx/onnx.ts'
import { EngineStartError } from '../../harness/errors.ts'
import { collect } from '../helpers/engine-conformance.ts'
import { eosModels, tinyModels } from '../helpers/fixture-models.ts'

const never = () => new AbortController().signal
const greedy = { temperature: 0 }

describe('onnx engine with the fixtures tokenizer.json', () => {
  it('generates the same tokens and text as with the byte tokenizer, and counts them the same', async () => {
    const models = await tinyModels()
    const modelPath = models.path('tiny-random-onnx-fp32')
    const results = []
    for (const tokenizer of ['byte', join(models.dir, 'tokenizer.json')]) {
      const engine = createOnnxEngine({ modelPath, tokenizer, intraOpNumThreads: 1 })
      await engine.start()
      try {
        results.push(
          await collect(
            engine.generate({ prompt: 'Héllo wörld, 1 + 1 = 2', maxTokens: 24, sampling: greedy }, never()),
          ),
        )
      } finally {
        await engine[Symbol.asyncDispose]()
      }
    }
    const [byte, hf] = results
    expect(byte?.error, 'byte run').toBeUndefined()
    expect(hf?.error, 'tokenizer.json run').toBeUndefined()
    expect(hf?.text, 'same text').toBe(byte?.text)
    expect(hf?.done[0]?.promptTokens, 'same prompt count (BOS included)').toBe(byte?.done[0]?.promptTokens)
    expect(hf?.done[0]?.outputTokens, 'same output count').toBe(24)
  })

  it('stops at the EOS id its tokenizer_config names', async () => {
    const models = await tinyModels()
    const engine = createOnnxEngine({
      modelPath: eosModels().onnx,
      tokenizer: join(models.dir, 'tokenizer.json'),
      intraOpNumThreads: 1,
    })
    await engine.start()
    try {
      const stop = await collect(engine.generate({ prompt: 'ab', maxTokens: 10, sampling: greedy }, never()))
      expect(stop.text, 'EOS after c').toBe('c')
      expect(stop.done[0]?.finishReason, 'finish').toBe('stop')
    } finally {
      await engine[Symbol.asyncDispose]()
    }
  })
})

describe('onnx engine: a tokenizer it cannot use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-onnx-tokenizer-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const startWith = async (tokenizer: string) =>
    createOnnxEngine({ modelPath: (await tinyModels()).path('tiny-onnx-fp32'), tokenizer })
      .start()
      .catch((err: unknown) => err)

  it.each([
    ['missing.json', null, /missing\.json: no such file; give the path of the model's tokenizer\.json/],
    ['broken.json', '{"model": ', /broken\.json: not valid JSON/],
    ['not-a-tokenizer.json', '{"vocab": {}}', /not-a-tokenizer\.json: not a Hugging Face tokenizer\.json/],
  ])('%s → EngineStartError naming the file and the problem', async (file, content, message) => {
    const path = join(dir, file)
    if (content !== null) writeFileSync(path, content)
    const error = await startWith(path)
    expect(error, 'EngineStartError').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'message').toMatch(message)
  })

  it('a tokenizer with more ids than the model has logits is refused', async () => {
    const vocab = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`t${i}`, i]))
    mkdirSync(join(dir, 'big'), { recursive: true })
    const path = join(dir, 'big', 'tokenizer.json')
    writeFileSync(
      path,
      JSON.stringify({
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: { type: 'Whitespace' },
        post_processor: null,
        decoder: null,
        model: { type: 'WordLevel', vocab, unk_token: 't0' },
      }),
    )
    const error = await startWith(path)
    expect((error as Error).message, 'message').toMatch(
      /logits have 259 entries but the tokenizer has 400 ids/,
    )
  })
})
