import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ScenarioError } from '../../../harness/errors.ts'
import {
  createSyntheticPrompts,
  drawLength,
  loadPrompts,
  syntheticPromptSource,
} from '../../../harness/prompts/index.ts'
import { createRandom } from '../../../harness/random.ts'

describe('synthetic prompts', () => {
  it('are deterministic by seed and have the requested word counts', () => {
    const a = createSyntheticPrompts({ promptTokens: 12, outputTokens: 7, count: 5, seed: 3 })
    const b = createSyntheticPrompts({ promptTokens: 12, outputTokens: 7, count: 5, seed: 3 })
    const c = createSyntheticPrompts({ promptTokens: 12, outputTokens: 7, count: 5, seed: 4 })
    expect(a, 'same seed').toEqual(b)
    expect(
      a.map((p) => p.prompt),
      'other seed',
    ).not.toEqual(c.map((p) => p.prompt))
    for (const p of a) {
      expect(p.prompt.split(' ').length, 'words = promptTokens').toBe(12)
      expect(p.promptTokens, 'promptTokens').toBe(12)
      expect(p.outputTokens, 'outputTokens').toBe(7)
    }
    expect(
      a.map((p) => p.index),
      'indices',
    ).toEqual([0, 1, 2, 3, 4])
  })

  it('are new in every run (salt) with the same lengths in the same order; distinct within a run', () => {
    const source = syntheticPromptSource({
      promptTokens: { mean: 20, sd: 6, min: 4 },
      outputTokens: { mean: 10, sd: 3, min: 1 },
      seed: 9,
    })
    const run = (salt: number) => Array.from({ length: 50 }, (_, k) => source.at(k, salt))
    const [a, b] = [run(1), run(2)]
    expect(source.distinct, 'never repeats').toBeUndefined()
    expect(new Set(a.map((p) => p.prompt)).size, 'no prompt repeats within a run').toBe(50)
    expect(
      a.map((p) => [p.promptTokens, p.outputTokens]),
      'lengths by position',
    ).toEqual(b.map((p) => [p.promptTokens, p.outputTokens]))
    for (let k = 0; k < 50; k++)
      expect(a[k]!.prompt, `text of request ${k} differs between runs`).not.toBe(b[k]!.prompt)
    expect(source.at(7, 1), 'deterministic for a position and salt').toEqual(a[7])
  })

  it('count repeats the same text in order whatever the salt', () => {
    const source = syntheticPromptSource({ promptTokens: 8, outputTokens: 4, count: 3, seed: 9 })
    expect(source.distinct, 'distinct').toBe(3)
    expect(source.at(4, 1), 'position 4 = prompt 1').toEqual(source.at(1, 2))
    expect(source.at(4, 1).index, 'index').toBe(1)
  })

  it('sharedPrefixTokens: every prompt starts with the same words, then its own', () => {
    const source = syntheticPromptSource({
      promptTokens: 12,
      outputTokens: 4,
      sharedPrefixTokens: 5,
      seed: 9,
    })
    const prompts = Array.from({ length: 20 }, (_, k) => source.at(k, 3).prompt.split(' '))
    const prefix = prompts[0]!.slice(0, 5).join(' ')
    for (const words of prompts) {
      expect(words.length, 'length').toBe(12)
      expect(words.slice(0, 5).join(' '), 'shared prefix').toBe(prefix)
    }
    expect(new Set(prompts.map((w) => w.slice(5).join(' '))).size, 'own suffixes').toBe(20)
  })

  it('draws normal lengths, rounded and clamped', () => {
    const random = createRandom(1)
    const draws = Array.from({ length: 2000 }, () =>
      drawLength({ mean: 100, sd: 20, min: 90, max: 130 }, random),
    )
    expect(Math.min(...draws), 'min clamp').toBe(90)
    expect(Math.max(...draws), 'max clamp').toBe(130)
    expect(draws.every(Number.isInteger), 'integers').toBe(true)
    expect(drawLength(5, random), 'fixed').toBe(5)
    const free = Array.from({ length: 4000 }, () => drawLength({ mean: 100, sd: 10 }, random))
    const mean = free.reduce((s, v) => s + v, 0) / free.length
    expect(Math.abs(mean - 100), 'mean within 1').toBeLessThan(1)
  })
})

describe('JSONL prompts', () => {
  it('reads prompts and messages relative to the scenario directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-jsonl-'))
    await writeFile(
      path.join(dir, 'p.jsonl'),
      [
        JSON.stringify({ prompt: 'hello world' }),
        '',
        JSON.stringify({
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: 'hi' },
          ],
          outputTokens: 9,
        }),
      ].join('\r\n'),
    )
    const prompts = await loadPrompts(
      { kind: 'jsonl', path: 'p.jsonl', outputTokens: 33 },
      { seed: 1, baseDir: dir },
    )
    expect(prompts.distinct, 'blank line skipped').toBe(2)
    expect(prompts.at(0).outputTokens, 'default output').toBe(33)
    expect(prompts.at(1).messages?.length, 'messages kept').toBe(2)
    expect(prompts.at(1).outputTokens, 'per-line output').toBe(9)
    expect(prompts.at(2), 'the file repeats in order').toEqual(prompts.at(0))
  })

  it('reports every bad line at once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-jsonl-'))
    await writeFile(
      path.join(dir, 'bad.jsonl'),
      ['{"prompt": "ok"}', '{not json', '{"outputTokens": 3}', '{"prompt": "x", "outputTokens": -1}'].join(
        '\n',
      ),
    )
    const err = await loadPrompts(
      { kind: 'jsonl', path: 'bad.jsonl', outputTokens: 8 },
      { seed: 1, baseDir: dir },
    ).catch((e: unknown) => e)
    if (!(err instanceof ScenarioError)) return expect.unreachable(String(err))
    expect(
      err.issues.map((i) => i.path),
      'paths',
    ).toEqual(['line 2', 'line 3', 'line 4.outputTokens'])
  })
})
