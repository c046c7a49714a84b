import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ScenarioError } from '../../../harness/errors.ts'
import { createSyntheticPrompts, drawLength, loadPrompts } from '../../../harness/prompts/index.ts'
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
    expect(prompts.length, 'blank line skipped').toBe(2)
    expect(prompts[0]?.outputTokens, 'default output').toBe(33)
    expect(prompts[1]?.messages?.length, 'messages kept').toBe(2)
    expect(prompts[1]?.outputTokens, 'per-line output').toBe(9)
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
