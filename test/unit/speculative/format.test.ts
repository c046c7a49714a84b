/**
 * `bench spec`'s text (harness/speculative/format.ts): the per-K table's predicted speedup uses the logprob
 * α, the measured points under the α × K table sit at each K's α̂ — two "predicted" and two "error" columns
 * per K that differ (q4 draft, K = 1: −0.21 and −0.22 in one run). The text says which is which, and the
 * figures it states hold: a measured point's predicted S is the row's pred(τ).
 */
import { describe, expect, it } from 'vitest'
import { endpointStudyLoadLine } from '../../../harness/speculative/endpoints/run-file.ts'
import { formatStudy } from '../../../harness/speculative/format.ts'
import { knownEndpointStudy } from '../../db/endpoint-study-fixture.ts'
import { knownStudy } from '../../db/studies-fixture.ts'

describe('formatStudy', () => {
  it("says the measured points' predicted S is pred(τ) at α̂, not the per-K table's logprob-α prediction", () => {
    const r = knownStudy(3)
    const text = formatStudy(r)
    expect(text).toContain("measured points sit at each K's α̂ (from τ), so their predicted S is pred(τ)")
    const points = text.slice(text.indexOf('measured points\n'))
    for (const row of r.perK) {
      const line = points.split('\n').find((l) => new RegExp(`^native\\s+${row.k}\\s`).test(l))
      expect(line, `K = ${row.k}`).toBeDefined()
      // label K α measured predicted error: the predicted cell is the row's pred(τ).
      expect(line!.trim().split(/\s+/)[4]).toBe(row.predictedFromTau.toFixed(2))
    }
  })
})

describe('endpointStudyLoadLine', () => {
  it("says the client machine's load around an endpoint study, as bench spec does (it printed none)", () => {
    const r = knownEndpointStudy([1, 2])
    r.environment = {
      ...r.environment,
      cpus: 2,
      loadAverageBefore: [8.19, 9.5, 9.4],
      loadAverageAfter: [7.78, 9.4, 9.39],
    }
    expect(endpointStudyLoadLine(r)).toBe(
      `${r.study.name}: ${r.study.prompts.length} prompt(s) × ${r.study.maxTokens} tokens, one request at a time; load average (uptime) before 8.19, 9.50, 9.40, after 7.78, 9.40, 9.39 on 2 CPUs: timings on a loaded machine are not final`,
    )
  })
})
