/**
 * `bench run` with `measure: ['quality']` on endpoint targets: the mock's vllm personality backed by the
 * teacher fixtures (llama-cpp engine inside the mock, harness/quality/mock-model.ts) against the native
 * teacher-f32 reference. The endpoint path must agree with the native path on the same files:
 * - the same model behind the endpoint reads KLD exactly 0 and top-1 agreement 1;
 * - teacher-q8_0 behind the endpoint, by compareTopK over k = 20 of the 259-token vocabulary, lies within
 *   ENDPOINT_KLD_TOLERANCE (relative) of the native teacher-q8_0's full-distribution KLD; top-1 agreement
 *   and Δp RMS are equal (the next token's ln p comes with the lists, the top token is in them);
 * - the endpoint runs are stored like native ones plus `qualityTopK` = 20 (approximate), the native runs
 *   without it, and the variant table shows both.
 * An endpoint with another tokenizer (teacher-onnx-fp32's byte tokenizer) is refused naming the position; a
 * scenario whose reference is an endpoint is invalid (the reference must give full distributions).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { qualityRows } from '../../../harness/cli/format.ts'
import { variantRows } from '../../../harness/cli/variant-table.ts'
import { parseScenario } from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'
import { generateFixtures } from '../../../harness/fixtures/generate.ts'
import { buildKnowledgeSet, corpusText } from '../../../harness/fixtures/knowledge/index.ts'
import type { MetricRow } from '../../../harness/metrics/types.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { createEngineLogprobsModel } from '../../../harness/quality/mock-model.ts'
import { runScenario } from '../../../harness/runner.ts'
import { TEST_MODELS_DIR } from '../../helpers/fixture-models.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

/**
 * Largest relative difference accepted between the endpoint's top-20 KLD and the native full KLD of
 * teacher-q8_0 vs teacher-f32. Measured −0.3 % over 2048 tokens (2.839e-4 vs 2.849e-4 nats; Q4_0 −1.0 %,
 * harness/quality/README.md "Endpoints"): what the top 20 of 259 leave out is below 1e-6 of the mass at
 * most positions.
 */
const ENDPOINT_KLD_TOLERANCE = 0.02
const CONTEXT = 64
/** 4 windows × 31 scored positions: above the 100 that give statistics. */
const MAX_TOKENS = 124

let dir: string
const closers: (() => PromiseLike<void>)[] = []
const model = (name: string) => join(TEST_MODELS_DIR, `${name}.gguf`)

async function modelEndpoint(
  name: string,
  kind: 'llama-cpp' | 'onnx' = 'llama-cpp',
): Promise<MockServerHandle> {
  const modelPath = kind === 'onnx' ? join(TEST_MODELS_DIR, `${name}.onnx`) : model(name)
  const logprobsModel = await createEngineLogprobsModel({ kind, modelPath })
  closers.push(() => logprobsModel[Symbol.asyncDispose]())
  const mock = await startMockServer({ personality: 'vllm', model: name }, {}, { logprobsModel })
  closers.push(() => mock.close())
  return mock
}

const native = (name: string) => ({
  name,
  engine: { kind: 'llama-cpp' as const, model: model(name), threads: 1, isolate: false },
})
const endpoint = (name: string, mock: MockServerHandle) => ({
  name,
  engine: { kind: 'openai' as const, baseUrl: mock.url, model: name, api: 'completions' as const },
})

let endpoints: Record<'f32' | 'q8' | 'onnx', MockServerHandle>
beforeAll(async () => {
  await generateFixtures({ outDir: TEST_MODELS_DIR, sizes: ['teacher'] })
  // The model-backed mocks (an engine and a tokenizer each) load here, in parallel, under the hook's bound.
  const [f32, q8, onnx] = await Promise.all([
    modelEndpoint('teacher-f32'),
    modelEndpoint('teacher-q8_0'),
    modelEndpoint('teacher-onnx-fp32', 'onnx'),
  ])
  endpoints = { f32, q8, onnx }
  dir = mkdtempSync(join(tmpdir(), 'bench-endpoint-quality-'))
  writeFileSync(join(dir, 'corpus.txt'), corpusText(buildKnowledgeSet(42).documents).slice(0, 4000))
})
afterAll(async () => {
  for (const close of closers.reverse()) await close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const figure = (rows: MetricRow[] | undefined, name: string) => rows?.find((r) => r.name === name)?.value

describe('quality of endpoints backed by the teacher fixtures', () => {
  // Two native teacher loads in the runner plus the comparisons: ~1.5 s of CPU, but over 30 s of wall on a
  // 2-core box at load 20, hence the bound.
  it('agrees with the native path: same model KLD 0, Q8_0 within tolerance, approximate stored', {
    timeout: 120_000,
  }, async () => {
    const { f32, q8, onnx } = endpoints
    const sink = createMemorySink()
    const result = await runScenario({
      scenario: parseScenario({
        name: 'endpoint-quality',
        measure: ['quality'],
        quality: {
          corpus: 'corpus.txt',
          reference: 'teacher-f32',
          contextTokens: CONTEXT,
          maxTokens: MAX_TOKENS,
        },
        targets: [
          native('teacher-q8_0'),
          endpoint('vllm-teacher-f32', f32),
          endpoint('vllm-teacher-q8_0', q8),
          endpoint('vllm-teacher-onnx', onnx),
          native('teacher-f32'),
        ],
      }),
      baseDir: dir,
      sink,
    })
    const state = (target: string) => result.runs.find((r) => r.target === target)
    for (const target of ['teacher-f32', 'teacher-q8_0', 'vllm-teacher-f32', 'vllm-teacher-q8_0'])
      expect(state(target)?.state, `${target}: ${state(target)?.error}`).toBe('completed')
    // The same weights behind an ONNX byte tokenizer (a space is 0x20, llama.cpp's GGUF spells it "▁"): not
    // the reference's token ids, so refused, never compared.
    expect(state('vllm-teacher-onnx')?.state).toBe('failed')
    expect(state('vllm-teacher-onnx')?.error).toMatch(
      /target "vllm-teacher-onnx" tokenizes the corpus differently from reference "teacher-f32" \(window 0, position \d+: token \d+ from the endpoint's \/tokenize vs \d+\)/,
    )
    const rows = (target: string) => sink.runs.find((r) => r.meta.target.name === target)?.figures
    for (const target of ['teacher-f32', 'teacher-q8_0', 'vllm-teacher-f32', 'vllm-teacher-q8_0'])
      expect(figure(rows(target), 'qualityTokens'), `${target}: scored tokens`).toBe(MAX_TOKENS)

    expect(figure(rows('vllm-teacher-f32'), 'klDivergence'), 'the same model through the endpoint').toBe(0)
    expect(figure(rows('vllm-teacher-f32'), 'top1Agreement')).toBe(1)
    const exact = figure(rows('teacher-q8_0'), 'klDivergence')!
    const approx = figure(rows('vllm-teacher-q8_0'), 'klDivergence')!
    expect(exact, 'Q8_0 moves the distributions').toBeGreaterThan(1e-6)
    expect(Math.abs(approx - exact) / exact, `top-20 ${approx} vs full ${exact}`).toBeLessThanOrEqual(
      ENDPOINT_KLD_TOLERANCE,
    )
    expect(figure(rows('vllm-teacher-q8_0'), 'top1Agreement')).toBe(
      figure(rows('teacher-q8_0'), 'top1Agreement'),
    )
    expect(figure(rows('vllm-teacher-q8_0'), 'deltaPRms')).toBeCloseTo(
      figure(rows('teacher-q8_0'), 'deltaPRms')!,
      12,
    )

    expect(figure(rows('vllm-teacher-q8_0'), 'qualityTopK'), 'approximate: k stored').toBe(20)
    expect(figure(rows('vllm-teacher-f32'), 'qualityTopK')).toBe(20)
    expect(figure(rows('teacher-q8_0'), 'qualityTopK'), 'native: exact, no k').toBeUndefined()
    const q8Result = result.runs.find((r) => r.target === 'vllm-teacher-q8_0')?.quality?.summary
    expect(q8Result?.approximate, 'the summary says approximate').toBe(true)

    const table = variantRows(result.runs)
    const kld = (target: string) => table.find((r) => r[0] === target)?.[10]
    expect(kld('vllm-teacher-q8_0'), 'the variant table shows the endpoint, approximate').toMatch(
      /^≈ [\d.e-]+ ± [\d.e-]+$/,
    )
    expect(kld('teacher-q8_0'), 'native: exact').toMatch(/^[\d.e-]+ ± [\d.e-]+$/)
    const quality = qualityRows(result.runs)
    expect(quality.find((r) => r[0] === 'vllm-teacher-q8_0')?.[4], 'the quality table too').toMatch(/^≈ /)
    expect(quality.find((r) => r[0] === 'teacher-q8_0')?.[4]).toMatch(/^[\d.e-]+ ± /)
  })

  it('an endpoint as the reference is invalid, naming the field', () => {
    const bad = () =>
      parseScenario({
        name: 'endpoint-reference',
        measure: ['quality'],
        quality: { corpus: 'corpus.txt', reference: 'vllm' },
        targets: [
          native('teacher-f32'),
          { name: 'vllm', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } },
        ],
      })
    expect(bad).toThrow(ScenarioError)
    expect(bad).toThrow(
      /targets\[1\]\.engine\.kind.*a openai target gives top-k lists only: make a native target the reference/s,
    )
  })
})
