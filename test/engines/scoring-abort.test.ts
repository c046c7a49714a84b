/**
 * scoreChoices and tokenLogProbs obey their signal (engine.ts): an item whose deadline passes stops the
 * engine's work at its next step and rejects with the deadline's reason, so it does not keep the engine
 * busy for the next item. Each scoring here asks for thousands of choices (llama-cpp ~13 ms a choice on
 * this 2-vCPU box, onnx ~2 ms: tens of seconds unaborted) and is cut after 100 ms. Without the signal the
 * cut scoring would resolve (not reject) and, on llama-cpp and its isolate, hold the engine's one sequence
 * until every choice was scored, so the follow-up scoring would outlast the test's timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../harness/engines/engine.ts'
import { createIsolatedEngine } from '../../harness/engines/isolate/index.ts'
import { createLlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { createOnnxEngine } from '../../harness/engines/onnx/onnx.ts'
import { type TinyModels, tinyModels } from '../helpers/fixture-models.ts'

const PROMPT = 'The answer is'
const MANY = Array.from({ length: 3000 }, (_, i) => ` choice number ${i}`)
const CUT_AFTER_MS = 100
let models: TinyModels

beforeAll(async () => {
  models = await tinyModels()
})

/** A signal aborted with `reason` after CUT_AFTER_MS. */
function cutSoon(reason: Error): AbortSignal {
  const controller = new AbortController()
  setTimeout(() => controller.abort(reason), CUT_AFTER_MS)
  return controller.signal
}

const engines: [string, () => Engine][] = [
  ['llama-cpp', () => createLlamaCppEngine({ modelPath: models.path('tiny-q8_0'), threads: 1 })],
  [
    'llama-cpp in its isolate',
    () =>
      createIsolatedEngine({
        kind: 'llama-cpp',
        options: { modelPath: models.path('tiny-q8_0'), threads: 1 },
      }),
  ],
  ['onnx', () => createOnnxEngine({ modelPath: models.path('tiny-onnx-fp32'), intraOpNumThreads: 1 })],
]

describe.each(engines)('%s: a cut scoring stops', (_name, create) => {
  let engine: Engine
  beforeAll(async () => {
    engine = create()
    await engine.start()
  }, 60_000)
  afterAll(async () => {
    await engine?.[Symbol.asyncDispose]()
  })

  it('scoreChoices rejects with the signal’s reason and the engine is free for the next item', async () => {
    const reason = new Error('no scores within 100 ms')
    await expect(engine.scoreChoices!(PROMPT, MANY, cutSoon(reason))).rejects.toBe(reason)
    // The tiny fixtures put all mass on one byte, so a score may be −Infinity; what counts is the answer.
    const scores = await engine.scoreChoices!(PROMPT, [' yes', ' no'])
    expect(
      scores.map((v) => typeof v),
      'the next item is scored',
    ).toEqual(['number', 'number'])
  }, 20_000)

  it('an already aborted signal scores nothing', async () => {
    const reason = new Error('interrupted')
    const controller = new AbortController()
    controller.abort(reason)
    await expect(engine.scoreChoices!(PROMPT, [' yes'], controller.signal)).rejects.toBe(reason)
    await expect(
      engine.tokenLogProbs!('abc '.repeat(100), { contextTokens: 64, window: 0 }, controller.signal),
    ).rejects.toBe(reason)
  })
})

describe('scores across the isolate boundary', () => {
  it('arrive as the engine computed them, −Infinity included (JSON alone would make it null)', async () => {
    const direct = createLlamaCppEngine({ modelPath: models.path('tiny-q8_0'), threads: 1 })
    const isolated = createIsolatedEngine({
      kind: 'llama-cpp',
      options: { modelPath: models.path('tiny-q8_0'), threads: 1 },
    })
    await Promise.all([direct.start(), isolated.start()])
    try {
      const choices = [' yes', ' no', 'x', '!']
      const expected = await direct.scoreChoices!(PROMPT, choices)
      expect(expected, 'the tiny model gives some choice probability 0').toContain(Number.NEGATIVE_INFINITY)
      expect(await isolated.scoreChoices!(PROMPT, choices)).toEqual(expected)
    } finally {
      await Promise.all([direct[Symbol.asyncDispose](), isolated[Symbol.asyncDispose]()])
    }
  }, 60_000)
})
