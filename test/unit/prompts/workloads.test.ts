/** Issue 18 item 5: shared-prefix groups of synthetic prompts and ShareGPT conversations as a prompt source. */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'
import { loadPrompts, readShareGptPrompts, syntheticPromptSource } from '../../../harness/prompts/index.ts'

const words = (s: string) => s.split(' ')

describe('shared-prefix synthetic prompts', () => {
  const options = {
    promptTokens: { mean: 30, sd: 8, min: 2 },
    outputTokens: 4,
    sharedPrefix: { prefixes: 3, prefixTokens: 10 },
    seed: 5,
  }

  it('start request i with prefix i mod N, shared within the run, with a suffix of its own', () => {
    const source = syntheticPromptSource(options)
    const prompts = Array.from({ length: 12 }, (_, i) => source.at(i, 7))
    const prefixes = prompts.map((p) => words(p.prompt).slice(0, 10).join(' '))
    const suffixes = prompts.map((p) => words(p.prompt).slice(10).join(' '))
    for (const [i, p] of prompts.entries()) {
      expect(prefixes[i], `request ${i} has group ${i % 3}'s prefix`).toBe(prefixes[i % 3])
      expect(words(p.prompt).length, `request ${i}: promptTokens words`).toBe(p.promptTokens)
      expect(p.promptTokens, `request ${i}: prefix + at least one word`).toBeGreaterThanOrEqual(11)
    }
    expect(new Set(prefixes.slice(0, 3)).size, 'three distinct prefixes').toBe(3)
    expect(new Set(suffixes).size, 'every suffix its own').toBe(12)
  })

  it('are deterministic for a seed and run salt; another run gets other prefixes, the same lengths', () => {
    const a = syntheticPromptSource(options)
    const b = syntheticPromptSource(options)
    const run1 = Array.from({ length: 6 }, (_, i) => a.at(i, 7))
    expect(
      Array.from({ length: 6 }, (_, i) => b.at(i, 7)),
      'same seed and salt',
    ).toEqual(run1)
    const run2 = Array.from({ length: 6 }, (_, i) => a.at(i, 8))
    expect(
      run2.map((p) => p.promptTokens),
      'same lengths',
    ).toEqual(run1.map((p) => p.promptTokens))
    expect(words(run2[0]?.prompt ?? '').slice(0, 10), 'new prefix').not.toEqual(
      words(run1[0]?.prompt ?? '').slice(0, 10),
    )
    const otherSeed = syntheticPromptSource({ ...options, seed: 6 }).at(0, 7)
    expect(otherSeed.prompt, 'other seed').not.toBe(run1[0]?.prompt)
  })

  it('schema: names the field, refuses it beside sharedPrefixTokens', () => {
    const base = {
      name: 's',
      targets: [{ name: 'm', engine: { kind: 'openai', model: 'm', mock: {} } }],
      loads: [{ kind: 'sequential', requests: 1 }],
    }
    const issues = (prompts: unknown) => {
      try {
        parseScenario({ ...base, prompts })
        return []
      } catch (e) {
        return (e as ScenarioError).issues.map((i) => `${i.path}: ${i.message}`)
      }
    }
    const p = { kind: 'synthetic', promptTokens: 8, outputTokens: 2 }
    expect(issues({ ...p, sharedPrefix: { prefixes: 2, prefixTokens: 4 } }), 'valid').toEqual([])
    expect(issues({ ...p, sharedPrefix: { prefixes: 0, prefixTokens: 4, suffix: 1 } }), 'bad').toEqual([
      'prompts.sharedPrefix.prefixes: must be > 0, got 0',
      'prompts.sharedPrefix.suffix: unknown field "suffix"; remove it or check its spelling',
    ])
    expect(issues({ kind: 'sharegpt', path: 'sg.json', turns: 'some' }), 'sharegpt turns').toEqual([
      expect.stringMatching(/^prompts\.turns: .*"first".*"all"/),
    ])
    expect(issues({ kind: 'sharegpt', turns: 'all', outputTokens: 0 }), 'sharegpt fields').toEqual([
      expect.stringMatching(/^prompts\.path: /),
      'prompts.outputTokens: must be > 0, got 0',
    ])
    expect(
      issues({ ...p, sharedPrefixTokens: 3, sharedPrefix: { prefixes: 2, prefixTokens: 4 } }),
      'both',
    ).toEqual([
      'prompts.sharedPrefix: give sharedPrefix (N groups) or sharedPrefixTokens (one prefix for all), not both',
    ])
  })
})

async function file(name: string, content: unknown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-sharegpt-'))
  const f = path.join(dir, name)
  await writeFile(f, typeof content === 'string' ? content : JSON.stringify(content))
  return f
}

const conversations = [
  {
    id: 'a',
    conversations: [
      { from: 'system', value: 'Be brief.' },
      { from: 'human', value: 'What is a cache?' },
      { from: 'gpt', value: 'A store of recent results.' },
      { from: 'human', value: 'And a prefix cache?' },
      { from: 'gpt', value: 'Reused attention state for a shared prompt start.' },
    ],
  },
  { id: 'empty', conversations: [] },
  { conversations: [{ from: 'gpt', value: 'unprompted' }] },
  {
    conversations: [
      { from: 'human', value: 'Hi' },
      { from: 'gpt', value: '' },
    ],
  },
]

describe('ShareGPT prompts', () => {
  it("turns 'first': the first answered human turn, messages up to it, output = answer words", async () => {
    const f = await file('sg.json', conversations)
    const prompts = await readShareGptPrompts(f, { turns: 'first' })
    expect(prompts, 'first turns').toEqual([
      {
        index: 0,
        prompt: 'What is a cache?',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'What is a cache?' },
        ],
        outputTokens: 5,
      },
      { index: 1, prompt: 'Hi', messages: [{ role: 'user', content: 'Hi' }], outputTokens: 1 },
    ])
  })

  it("turns 'all': every answered human turn with the conversation before it; a fixed outputTokens wins", async () => {
    const f = await file('sg.json', conversations)
    const prompts = await readShareGptPrompts(f, { turns: 'all', outputTokens: 16 })
    expect(
      prompts.map((p) => [p.prompt, p.messages?.map((m) => m.role).join(','), p.outputTokens]),
      'all turns',
    ).toEqual([
      ['What is a cache?', 'system,user', 16],
      ['And a prefix cache?', 'system,user,assistant,user', 16],
      ['Hi', 'user', 16],
    ])
    const source = await loadPrompts({ kind: 'sharegpt', path: f, turns: 'all' }, { seed: 1, baseDir: '/' })
    expect(source.distinct, 'distinct').toBe(3)
    expect(source.at(4).prompt, 'repeats in order').toBe('And a prefix cache?')
  })

  it('bad entries: an error naming the file and each index', async () => {
    const f = await file('bad.json', [
      conversations[0],
      { conversation: [] },
      'text',
      { conversations: [{ from: 'user', value: 'x' }, { from: 'gpt', value: 3 }, null] },
    ])
    const error = await readShareGptPrompts(f, { turns: 'first' }).catch((e: unknown) => e)
    expect(error, 'ScenarioError').toBeInstanceOf(ScenarioError)
    expect((error as ScenarioError).message, 'names the file').toContain(f)
    expect(
      (error as ScenarioError).issues.map((i) => `${i.path}: ${i.message}`),
      'issues',
    ).toEqual([
      '[1].conversations: give an array of { "from", "value" } turns',
      '[2].conversations: give an array of { "from", "value" } turns',
      '[3].conversations[0].from: got "user"; use "human", "gpt" or "system"',
      '[3].conversations[1].value: give the turn text as a string',
      '[3].conversations[2]: a turn is { "from", "value" }',
    ])
    const notArray = await readShareGptPrompts(await file('o.json', { conversations: [] }), {
      turns: 'first',
    }).catch((e: unknown) => e as ScenarioError)
    expect((notArray as ScenarioError).issues[0]?.message, 'not an array').toMatch(/JSON array/)
    const none = await readShareGptPrompts(await file('n.json', [conversations[1]]), {
      turns: 'first',
    }).catch((e: unknown) => e as ScenarioError)
    expect((none as ScenarioError).issues[0]?.message, 'nothing usable').toMatch(
      /no conversation has a human turn/,
    )
    const broken = await readShareGptPrompts(await file('b.json', '[{'), { turns: 'first' }).catch(
      (e: unknown) => e as ScenarioError,
    )
    expect((broken as ScenarioError).issues[0]?.path, 'bad JSON names the field').toBe('prompts.path')
  })
})
