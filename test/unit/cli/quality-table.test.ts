/**
 * What `bench run` prints for quality runs: a table of KLD ± SE, its median / p99 / max, top-1 agreement ±
 * SE, RMS Δp and ln PPL ratio per target (hand-computed from 100 made-up positions), no empty latency
 * table, and the reason of a refused run; JSON carries the summary.
 */
import { describe, expect, it } from 'vitest'
import { formatResults } from '../../../harness/cli/format.ts'
import type { PositionComparison } from '../../../harness/quality/index.ts'
import { summarizeQuality } from '../../../harness/quality/index.ts'
import type { LoadRunResult } from '../../../harness/runner.ts'
import { QUALITY_SPEC } from '../../fixtures/accuracy-spec.ts'

const spec = QUALITY_SPEC
// 100 positions. KLD i/1000: mean 0.0495, SE 0.001·sqrt(100·101/12)/10 = 0.00290, median 0.0495,
// p99 at rank 98.01 = 0.09801, max 0.099. The first 50 agree on the top token → p 0.5, SE sqrt(0.25/99)
// = 0.0503. Δp 0.1 each → RMS 0.1. nll_var − nll_ref alternately 0.2 and 0.4 → 0.3 ± sqrt(100·0.01/99)/10
// = 0.0101.
const positions: PositionComparison[] = Array.from({ length: 100 }, (_, i) => ({
  kld: i / 1000,
  deltaP: 0.1,
  sameTop: i < 50,
  nllRef: 1,
  nllVariant: i % 2 === 0 ? 1.2 : 1.4,
}))
const results: LoadRunResult[] = [
  {
    target: 'q4_0',
    load: spec,
    loadIndex: 0,
    runId: '1',
    state: 'completed',
    quality: { reference: 'f32', summary: summarizeQuality(positions) },
  },
  {
    target: 'onnx',
    load: spec,
    loadIndex: 0,
    runId: '2',
    state: 'failed',
    error: 'quality: target "onnx" tokenizes the corpus differently from reference "f32"',
  },
]

describe('bench run output of quality runs', () => {
  it('table: one row per target with KLD ± SE, top-1 ± SE; no latency table; the refusal under it', () => {
    const text = formatResults(results, 'table')
    expect(text, 'no latency table').not.toMatch(/TTFT/)
    const lines = text.split('\n')
    expect(lines[0]).toMatch(
      /^target\s+vs\s+state\s+tokens\s+KLD ± SE\s+KLD p50\s+KLD p99\s+KLD max\s+top-1 ± SE/,
    )
    const row = lines.find((l) => l.startsWith('q4_0'))!
    expect(row, 'q4_0 row').toMatch(
      /q4_0\s+f32\s+completed\s+100\s+0\.0495 ± 0\.0029\s+0\.0495\s+0\.098\s+0\.099\s+0\.500 ± 0\.050\s+0\.1\s+0\.3 ± 0\.0101$/,
    )
    expect(
      lines.find((l) => l.startsWith('onnx')),
      'refused row',
    ).toMatch(/onnx\s+f32\s+failed\s+0\s+-/)
    expect(text).toMatch(/KLD = Σ p_ref·\(ln p_ref − ln p_var\)/)
    expect(text).toMatch(/onnx \/ quality vs f32 100 tokens, ctx 128: quality: target "onnx" tokenizes/)
  })
  it('markdown and JSON', () => {
    expect(formatResults(results, 'md')).toMatch(/\| q4_0 \| f32 \| completed \| 100 \| 0\.0495 ± 0\.0029 \|/)
    const json = JSON.parse(formatResults(results, 'json'))
    expect(json.runs[0].quality.summary.top1Agreement.p).toBe(0.5)
  })
})
