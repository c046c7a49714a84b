/**
 * What `bench run` prints for accuracy runs: a table of acc ± stderr per target (with acc_norm, the macro
 * average and each subject), the notice of an auto fallback and the reason of a refused run; a scenario
 * measuring accuracy only prints no empty latency table; JSON carries the figures.
 */
import { describe, expect, it } from 'vitest'
import { summarizeItems } from '../../../harness/accuracy/run-metrics.ts'
import { formatResults } from '../../../harness/cli/format.ts'
import type { LoadRunResult } from '../../../harness/runner.ts'
import { accuracyItem, accuracySpec } from '../../fixtures/accuracy-spec.ts'

const spec = accuracySpec(4, 'd')
const item = accuracyItem
// 3 of 4: a 2/2, b 1/2 → acc 0.75, stderr sqrt(.75·.25/3) = 0.25; macro (1 + 0.5)/2 = 0.75.
const summary = summarizeItems([
  item(0, 'a', true),
  item(1, 'a', true),
  item(2, 'b', true),
  item(3, 'b', false),
])
const results: LoadRunResult[] = [
  {
    target: 'teacher',
    load: spec,
    loadIndex: 0,
    runId: '1',
    state: 'completed',
    accuracy: { ...summary, scoring: 'loglik' },
  },
  {
    target: 'chat',
    load: { ...spec, scoring: 'generate' },
    loadIndex: 0,
    runId: '2',
    state: 'completed',
    accuracy: { ...summary, scoring: 'generate', notice: 'loglik scoring unavailable: no prompt logprobs' },
  },
  {
    target: 'server',
    load: spec,
    loadIndex: 0,
    runId: '3',
    state: 'failed',
    error: 'no prompt logprobs (refused)',
  },
]

describe('bench run output of accuracy runs', () => {
  it('prints acc ± stderr per target, the notice and the refusal', () => {
    const text = formatResults(results, 'table')
    const lines = text.split('\n')
    expect(lines[0], 'accuracy table only').toMatch(
      /^target\s+scoring\s+state\s+items\s+err\s+acc ± stderr\s+acc_norm\s+macro\s+subjects$/,
    )
    expect(lines[2], 'teacher').toMatch(
      /^teacher\s+loglik\s+completed\s+4\s+0\s+0\.750 ± 0\.250\s+-\s+0\.750 ± 0\.250\s+a 1\.00 b 0\.50$/,
    )
    expect(lines[4], 'a refused run: no figure').toMatch(/^server\s+loglik\s+failed\s+0\s+0\s+-\s+-\s+-\s+-$/)
    expect(text, 'the fallback said').toContain('chat: loglik scoring unavailable: no prompt logprobs')
    expect(text, 'the refusal said').toContain(
      'server / accuracy loglik 5-shot 4 items: no prompt logprobs (refused)',
    )
    expect(text, 'no latency table').not.toContain('TTFT')
  })

  it('carries the figures in JSON and Markdown', () => {
    const json = JSON.parse(formatResults(results, 'json')) as { runs: LoadRunResult[] }
    expect(json.runs[0]?.accuracy?.acc, 'acc').toBe(0.75)
    expect(formatResults(results, 'md'), 'markdown row').toContain(
      '| teacher | loglik | completed | 4 | 0 | 0.750 ± 0.250 |',
    )
  })
})
