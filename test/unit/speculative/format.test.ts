/**
 * `bench spec`'s text (harness/speculative/format.ts): the per-K table's predicted speedup uses the logprob
 * α, the measured points under the α × K table sit at each K's α̂ — two "predicted" and two "error" columns
 * per K that differ (q4 draft, K = 1: −0.21 and −0.22 in one run). The text says which is which, and the
 * figures it states hold: a measured point's predicted S is the row's pred(τ).
 */
import { describe, expect, it } from 'vitest'
import { formatStudy } from '../../../harness/speculative/format.ts'
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
