/**
 * Quality runs through the runner on the tiny GGUF fixtures (one tokenizer): reference tiny-f32 (listed last:
 * the runner measures it first), variants Q8_0, Q4_0 and magnitude-pruned. The reference against its own
 * second pass reads KLD 0 and agreement 1; the variants order as their damage (Q8_0 < Q4_0 < pruned); the
 * stored figures are summarizeQuality of the engines' own distributions; an ONNX target against a GGUF
 * reference is refused (different token ids); bad quality configs are errors naming the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { variantRows } from '../../harness/cli/variant-table.ts'
import { parseScenario, type ScenarioInput } from '../../harness/config/index.ts'
import { createLlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { ScenarioError } from '../../harness/errors.ts'
import type { MetricRow } from '../../harness/metrics/types.ts'
import { comparePosition, type PositionComparison, summarizeQuality } from '../../harness/quality/index.ts'
import { qualityMetricRows } from '../../harness/quality/run-metrics.ts'
import { runScenario } from '../../harness/runner.ts'
import { type TinyModels, tinyModels } from '../helpers/fixture-models.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

const CONTEXT = 128
const MAX_TOKENS = 160
let dir: string
let corpus: string
let models: TinyModels

/** Seeded English-like text: ~3000 bytes, more than enough windows of 128 byte tokens. */
function corpusText(): string {
  const words = 'the of and a to in is was for on that with as by at from his her which they an are this it'
    .split(' ')
    .concat('model quantized weights layer token answer number river city music garden winter'.split(' '))
  let x = 12345
  const out: string[] = []
  for (let i = 0; i < 520; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    out.push(words[x % words.length]!)
    if (i % 11 === 10) out.push('.\n')
  }
  return out.join(' ')
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-quality-'))
  corpus = join(dir, 'corpus.txt')
  writeFileSync(corpus, corpusText())
  models = await tinyModels()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const gguf = (name: string, isolate = false) => ({
  name,
  engine: { kind: 'llama-cpp' as const, model: models.path(name), threads: 1, isolate },
})

function scenario(extra: Partial<ScenarioInput> = {}) {
  return parseScenario({
    name: 'quality-run',
    measure: ['quality'],
    quality: { corpus, reference: 'tiny-f32', maxTokens: MAX_TOKENS, contextTokens: CONTEXT },
    targets: [gguf('tiny-q8_0'), gguf('tiny-q4_0'), gguf('tiny-magprune50-f32'), gguf('tiny-f32')],
    ...extra,
  })
}

const figure = (rows: MetricRow[] | undefined, name: string) => rows?.find((r) => r.name === name)?.value

describe('quality runs on the tiny GGUF variants', () => {
  it('reference first, itself at KLD 0, variants Q8_0 < Q4_0, figures as summarizeQuality', async () => {
    const sink = createMemorySink()
    const result = await runScenario({ scenario: scenario(), baseDir: dir, sink })
    expect(result.state, result.runs.map((r) => r.error).join('; ')).toBe('completed')
    expect(
      result.runs.map((r) => r.target),
      'the reference is measured first',
    ).toEqual(['tiny-f32', 'tiny-q8_0', 'tiny-q4_0', 'tiny-magprune50-f32'])
    for (const run of sink.runs) {
      expect(run.meta.load, 'stored spec').toMatchObject({
        kind: 'quality',
        corpus: 'corpus.txt',
        reference: 'tiny-f32',
        contextTokens: CONTEXT,
        maxTokens: MAX_TOKENS,
      })
      expect(figure(run.figures, 'qualityTokens'), 'scored tokens').toBe(MAX_TOKENS)
    }
    const kld = (target: string) =>
      figure(sink.runs.find((r) => r.meta.target.name === target)?.figures, 'klDivergence')!
    const ref = sink.runs[0]!.figures
    expect(kld('tiny-f32'), 'reference vs itself').toBeLessThan(1e-6)
    expect(figure(ref, 'top1Agreement'), 'reference agrees with itself').toBe(1)
    expect(kld('tiny-q8_0'), 'Q8_0 > 0').toBeGreaterThan(0)
    expect(kld('tiny-q8_0'), 'Q8_0 < Q4_0').toBeLessThan(kld('tiny-q4_0'))
    // The tiny fixtures are built, not trained ('next-byte': the embedding → output path carries the
    // prediction), so pruning the block matrices moves the distributions less than Q8_0 does:
    // measured pruned 1.2e-5 < Q8_0 2.2e-5 < Q4_0 4.6e-3 nats (320 tokens). The order
    // Q8_0 < Q4_0 < pruned is expected of trained weights (the teacher fixtures), not of these.
    expect(kld('tiny-magprune50-f32'), 'pruned > 0').toBeGreaterThan(1e-7)
    expect(kld('tiny-magprune50-f32'), 'pruned < Q4_0 on the built fixtures').toBeLessThan(kld('tiny-q4_0'))
    // The variant table joins each target's identity (from the fixture manifest) with its quality figures.
    const table = variantRows(result.runs)
    expect(
      table.map((r) => [r[0], r[1], r[2], r[3]]),
      'target, engine, method, quant',
    ).toEqual([
      ['tiny-f32', 'llama-cpp', 'base', 'F32'],
      ['tiny-q8_0', 'llama-cpp', 'quantized', 'Q8_0'],
      ['tiny-q4_0', 'llama-cpp', 'quantized', 'Q4_0'],
      ['tiny-magprune50-f32', 'llama-cpp', 'pruned', 'F32'],
    ])
    expect(table.find((r) => r[0] === 'tiny-q4_0')?.[10], 'KLD ± SE').toMatch(/^[\d.e-]+ ± [\d.e-]+$/)
    for (const target of ['tiny-q8_0', 'tiny-q4_0', 'tiny-magprune50-f32']) {
      const rows = sink.runs.find((r) => r.meta.target.name === target)?.figures
      for (const name of ['klDivergence', 'klDivergenceSe', 'top1Agreement', 'deltaPRms', 'lnPplRatio'])
        expect(Number.isFinite(figure(rows, name)), `${target} ${name} finite`).toBe(true)
    }

    // Q4_0's figures from the engines' own windows, compared here position by position.
    const a = createLlamaCppEngine({ modelPath: models.path('tiny-f32'), threads: 1 })
    const b = createLlamaCppEngine({ modelPath: models.path('tiny-q4_0'), threads: 1 })
    await Promise.all([a.start(), b.start()])
    try {
      const text = corpusText()
      const positions: PositionComparison[] = []
      for (let w = 0; positions.length < MAX_TOKENS; w++) {
        const r = await a.tokenLogProbs!(text, { contextTokens: CONTEXT, window: w })
        const v = await b.tokenLogProbs!(text, { contextTokens: CONTEXT, window: w })
        const n = r.vocabSize
        for (let i = 0; i < r.logProbs.length / n && positions.length < MAX_TOKENS; i++)
          positions.push(
            comparePosition(
              r.logProbs.subarray(i * n, (i + 1) * n),
              v.logProbs.subarray(i * n, (i + 1) * n),
              r.tokens[r.firstScored + i + 1]!,
            ),
          )
      }
      const expected = qualityMetricRows(summarizeQuality(positions))
      expect(
        sink.runs.find((r) => r.meta.target.name === 'tiny-q4_0')?.figures,
        'stored = recomputed',
      ).toEqual(expected)
    } finally {
      await Promise.all([a[Symbol.asyncDispose](), b[Symbol.asyncDispose]()])
    }
  }, 60_000)

  it('an ONNX target against a GGUF reference is refused: the token ids differ', async () => {
    const sink = createMemorySink()
    const result = await runScenario({
      scenario: scenario({
        targets: [
          gguf('tiny-f32'),
          { name: 'onnx', engine: { kind: 'onnx', model: models.path('tiny-onnx-fp32'), isolate: false } },
        ],
      }),
      baseDir: dir,
      sink,
    })
    expect(result.state).toBe('failed')
    const onnx = result.runs.find((r) => r.target === 'onnx')!
    expect(onnx.state).toBe('failed')
    expect(onnx.error).toMatch(
      /target "onnx" tokenizes the corpus differently from reference "tiny-f32" \(window 0, position \d+: token 35 vs 229\)/,
    )
    expect(onnx.error).toMatch(/not comparable this way/)
    expect(sink.runs.find((r) => r.meta.target.name === 'onnx')?.state, 'stored failed').toBe('failed')
  }, 30_000)

  it('ONNX variants against an ONNX reference: int8 > 0, the reference at 0', async () => {
    const onnx = (name: string) => ({
      name,
      engine: { kind: 'onnx' as const, model: models.path(name), intraOpNumThreads: 1, isolate: false },
    })
    const sink = createMemorySink()
    const result = await runScenario({
      scenario: scenario({
        quality: { corpus, reference: 'tiny-onnx-fp32', maxTokens: MAX_TOKENS, contextTokens: CONTEXT },
        targets: [onnx('tiny-onnx-int8'), onnx('tiny-onnx-fp32')],
      }),
      baseDir: dir,
      sink,
    })
    expect(result.state, result.runs.map((r) => r.error).join('; ')).toBe('completed')
    const [ref, int8] = sink.runs
    expect(ref?.meta.target.name).toBe('tiny-onnx-fp32')
    expect(figure(ref?.figures, 'klDivergence'), 'reference vs itself').toBeLessThan(1e-6)
    expect(figure(int8?.figures, 'klDivergence'), 'int8 > 0').toBeGreaterThan(1e-7)
    expect(Number.isFinite(figure(int8?.figures, 'lnPplRatio')), 'finite ln PPL ratio').toBe(true)
  }, 30_000)

  it('a corpus shorter than 100 scored tokens fails the run without statistics', async () => {
    const short = join(dir, 'short.txt')
    // 8 × (14 bytes + 3 spaces × 2) + BOS = 161 tokens: 2 windows of 64, 2 × 31 = 62 scored.
    writeFileSync(short, 'a short text. '.repeat(8))
    const result = await runScenario({
      scenario: scenario({
        quality: { corpus: short, reference: 'tiny-f32', contextTokens: 64 },
        targets: [gguf('tiny-f32')],
      }),
      baseDir: dir,
      sink: createMemorySink(),
    })
    expect(result.runs[0]?.state).toBe('failed')
    expect(result.runs[0]?.error).toMatch(/62 .*100|100.*62/)
  }, 30_000)
})

describe('quality config', () => {
  const issues = (input: Partial<ScenarioInput>) => {
    try {
      parseScenario({ name: 'q', targets: [gguf('tiny-f32')], ...input })
      return ''
    } catch (err) {
      return (err as Error).message
    }
  }
  it('names the field and the fix', async () => {
    models ??= await tinyModels()
    expect(issues({ measure: ['quality'], quality: { corpus: 'c.txt', reference: 'nope' } })).toMatch(
      /quality\.reference: no target is named "nope": set reference to one of "tiny-f32"/,
    )
    expect(issues({ measure: ['quality'] })).toMatch(
      /quality: measure has 'quality' but no quality measurement/,
    )
    expect(
      issues({
        quality: { corpus: 'c.txt', reference: 'tiny-f32' },
        measure: ['latency'],
        prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
        loads: [{ kind: 'sequential', requests: 1 }],
      }),
    ).toMatch(/measure: quality is described but not measured/)
    // An endpoint gives top-k lists (harness/quality/README.md "Endpoints"): a target, never the reference.
    expect(
      issues({
        measure: ['quality'],
        quality: { corpus: 'c.txt', reference: 'api' },
        targets: [
          gguf('tiny-f32'),
          { name: 'api', engine: { kind: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' } },
        ],
      }),
    ).toMatch(/(targets\.1\.engine\.kind|targets\[1\]\.engine\.kind).*make a native target the reference/)
  })
  it('a missing corpus is a ScenarioError naming quality.corpus before any target starts', async () => {
    const run = runScenario({
      scenario: scenario({ quality: { corpus: 'missing.txt', reference: 'tiny-f32' } }),
      baseDir: dir,
      source: 'q.ts',
      sink: createMemorySink(),
      createEngine: () => {
        throw new Error('no target may start')
      },
    })
    await expect(run).rejects.toBeInstanceOf(ScenarioError)
    await expect(run).rejects.toThrow(/quality\.corpus: .*missing\.txt: no such file/)
  })
})
