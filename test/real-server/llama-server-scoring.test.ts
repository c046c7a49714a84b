/**
 * What a real llama-server (build-llama-cpp.sh, tiny-q4_0 fixture) does about logprobs, pinned, and the
 * same pins held against the mock's llama-server personality (its stand-in in the accuracy tests):
 * - `echo: true` is accepted and ignored: the text is the generated token only, and the logprobs hold that
 *   token alone — no prompt logprobs (llama.cpp #27174);
 * - `logprobs: k` on /v1/completions lists the k most likely next tokens, each with its `id`, sorted,
 *   at most n_vocab of them (k = 1000 on a 259-token vocabulary: 259, summing to 1);
 * - `/tokenize` at the server root answers `{tokens: [id…]}`.
 * Then the openai engine's scoreChoices() on it: a CapabilityError for " A" … " D" (llama.cpp's tokenizer
 * spells " A" as "▁" in 3 byte tokens + "A" on the byte-vocab fixtures), and for "A" … "D" after a prompt
 * ending "Answer: " the next-token path, equal to node-llama-cpp's own log-likelihoods of the same file.
 *
 * Skipped with the reason without the cached build; under CI a missing build fails (as llama-server.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mmluPrompt } from '../../harness/accuracy/prompt.ts'
import { argmaxIndex } from '../../harness/accuracy/score.ts'
import { parseScenario } from '../../harness/config/index.ts'
import { createLlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { createOpenAIEngine, type OpenAIEngine } from '../../harness/engines/openai/openai.ts'
import { CapabilityError } from '../../harness/errors.ts'
import { type MockServerHandle, startMockServer } from '../../harness/mock-server/server.ts'
import { runScenario } from '../../harness/runner.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { writeMcKey } from '../helpers/mc-key.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'
import { type LlamaServer, startLlamaServer } from './llama-server.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-server first: ${tool.reason}`)

const PROMPT = mmluPrompt(
  { subject: 'tiny_facts', question: 'Which letter follows c?', choices: ['b', 'd', 'e', 'f'] },
  [{ question: 'Which letter follows a?', choices: ['b', 'c', 'd', 'e'], answer: 0 }],
)

interface Entry {
  id?: number
  token: string
  logprob: number
  top_logprobs?: Entry[]
}
interface Completion {
  choices: { text: string; logprobs: { content?: Entry[] } | null }[]
}

async function postJson<T>(url: string, body: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as T }
}

/** The pins both servers must hold; `origin` is the server root, `vocab` its n_vocab when known. */
function logprobPins(name: string, origin: () => string, vocab: () => number | undefined) {
  describe(`${name}: logprobs behaviour`, () => {
    it('echo: true is ignored: no prompt in the text, only the generated token in the logprobs', async () => {
      const { status, json } = await postJson<Completion>(`${origin()}/v1/completions`, {
        prompt: PROMPT,
        echo: true,
        logprobs: 1,
        max_tokens: 1,
        temperature: 0,
      })
      expect(status, 'accepted').toBe(200)
      const choice = json.choices[0]!
      expect(choice.text.startsWith(PROMPT), 'text does not echo the prompt').toBe(false)
      expect(choice.logprobs?.content?.length, 'one entry: the generated token').toBe(1)
      expect(choice.logprobs?.content?.[0]?.token, 'entry = the text').toBe(choice.text)
      expect(typeof choice.logprobs?.content?.[0]?.id, 'entry carries the token id').toBe('number')
    })

    it('logprobs: k lists the top next tokens with ids, sorted, capped at n_vocab', async () => {
      const { json } = await postJson<Completion>(`${origin()}/v1/completions`, {
        prompt: PROMPT,
        logprobs: 1000,
        max_tokens: 1,
        temperature: 0,
      })
      const top = json.choices[0]!.logprobs!.content![0]!.top_logprobs!
      const n = vocab()
      if (n !== undefined) expect(top.length, `k = 1000 → n_vocab (${n}) entries`).toBe(n)
      else expect(top.length, 'fewer than asked: the whole vocabulary').toBeLessThan(1000)
      expect(new Set(top.map((t) => t.id)).size, 'distinct ids').toBe(top.length)
      for (let i = 1; i < top.length; i++)
        expect(top[i]!.logprob, `sorted at ${i}`).toBeLessThanOrEqual(top[i - 1]!.logprob)
      const mass = top.reduce((s, t) => s + Math.exp(t.logprob), 0)
      expect(mass, 'a distribution: sums to ≤ 1').toBeLessThanOrEqual(1 + 1e-6)
      if (n !== undefined) expect(mass, 'the whole vocabulary sums to 1').toBeCloseTo(1, 5)
    })

    it("n_probs is an alias of logprobs; vLLM's prompt_logprobs is ignored", async () => {
      const ask = (extra: Record<string, unknown>) =>
        postJson<Completion>(`${origin()}/v1/completions`, {
          prompt: 'abc',
          max_tokens: 1,
          temperature: 0,
          ...extra,
        })
      const nProbs = (await ask({ n_probs: 3 })).json.choices[0]!.logprobs?.content
      expect(nProbs?.[0]?.top_logprobs?.length, 'n_probs: 3 → 3 alternatives').toBe(3)
      const prompt = (await ask({ prompt_logprobs: 1, logprobs: 1 })).json.choices[0]!.logprobs?.content
      expect(prompt?.length, 'prompt_logprobs: still only the generated token').toBe(1)
    })

    it('/tokenize at the root answers token ids', async () => {
      const { status, json } = await postJson<{ tokens: number[] }>(`${origin()}/tokenize`, {
        content: 'Answer: A',
        add_special: false,
      })
      expect(status, 'served').toBe(200)
      expect(json.tokens.length, 'some tokens').toBeGreaterThan(0)
      expect(
        json.tokens.every((t) => Number.isInteger(t)),
        'integer ids',
      ).toBe(true)
    })
  })
}

describe.skipIf(!tool.found)(
  `real llama-server scoring${tool.found ? '' : ` (skipped: ${tool.reason})`}`,
  () => {
    let server: LlamaServer
    let nVocab: number | undefined
    let engine: OpenAIEngine
    beforeAll(async () => {
      if (!tool.found) return
      const models = await tinyModels()
      server = await startLlamaServer({
        binary: tool.path,
        model: models.path('tiny-q4_0'),
        contextSize: 2048,
      })
      const listed = (await (await fetch(`${server.url}/models`)).json()) as {
        data: { meta?: { n_vocab?: number } }[]
      }
      nVocab = listed.data[0]?.meta?.n_vocab
      engine = createOpenAIEngine({
        baseUrl: server.url,
        model: 'tiny-q4_0',
        api: 'completions',
        client: 'http1',
      })
    }, 120_000)
    afterAll(async () => {
      await engine?.[Symbol.asyncDispose]()
      await server?.close()
    })

    logprobPins(
      'llama-server',
      () => server.origin,
      () => nVocab,
    )

    it('the same next-token logprobs at temperature 0 and 1 (the raw softmax, not the sampler’s)', async () => {
      const ask = (temperature: number) =>
        postJson<Completion>(`${server.url}/completions`, {
          prompt: PROMPT,
          logprobs: 5,
          max_tokens: 1,
          temperature,
          seed: 3,
        })
      const [cold, hot] = await Promise.all([ask(0), ask(1)])
      const top = (c: Completion) =>
        c.choices[0]!.logprobs!.content![0]!.top_logprobs!.map((t) => [t.id, t.logprob])
      expect(top(hot.json), 'same top-5').toEqual(top(cold.json))
    })

    it('scoreChoices(" A" … " D" after "Answer:"): CapabilityError, " A" is 4 tokens', async () => {
      const error = await engine.scoreChoices(PROMPT, [' A', ' B', ' C', ' D']).catch((e) => e)
      expect(error, 'CapabilityError').toBeInstanceOf(CapabilityError)
      expect(error.message, 'names the endpoint').toContain(`${server.url}/completions`)
      expect(error.message, 'which choice, how many tokens').toContain(
        'choice " A" is 4 tokens after this prompt',
      )
      expect(error.message, 'what to use').toContain("scoring: 'generate'")
    })

    // The next-byte fixture after "abc": "d" is near certain, "x" and "e" fall outside the top 20, so they
    // come back -Infinity (below the cut-off) and the argmax is still exact.
    for (const [label, prompt, choices] of [
      ['"A" … "D" after "Answer: "', `${PROMPT} `, ['A', 'B', 'C', 'D']],
      ['"d", "x", "e" after "abc"', 'abc', ['d', 'x', 'e']],
    ] as const) {
      it(`scoreChoices(${label}): next-token path, = node-llama-cpp on the same file`, async () => {
        const remote = await engine.scoreChoices(prompt, [...choices])
        expect(engine.scoreMode, 'mode').toBe('next-token')
        const native = createLlamaCppEngine({ modelPath: (await tinyModels()).path('tiny-q4_0'), threads: 1 })
        try {
          await native.start()
          const local = await native.scoreChoices!(prompt, [...choices])
          const found = remote.filter(Number.isFinite)
          expect(found.length, 'at least one choice among the top k (else the item fails)').toBeGreaterThan(0)
          expect(argmaxIndex(remote), 'the same argmax').toBe(argmaxIndex(local))
          for (let i = 0; i < choices.length; i++) {
            if (Number.isFinite(remote[i]))
              expect(
                Math.abs(remote[i]! - local[i]!),
                `${choices[i]}: ${remote[i]} vs native ${local[i]}`,
              ).toBeLessThan(1e-4)
            // -Infinity marks "below the top-k cut-off": then truly below every choice that was found.
            else
              expect(local[i]!, `${choices[i]} absent: below the found ones`).toBeLessThan(Math.min(...found))
          }
        } finally {
          await native[Symbol.asyncDispose]()
        }
      }, 60_000)
    }
    // Through the runner: lm-eval's " A" … " D" are 4 tokens each here, so `auto` scores by generation and
    // says why, and `loglik` fails the run with the same reason — never a chance-level figure.
    for (const scoring of ['auto', 'loglik'] as const) {
      it(`accuracy run, scoring ${scoring}: ${scoring === 'auto' ? 'falls back to generate, saying why' : 'refused, saying why'}`, async () => {
        const key = writeMcKey({ subjects: 2, perSubject: 3, seed: 7 })
        const notices: string[] = []
        const result = await runScenario({
          scenario: parseScenario({
            name: 'llama-server-accuracy',
            measure: ['accuracy'],
            accuracy: { dataset: key.file, shots: 1, scoring },
            targets: [
              {
                name: 'llama-server',
                engine: { kind: 'openai', baseUrl: server.url, model: 'tiny-q4_0', api: 'completions' },
              },
            ],
          }),
          baseDir: ROOT,
          sink: createMemorySink(),
          monitorEventLoop: false,
          onEvent: (e) => {
            if (e.type === 'notice') notices.push(e.message)
          },
        })
        const run = result.runs[0]
        const why = 'choice " A" is 4 tokens after this prompt'
        if (scoring === 'auto') {
          expect(run?.state, 'completed').toBe('completed')
          expect(run?.accuracy?.scoring, 'by generation').toBe('generate')
          expect(run?.accuracy?.n, 'every item scored').toBe(6)
          expect(notices.join('\n'), 'the notice says why').toContain(why)
        } else {
          expect(run?.state, 'failed').toBe('failed')
          expect(run?.error, 'the reason').toContain(why)
        }
      }, 60_000)
    }
  },
)

describe('mock llama-server personality holds the same pins', () => {
  let mock: MockServerHandle
  beforeAll(async () => {
    mock = await startMockServer(
      { personality: 'llama-server', ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } },
      { port: 0 },
    )
  })
  afterAll(() => mock.close())
  logprobPins(
    'mock llama-server',
    () => new URL(mock.url).origin,
    () => undefined,
  )
})
