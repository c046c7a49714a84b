/**
 * The mock's `answers` option: validation names the field, the key is loaded with harness/accuracy's
 * loaders (MMLU CSV directory or JSONL), the item is recognized in an lm-eval prompt, and the vllm
 * personality's echo answers the prompt's tokens with vLLM's legacy arrays.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { mmluPrompt } from '../../../harness/accuracy/prompt.ts'
import { loadAnswerKey } from '../../../harness/mock-server/answers.ts'
import { MockOptionsError, parseMockOptions } from '../../../harness/mock-server/parse-options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../../harness/mock-server/worker.ts'
import { writeMcKey } from '../../helpers/mc-key.ts'

const FAST = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const
const servers: MockServerHandle[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn()
  } catch (error) {
    if (error instanceof MockOptionsError) return error.issues
    throw error
  }
  throw new Error('no error')
}

describe('answers option validation', () => {
  it('p outside 0..1 and a missing key are named by field', () => {
    const issues = issuesOf(() => parseMockOptions({ answers: { p: 1.5 } }))
    expect(
      issues.map((i) => i.path),
      'both fields',
    ).toEqual(['answers.p', 'answers.key'])
  })

  it('a key that cannot be loaded fails start-up naming answers.key and the loader’s reason', async () => {
    const missing = join(tmpdir(), 'bench-no-such-key.jsonl')
    const error = await startMockServer({ answers: { p: 0.5, key: missing } }, { port: 0 }).catch((e) => e)
    expect(error, 'MockOptionsError').toBeInstanceOf(MockOptionsError)
    expect(error.issues[0].path, 'field').toBe('answers.key')
    expect(error.message, 'the path').toContain(missing)
  })

  it('in a worker thread (a scenario’s mock:) the same error reaches the caller, naming answers.key', async () => {
    const missing = join(tmpdir(), 'bench-no-such-key.jsonl')
    const error = await startMockServerInWorker({ answers: { p: 0.5, key: missing } }).catch((e) => e)
    expect(error.message, 'field and path').toMatch(/answers\.key: .*bench-no-such-key\.jsonl/)
  })

  it('a bad row of the key is the loader’s DatasetError (file and line), under answers.key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-bad-key-'))
    const file = join(dir, 'key.jsonl')
    writeFileSync(file, '{"subject": "s", "question": "q", "choices": ["a", "b"]}\n')
    const error = await startMockServer({ answers: { p: 0.5, key: file } }, { port: 0 }).catch((e) => e)
    expect(error.issues?.[0]?.path, 'field').toBe('answers.key')
    expect(error.message, 'file:line').toContain(`${file}:1`)
  })
})

describe('answer key', () => {
  it('loads an MMLU CSV directory and finds the item of a 1-shot prompt; p = 1 answers right, p = 0 never', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-mmlu-key-'))
    for (const split of ['dev', 'test']) mkdirSync(join(dir, split))
    writeFileSync(join(dir, 'dev', 'astro_dev.csv'), 'Shot?,a,b,c,d,A\n')
    writeFileSync(
      join(dir, 'test', 'astro_test.csv'),
      '"Which, with a comma?",w,x,y,z,C\nSecond?,1,2,3,4,D\n',
    )
    const right = await loadAnswerKey({ p: 1, key: dir }, 1)
    const wrong = await loadAnswerKey({ p: 0, key: dir }, 1)
    const shot = { question: 'Shot?', choices: ['a', 'b', 'c', 'd'], answer: 0 }
    const prompt = mmluPrompt(
      { subject: 'astro', question: 'Which, with a comma?', choices: ['w', 'x', 'y', 'z'] },
      [shot],
    )
    const found = right.find(prompt)
    expect(found?.item.id, 'the item').toBe('astro/test/0')
    expect(found?.end, 'ends at the prompt end').toBe(prompt.length)
    expect(right.choose(found!.item), 'p = 1: C').toBe(2)
    expect(wrong.choose(found!.item), 'p = 0: not C').not.toBe(2)
    expect(right.find(`${prompt} C`)?.item.id, 'also with the choice after it (echo)').toBe('astro/test/0')
    expect(right.find('Unknown?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:'), 'unknown item').toBeUndefined()
  })

  it('wrong answers are spread over the other letters', async () => {
    const key = writeMcKey({ subjects: 1, perSubject: 400, seed: 2 })
    const never = await loadAnswerKey({ p: 0, key: key.file, seed: 3 }, 1)
    const offsets = [0, 0, 0, 0]
    for (const item of key.dataset.test) offsets[(never.choose(item) - item.answer + 4) % 4]!++
    expect(offsets[0], 'never right').toBe(0)
    // 400 draws over 3 offsets: each ~133; 90 is more than 5 sd below.
    for (const k of [1, 2, 3]) expect(offsets[k], `offset ${k}`).toBeGreaterThan(90)
  })
})

describe('llama-server personality /tokenize', () => {
  it('answers the mock tokens and asks for the API key as the real one does', async () => {
    const server = await startMockServer(
      { ...FAST, personality: 'llama-server', apiKey: 'sk-t' },
      { port: 0 },
    )
    servers.push(server)
    const tokenize = (headers: Record<string, string>) =>
      fetch(`${new URL(server.url).origin}/tokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ content: 'Answer: B', with_pieces: true }),
      })
    expect((await tokenize({})).status, 'no key: 401').toBe(401)
    const body = (await (await tokenize({ authorization: 'Bearer sk-t' })).json()) as {
      tokens: { id: number; piece: string }[]
    }
    expect(
      body.tokens.map((t) => t.piece),
      'a word with the whitespace before it',
    ).toEqual(['Answer:', ' B'])
  })
})

describe('vllm personality echo', () => {
  it('text and legacy logprobs start with the prompt; the chosen letter after Answer: is ln 0.6', async () => {
    const key = writeMcKey({ subjects: 1, perSubject: 3, seed: 4 })
    const server = await startMockServer(
      { ...FAST, personality: 'vllm', answers: { p: 1, key: key.file } },
      { port: 0 },
    )
    servers.push(server)
    const item = key.dataset.test[0]!
    const prompt = mmluPrompt(item, [])
    const letter = 'ABCD'[item.answer]!
    const response = await fetch(`${server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: `${prompt} ${letter}`, echo: true, logprobs: 1, max_tokens: 1 }),
    })
    const body = (await response.json()) as {
      choices: {
        text: string
        logprobs: { tokens: string[]; token_logprobs: (number | null)[]; text_offset: number[] }
      }[]
    }
    const { text, logprobs } = body.choices[0]!
    expect(text.startsWith(`${prompt} ${letter}`), 'echoed').toBe(true)
    expect(logprobs.token_logprobs[0], 'first token: null').toBeNull()
    expect(logprobs.tokens.join(''), 'tokens spell the text').toBe(text)
    const at = logprobs.text_offset.indexOf(prompt.length)
    expect(logprobs.tokens[at], 'the letter token').toBe(` ${letter}`)
    expect(logprobs.token_logprobs[at], 'ln 0.6').toBeCloseTo(Math.log(0.6), 12)
    expect(logprobs.tokens.length, 'prompt tokens + 1 generated').toBe(logprobs.text_offset.length)
  })

  it('the default personality still refuses echo (400 naming it)', async () => {
    const server = await startMockServer(FAST, { port: 0 })
    servers.push(server)
    const response = await fetch(`${server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', echo: true, max_tokens: 1 }),
    })
    expect(response.status, '400').toBe(400)
    expect(((await response.json()) as { error: { param: string } }).error.param, 'param').toBe('echo')
  })
})
