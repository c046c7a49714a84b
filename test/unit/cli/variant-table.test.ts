/**
 * The variant table of `bench run` (issue 16): one row per target joining its latency, accuracy and quality
 * runs — method, quant, bits, size, peak RSS, TTFT p50 of the first latency load, the best out tok/s,
 * acc ± stderr, KLD ± SE and top-1 — and no such table when it would repeat a single per-run table.
 */
import { describe, expect, it } from 'vitest'
import { summarizeItems } from '../../../harness/accuracy/run-metrics.ts'
import { formatResults } from '../../../harness/cli/format.ts'
import { variantRows } from '../../../harness/cli/variant-table.ts'
import type { RunMetrics } from '../../../harness/metrics/types.ts'
import { type PositionComparison, summarizeQuality } from '../../../harness/quality/index.ts'
import type { LoadSpec, VariantIdentity } from '../../../harness/results.ts'
import type { LoadRunResult } from '../../../harness/runner.ts'
import { accuracyItem, accuracySpec, QUALITY_SPEC } from '../../fixtures/accuracy-spec.ts'

const MB = 1024 * 1024
const sequential: LoadSpec = { kind: 'sequential', requests: 6 }
const concurrent: LoadSpec = { kind: 'concurrent', concurrency: 4, requests: 16 }
const quality = QUALITY_SPEC
/** Only the figures the table reads; the rest of RunMetrics does not matter here. */
const metrics = (ttftP50: number, tokPerS: number, rssMb: number) =>
  ({
    ttftMs: { p50: ttftP50 },
    outputTokensPerS: tokPerS,
    peakRssBytes: rssMb * MB,
    modelBytes: 2 * MB,
  }) as unknown as RunMetrics
const item = (seq: number, correct: boolean) => accuracyItem(seq, 's', correct)
// 3 of 4 → acc 0.750, stderr sqrt(.75·.25/3) = 0.250.
const accuracy = { ...summarizeItems([item(0, true), item(1, true), item(2, true), item(3, false)]) }
// KLD i/1000 over 100 positions: mean 0.0495 ± 0.0029; the first 50 agree → top-1 0.500.
const positions: PositionComparison[] = Array.from({ length: 100 }, (_, i) => ({
  kld: i / 1000,
  deltaP: 0.1,
  sameTop: i < 50,
  nllRef: 1,
  nllVariant: 1.2,
}))
const q4: VariantIdentity = {
  name: 'q4_0',
  method: 'quantized',
  format: 'gguf',
  quantLabel: 'Q4_0',
  bits: 4.5,
}
const f32: VariantIdentity = { name: 'f32', method: 'base', format: 'gguf', sizeBytes: 8 * MB }
const run = (target: string, variant: VariantIdentity, over: Partial<LoadRunResult>): LoadRunResult => ({
  target,
  load: sequential,
  loadIndex: 0,
  runId: `${target}-${over.loadIndex ?? 0}`,
  state: 'completed',
  engine: 'llama-cpp',
  variant,
  ...over,
})
const results: LoadRunResult[] = [
  run('f32', f32, { metrics: metrics(12, 50, 40) }),
  run('f32', f32, { load: concurrent, loadIndex: 1, metrics: metrics(30, 140, 44) }),
  run('f32', f32, { load: accuracySpec(4, 'd'), loadIndex: 2, accuracy: { ...accuracy, scoring: 'loglik' } }),
  run('q4_0', q4, { metrics: metrics(8.25, 90, 20) }),
  run('q4_0', q4, { load: concurrent, loadIndex: 1, metrics: metrics(20, 260.5, 22) }),
  run('q4_0', q4, {
    load: quality,
    loadIndex: 3,
    quality: { reference: 'f32', summary: summarizeQuality(positions) },
  }),
]

describe('the variant table', () => {
  it('joins each target’s latency, accuracy and quality runs into one row', () => {
    expect(variantRows(results)).toEqual([
      // size from the variant (8 MiB); TTFT of the first load, tok/s the best load, RSS the highest run.
      ['f32', 'llama-cpp', 'base', '-', '-', '8.0', '44', '12.0', '140.0', '0.750 ± 0.250', '-', '-'],
      // size from the run's modelBytes (2 MiB) when the variant does not say.
      [
        'q4_0',
        'llama-cpp',
        'quantized',
        'Q4_0',
        '4.5',
        '2.0',
        '22',
        '8.3',
        '260.5',
        '-',
        '0.0495 ± 0.0029',
        '0.500',
      ],
    ])
    const table = formatResults(results, 'table').split('\n')
    const header = table.findIndex((l) => l.startsWith('target') && l.includes('peak RSS MB'))
    expect(header, 'printed after the per-run tables').toBeGreaterThan(0)
    expect(table[header + 2]).toMatch(
      /^f32\s+llama-cpp\s+base\s+-\s+-\s+8\.0\s+44\s+12\.0\s+140\.0\s+0\.750 ± 0\.250/,
    )
    expect(formatResults(results, 'md')).toMatch(
      /\| q4_0 \| llama-cpp \| quantized \| Q4_0 \| 4\.5 \| 2\.0 \| 22 \|/,
    )
  })

  it('is left out when it would repeat one per-run table: one target, or one kind of run without variants', () => {
    expect(variantRows(results.filter((r) => r.target === 'f32')), 'one target').toEqual([])
    const bare = results.filter((r) => r.load.kind === 'sequential').map(({ variant: _variant, ...r }) => r)
    expect(variantRows(bare), 'latency only, nothing known of the variants').toEqual([])
    expect(
      variantRows(results.filter((r) => r.load.kind === 'sequential')),
      'latency only, variants known',
    ).toHaveLength(2)
  })
})
