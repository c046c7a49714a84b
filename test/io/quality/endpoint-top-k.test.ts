/**
 * The openai engine's topKLogProbs() against the mock: refused, by a probe and with the reason, where the
 * server cannot deliver top-k lists at every corpus position (vllm without a model: no token-id echo;
 * llama-server: logprobs of the generated token only, llama.cpp #27174; the default personality: no
 * /tokenize; k above vLLM's --max-logprobs); delivered by the vllm personality backed by a real model
 * (tiny-onnx-fp32 through the onnx engine), whose lists are, id for id and bit for bit, the top k of the
 * native engine's own full distributions for the same window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOnnxEngine } from '../../../harness/engines/onnx/onnx.ts'
import { createOpenAIEngine, type OpenAIEngine } from '../../../harness/engines/openai/openai.ts'
import { CapabilityError } from '../../../harness/errors.ts'
import type { LogprobsModel } from '../../../harness/mock-server/model-logprobs.ts'
import type { MockOptionsInput } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { createEngineLogprobsModel } from '../../../harness/quality/mock-model.ts'
import { topKOfRow } from '../../../harness/quality/top-k-measure.ts'
import { tinyModels } from '../../helpers/fixture-models.ts'

const FAST = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const
const TEXT = 'The river runs past the city; winter music fills the garden. '.repeat(12)
const CONTEXT = 64
const K = 20

const open: { close(): PromiseLike<void> }[] = []
afterAll(async () => {
  for (const o of open.reverse()) await o.close()
})

async function endpoint(
  options: MockOptionsInput,
  logprobsModel?: LogprobsModel,
): Promise<{ engine: OpenAIEngine; mock: MockServerHandle }> {
  const mock = await startMockServer({ ...FAST, ...options }, {}, logprobsModel ? { logprobsModel } : {})
  const engine = createOpenAIEngine({ baseUrl: mock.url, model: 'm', api: 'completions', client: 'http1' })
  open.push(mock, { close: () => engine[Symbol.asyncDispose]() })
  await engine.start()
  return { engine, mock }
}

async function refusal(engine: OpenAIEngine, k = K): Promise<CapabilityError> {
  const error = await engine.topKLogProbs(TEXT, { contextTokens: CONTEXT, window: 0, k }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'a CapabilityError, not a result').toBeInstanceOf(CapabilityError)
  return error as CapabilityError
}

describe('topKLogProbs: endpoints that cannot deliver are refused with the reason', () => {
  it('vllm without a model (no token-id echo), llama-server (#27174), default (no /tokenize)', async () => {
    const vllm = await endpoint({ personality: 'vllm' })
    expect((await refusal(vllm.engine)).message).toMatch(
      /cannot give the top-k distributions quality needs at every corpus position: it refused echo with logprobs of a token-id prompt \(HTTP 400: echo: the mock echoes only text prompts\)/,
    )
    const llama = await endpoint({ personality: 'llama-server' })
    expect((await refusal(llama.engine)).message).toMatch(
      /it returns logprobs for generated tokens only \(1 entry for a \d+-token prompt\), none for prompt positions: it ignores echo, as llama-server does \(llama\.cpp #27174\)/,
    )
    const plain = await endpoint({ personality: 'default' })
    expect((await refusal(plain.engine)).message).toMatch(/\/tokenize does not tokenize \(HTTP 404/)
  })
})

describe('topKLogProbs on the vllm personality backed by tiny-onnx-fp32', () => {
  let model: LogprobsModel & AsyncDisposable
  let modelPath: string
  beforeAll(async () => {
    modelPath = (await tinyModels()).path('tiny-onnx-fp32')
    model = await createEngineLogprobsModel({ kind: 'onnx', modelPath })
    open.push({ close: () => model[Symbol.asyncDispose]() })
  })

  it('lists per scored position the top k of the native full distributions, bit for bit', async () => {
    const { engine, mock } = await endpoint({ personality: 'vllm' }, model)
    const native = createOnnxEngine({ modelPath, intraOpNumThreads: 1 })
    open.push({ close: () => native[Symbol.asyncDispose]() })
    await native.start()
    const tokenize = await fetch(`${new URL(mock.url).origin}/tokenize`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'ab c' }),
    }).then((r) => r.json())
    expect(tokenize, 'BOS, then the bytes + 3').toEqual({
      count: 5,
      max_model_len: 2048,
      tokens: [1, 100, 101, 35, 102],
    })
    for (const window of [0, 2]) {
      const got = await engine.topKLogProbs(TEXT, { contextTokens: CONTEXT, window, k: K })
      const full = await native.tokenLogProbs!(TEXT, { contextTokens: CONTEXT, window })
      expect(got.tokens, `window ${window}: the endpoint's /tokenize ids`).toEqual(full.tokens)
      expect(got.firstScored).toBe(full.firstScored)
      expect(got.rows, 'one row per scored position').toHaveLength(CONTEXT - 1 - CONTEXT / 2)
      const v = full.vocabSize
      got.rows.forEach((row, i) => {
        const exact = full.logProbs.subarray(i * v, (i + 1) * v)
        const next = full.tokens[full.firstScored + i + 1]!
        expect(row.top, `window ${window} row ${i}`).toEqual(
          topKOfRow(exact, K).map((e) => ({ id: e.token, logprob: Math.max(e.logprob, -9999) })),
        )
        expect(row.nextLogprob, 'the next token').toBe(exact[next])
      })
    }
  })

  it('k above vLLM --max-logprobs (20) is refused naming the flag', async () => {
    const { engine } = await endpoint({ personality: 'vllm' }, model)
    expect((await refusal(engine, 21)).message).toMatch(
      /it refused logprobs: 21 \(HTTP 400: Requested sample logprobs of 21, which is greater than max allowed: 20\); start vLLM with --max-logprobs 21 or more/,
    )
  })
})
