/**
 * The openai engine's scoreChoices() and generate-mode answers against the mock's `answers` option
 * (p = 0.7 over a seeded set): per item, the engine reads exactly the choice the mock decided, and the
 * measured accuracy lies in the binomial 99 % interval of p — by echo + prompt logprobs (vllm
 * personality), by the next token's top-k (llama-server personality), and by generation + letter
 * extraction. Endpoints that cannot score throw CapabilityError saying what they lack.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { extractChoiceLetter, GENERATE_MAX_TOKENS, GENERATE_STOP } from '../../../harness/accuracy/extract.ts'
import { MMLU_CONTINUATIONS, mmluPrompt } from '../../../harness/accuracy/prompt.ts'
import { argmaxIndex } from '../../../harness/accuracy/score.ts'
import { fewShots } from '../../../harness/accuracy/select.ts'
import type { McItem } from '../../../harness/accuracy/types.ts'
import { createOpenAIEngine, type OpenAIEngine } from '../../../harness/engines/openai/openai.ts'
import { CapabilityError } from '../../../harness/errors.ts'
import { type AnswerKey, loadAnswerKey } from '../../../harness/mock-server/answers.ts'
import type { MockOptionsInput } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { binomialInterval99, type McKey, writeMcKey } from '../../helpers/mc-key.ts'

const P = 0.7
const SEED = 11
const FAST = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const

const cleanups: (() => PromiseLike<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

let key: McKey
let answerKey: AnswerKey
let items: McItem[]
beforeAll(async () => {
  key = writeMcKey({ subjects: 3, perSubject: 100, seed: 5 })
  items = [...key.dataset.test]
  answerKey = await loadAnswerKey({ p: P, key: key.file, seed: SEED }, 1)
})

async function mockWith(options: MockOptionsInput): Promise<MockServerHandle> {
  const server = await startMockServer(
    { ...FAST, answers: { p: P, key: key.file, seed: SEED }, ...options },
    { port: 0 },
  )
  cleanups.push(() => server.close())
  return server
}

function engineOn(url: string, api: 'chat' | 'completions' = 'completions'): OpenAIEngine {
  const engine = createOpenAIEngine({ baseUrl: url, model: 'mock-model', api, client: 'http1' })
  cleanups.push(() => engine[Symbol.asyncDispose]())
  return engine
}

const promptOf = (item: McItem) => mmluPrompt(item, fewShots(key.dataset.dev, item.subject, 5))

function expectWithinInterval(correct: number, n: number, label: string) {
  const { lo, hi } = binomialInterval99(n, P)
  expect(n, `${label}: items scored`).toBe(300)
  expect(
    correct,
    `${label}: ${correct}/${n} right, 99 % interval of Binomial(${n}, ${P}) is [${lo}, ${hi}]`,
  ).toBeGreaterThanOrEqual(lo)
  expect(correct, `${label}: ${correct}/${n} right, 99 % interval [${lo}, ${hi}]`).toBeLessThanOrEqual(hi)
}

describe('scoreChoices on the mock with answers p = 0.7', () => {
  for (const personality of ['vllm', 'llama-server'] as const) {
    it(`${personality}: argmax = the mock's choice on every item; acc in the 99 % interval`, async () => {
      const engine = engineOn((await mockWith({ personality })).url)
      let correct = 0
      for (const item of items) {
        const logliks = await engine.scoreChoices(promptOf(item), [...MMLU_CONTINUATIONS])
        const predicted = argmaxIndex(logliks)
        expect(predicted, `${item.id}: the letter the mock chose`).toBe(answerKey.choose(item))
        if (predicted === item.answer) correct++
      }
      expect(engine.scoreMode, 'mode chosen by the first answer').toBe(
        personality === 'vllm' ? 'echo' : 'next-token',
      )
      expectWithinInterval(correct, items.length, personality)
    }, 60_000)
  }

  it('echo: the chosen letter is exactly ln 0.6 (the mock’s letter distribution), read off the prompt logprobs', async () => {
    const engine = engineOn((await mockWith({ personality: 'vllm' })).url)
    const item = items[0]!
    const logliks = await engine.scoreChoices(promptOf(item), [...MMLU_CONTINUATIONS])
    const chosen = answerKey.choose(item)
    expect(logliks[chosen], 'chosen letter').toBeCloseTo(Math.log(0.6), 12)
    for (let i = 0; i < 4; i++)
      if (i !== chosen) expect(logliks[i], `letter ${i}`).toBeCloseTo(Math.log(0.1), 12)
  })
})

describe('generate mode on the mock with answers p = 0.7', () => {
  for (const api of ['completions', 'chat'] as const) {
    it(`${api}: extractChoiceLetter of a 5-token generation = the mock's choice; acc in the 99 % interval`, async () => {
      const engine = engineOn((await mockWith({})).url, api)
      let correct = 0
      for (const item of items) {
        let text = ''
        for await (const event of engine.generate(
          {
            prompt: promptOf(item),
            maxTokens: GENERATE_MAX_TOKENS,
            sampling: { temperature: 0, stop: [...GENERATE_STOP] },
          },
          new AbortController().signal,
        ))
          if (event.type === 'token') text += event.text
        const letter = extractChoiceLetter(text)
        expect(letter, `${item.id}: generated ${JSON.stringify(text)}`).toBe('ABCD'[answerKey.choose(item)])
        if (letter === 'ABCD'[item.answer]) correct++
      }
      expectWithinInterval(correct, items.length, `generate ${api}`)
    }, 60_000)
  }
})

describe('endpoints that cannot score say so (CapabilityError)', () => {
  it('default personality (refuses echo, logprobs without token ids, no /tokenize)', async () => {
    const engine = engineOn((await mockWith({})).url)
    const error = await engine.scoreChoices(promptOf(items[0]!), [...MMLU_CONTINUATIONS]).catch((e) => e)
    expect(error, 'CapabilityError').toBeInstanceOf(CapabilityError)
    expect(error.message, 'names the endpoint').toContain('/v1/completions')
    expect(error.message, 'what it lacks').toMatch(/refused echo.*no token ids/)
    expect(error.message, 'what to do').toContain("scoring: 'generate'")
    // Decided once: the next call fails the same way without asking the server again.
    const again = await engine.scoreChoices(promptOf(items[1]!), [...MMLU_CONTINUATIONS]).catch((e) => e)
    expect(again, 'the same refusal').toBe(error)
  })

  it('llama-server personality: a multi-token choice', async () => {
    const engine = engineOn((await mockWith({ personality: 'llama-server' })).url)
    const error = await engine.scoreChoices(promptOf(items[0]!), [' A', ' B and C']).catch((e) => e)
    expect(error, 'CapabilityError').toBeInstanceOf(CapabilityError)
    expect(error.message, 'says which choice and how long').toContain(
      'choice " B and C" is 3 tokens after this prompt',
    )
  })

  it('llama-server personality: a choice that merges with the prompt end', async () => {
    const engine = engineOn((await mockWith({ personality: 'llama-server' })).url)
    const error = await engine.scoreChoices(`${promptOf(items[0]!)} `, [' A', ' B']).catch((e) => e)
    expect(error, 'CapabilityError').toBeInstanceOf(CapabilityError)
    expect(error.message, 'says so').toContain("merges with the prompt's last characters")
  })

  describe('a chat-only endpoint (no /completions: a loopback stand-in, as OpenAI chat models answer 404)', () => {
    let url: string
    let close: () => Promise<void>
    beforeAll(async () => {
      const server = createServer((req, res) => {
        req.resume()
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'not_found' } }),
        )
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
      close = () => new Promise((resolve) => server.close(() => resolve()))
    })
    afterAll(() => close())

    it('refuses, naming the endpoint and scoring: generate', async () => {
      const engine = engineOn(url, 'chat')
      const error = await engine.scoreChoices('Answer:', [' A', ' B']).catch((e) => e)
      expect(error, 'CapabilityError').toBeInstanceOf(CapabilityError)
      expect(error.message, 'message').toBe(
        `${url}/completions cannot score choices by log-likelihood: it serves no text completions (HTTP 404: no route POST /v1/completions), and a chat answer carries no prompt logprobs. Use scoring: 'generate' for this endpoint.`,
      )
    })
  })
})
