/**
 * Quality runs through the runner on fake engines whose distributions are made here (seeded logits plus
 * noise of a chosen size): the reference goes first and reads KLD 0 against itself, more noise reads more
 * KLD, and the refusals — a reference that failed to start, a reference too large for memory, another
 * vocabulary — fail the runs with their reasons. The real engines: test/engines/quality-run.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import type { Engine, TokenLogProbs, TokenLogProbsOptions } from '../../../harness/engines/engine.ts'
import { collectReference, compareWithReference, logSoftmax } from '../../../harness/quality/index.ts'
import { runScenario } from '../../../harness/runner.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

interface Fake {
  vocab: number
  /** Size of the noise added to the shared logits. */
  noise: number
  fail?: string
}

function fakeEngine(name: string, f: Fake): Engine {
  let seed = 7
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31 - 0.5
  }
  return {
    info: {
      kind: 'llama-cpp',
      model: `${name}.gguf`,
      capabilities: {
        logprobs: true,
        scoreChoices: false,
        tokenize: true,
        memory: false,
        draft: false,
        tokenLogProbs: true,
      },
    },
    async start() {
      if (f.fail) throw new Error(f.fail)
    },
    generate() {
      throw new Error('not used')
    },
    async tokenLogProbs(text: string, o: TokenLogProbsOptions): Promise<TokenLogProbs> {
      const all = [1, ...Array.from(text, (c) => (c.charCodeAt(0) % 47) + 3)]
      const windows = Math.floor(all.length / o.contextTokens)
      if (o.window >= windows) throw new Error(`window ${o.window} past ${windows}`)
      const firstScored = Math.floor(o.contextTokens / 2)
      const rows = o.contextTokens - 1 - firstScored
      // A vocabulary too large to fill: the reference's size check needs only vocabSize.
      const logProbs = new Float32Array(f.vocab > 100_000 ? 0 : rows * f.vocab)
      for (let r = 0; r < rows && f.vocab <= 100_000; r++) {
        const logits = Array.from(
          { length: f.vocab },
          (_, v) => 3 * Math.sin(v * (r + 1 + o.window)) + f.noise * random(),
        )
        logProbs.set(logSoftmax(logits), r * f.vocab)
      }
      return {
        tokens: all.slice(o.window * o.contextTokens, (o.window + 1) * o.contextTokens),
        windows,
        firstScored,
        vocabSize: f.vocab,
        logProbs,
      }
    },
    async [Symbol.asyncDispose]() {},
  }
}

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-quality-unit-'))
  writeFileSync(join(dir, 'corpus.txt'), 'abcdefghij klmnopqrst uvwxyz. '.repeat(20))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run(fakes: Record<string, Fake>, reference = 'ref', maxTokens = 140) {
  const sink = createMemorySink()
  const result = await runScenario({
    scenario: parseScenario({
      name: 'quality-unit',
      measure: ['quality'],
      quality: { corpus: 'corpus.txt', reference, maxTokens, contextTokens: 16 },
      targets: Object.keys(fakes).map((name) => ({
        name,
        engine: { kind: 'llama-cpp', model: `${name}.gguf`, isolate: false },
      })),
    }),
    baseDir: dir,
    sink,
    createEngine: async (t) => ({
      engine: fakeEngine(t.name, fakes[t.name]!),
      storedOptions: {},
      dispose: async () => {},
    }),
  })
  const kld = (target: string) =>
    sink.runs.find((r) => r.meta.target.name === target)?.figures?.find((f) => f.name === 'klDivergence')
      ?.value
  return { result, sink, kld }
}

describe('quality runs on made-up distributions', () => {
  it('the reference first and at 0 against itself; more noise, more KLD; 140 tokens in windows of 7', async () => {
    const { result, kld, sink } = await run({
      big: { vocab: 50, noise: 1 },
      ref: { vocab: 50, noise: 0 },
      small: { vocab: 50, noise: 0.1 },
    })
    expect(result.state, result.runs.map((r) => r.error).join('; ')).toBe('completed')
    expect(
      result.runs.map((r) => r.target),
      'reference first',
    ).toEqual(['ref', 'big', 'small'])
    expect(kld('ref'), 'reference vs itself').toBe(0)
    expect(kld('small'), 'noise 0.1 > 0').toBeGreaterThan(0)
    expect(kld('small'), 'noise 0.1 < noise 1').toBeLessThan(kld('big')!)
    expect(result.runs[0]?.quality?.summary.count, '140 = 20 windows × 7').toBe(140)
    const hashes = new Set(sink.runs.map((r) => r.meta.scenario.hash))
    expect(hashes.size, 'one spec, one hash').toBe(1)
  })

  it('a reference that failed to start fails every quality run, saying so', async () => {
    const { result } = await run({ ref: { vocab: 50, noise: 0, fail: 'boom' }, v: { vocab: 50, noise: 0.1 } })
    expect(result.state).toBe('failed')
    const v = result.runs.find((r) => r.target === 'v' && r.load.kind === 'quality')!
    expect(v.state).toBe('failed')
    expect(v.error).toMatch(
      /no distributions of reference target "ref" to compare with \(reference target "ref" failed to start: .*boom\)/,
    )
  })

  it('a reference larger than REFERENCE_MAX_BYTES is refused with the largest maxTokens that fits', async () => {
    const { result } = await run(
      { ref: { vocab: 40_000_000, noise: 0 }, v: { vocab: 40_000_000, noise: 0 } },
      'ref',
      2048,
    )
    const [ref, v] = result.runs
    expect(ref?.state).toBe('failed')
    // The corpus holds 37 windows of 16 (7 scored each) = 259 tokens < 2048: 259 × 40 M × 4 bytes = 39520 MiB;
    // 32 GiB / 160 MB = 214 tokens.
    expect(ref?.error).toMatch(
      /would take 39520 MiB \(259 tokens × 40000000-token vocabulary × 4 bytes\), more than 32768 MiB: set quality\.maxTokens to at most 214/,
    )
    expect(v?.error).toMatch(/no distributions of reference target "ref"/)
  })

  it('a reference over memoryBytes goes to a temporary file: the same figures, the file removed by dispose()', async () => {
    const text = readFileSync(join(dir, 'corpus.txt'), 'utf8')
    const spec = { contextTokens: 16, maxTokens: 140 }
    const inMemory = await collectReference(fakeEngine('ref', { vocab: 50, noise: 0 }), 'ref', text, spec)
    const onDisk = await collectReference(
      fakeEngine('ref', { vocab: 50, noise: 0 }),
      'ref',
      text,
      spec,
      undefined,
      {
        memoryBytes: 1,
      },
    )
    expect(inMemory.file, 'small: in memory').toBeUndefined()
    expect(onDisk.file && existsSync(onDisk.file), 'over memoryBytes: a file').toBe(true)
    expect(onDisk.windows[0]?.logProbs, 'no rows in memory').toBeUndefined()
    const compare = (reference: typeof inMemory) =>
      compareWithReference(fakeEngine('v', { vocab: 50, noise: 0.3 }), 'v', text, 16, reference)
    expect(await compare(onDisk), 'same comparisons').toEqual(await compare(inMemory))
    const file = onDisk.file!
    onDisk.dispose()
    expect(existsSync(file), 'removed').toBe(false)
  })

  it('another vocabulary is refused', async () => {
    const { result } = await run({ ref: { vocab: 50, noise: 0 }, other: { vocab: 60, noise: 0 } })
    expect(result.runs[1]?.error).toMatch(/target "other" has a 60-token vocabulary, reference "ref" 50/)
  })
})
