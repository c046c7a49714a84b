import { describe, expect, it } from 'vitest'
import {
  accuracy,
  accuracyOf,
  macroAverage,
  summarizeAccuracy,
  weightedAverage,
} from '../../../harness/accuracy/stats.ts'

describe('acc and accStderr', () => {
  it('7 of 10: acc 0.7, stderr sqrt(0.7·0.3/9) = 0.152753', () => {
    const s = accuracyOf(7, 10)
    expect(s.acc, 'acc').toBe(0.7)
    expect(s.accStderr, 'sqrt(0.21/9)').toBeCloseTo(0.15275252316519466, 14)
  })

  it('equals the sample sd / √n of the 0/1 outcomes (lm-eval mean_stderr)', () => {
    const outcomes = [true, false, true, true, false, true, true, true, false, true]
    // mean 0.7; Σ(x − 0.7)² = 7·0.09 + 3·0.49 = 2.1; sd = sqrt(2.1/9); stderr = sd/√10.
    expect(accuracy(outcomes).accStderr, 'sd/√n').toBeCloseTo(Math.sqrt(2.1 / 9) / Math.sqrt(10), 14)
  })

  it('all right or all wrong: stderr 0; one item: no stderr', () => {
    expect(accuracyOf(5, 5).accStderr, 'all right').toBe(0)
    expect(accuracyOf(0, 5).accStderr, 'all wrong').toBe(0)
    expect(accuracyOf(1, 1).accStderr, 'n = 1').toBeUndefined()
  })

  it('bad counts are refused', () => {
    expect(() => accuracyOf(0, 0), 'n = 0').toThrow(/n ≥ 1/)
    expect(() => accuracyOf(6, 5), 'correct > n').toThrow(/0\.\.5/)
  })
})

describe('averages over subjects', () => {
  // lm-eval's own test case (tests/test_metrics.py, test_aggregate_stderrs): 40/100, 30/60, 20/80.
  const subjects = [accuracyOf(40, 100), accuracyOf(30, 60), accuracyOf(20, 80)]

  it('weighted by size with lm-eval pooled_sample_stderr', () => {
    const w = weightedAverage(subjects)
    expect(w.acc, '90/240').toBe(0.375)
    // Σ n·p(1−p) = 100·0.24 + 60·0.25 + 80·0.1875 = 54; sqrt(54 / (240 − 3) / 240).
    expect(w.accStderr, 'pooled').toBeCloseTo(Math.sqrt(54 / 237 / 240), 14)
    expect(w.accStderr, 'lm-eval formula with the se_i, computed in Python').toBeCloseTo(
      0.030811801125666036,
      14,
    )
    expect(w.n, 'items').toBe(240)
  })

  it('macro: mean of subject accuracies, stderr sqrt(Σ se²)/k', () => {
    const m = macroAverage(subjects)
    expect(m.acc, '(0.4 + 0.5 + 0.25)/3').toBeCloseTo(1.15 / 3, 15)
    // se² = 0.24/99, 0.25/59, 0.1875/79.
    expect(m.accStderr, 'sqrt(Σ se²)/3').toBeCloseTo(Math.sqrt(0.24 / 99 + 0.25 / 59 + 0.1875 / 79) / 3, 15)
  })

  it('summarizeAccuracy: per subject in name order, overall and groups', () => {
    const items = [
      ...Array.from({ length: 4 }, (_, i) => ({ subject: 'virology', correct: i < 3 })),
      ...Array.from({ length: 2 }, (_, i) => ({ subject: 'anatomy', correct: i < 1 })),
      { subject: 'astronomy', correct: true },
    ]
    const s = summarizeAccuracy(items, { stem: ['astronomy', 'virology'] })
    expect(
      s.subjects.map((x) => [x.subject, x.correct, x.n]),
      'subjects',
    ).toEqual([
      ['anatomy', 1, 2],
      ['astronomy', 1, 1],
      ['virology', 3, 4],
    ])
    expect(s.weighted.acc, '5/7').toBeCloseTo(5 / 7, 15)
    // Σ n·p(1−p) = 2·0.25 + 0 + 4·0.1875 = 1.25; dof 7 − 3 = 4.
    expect(s.weighted.accStderr, 'pooled').toBeCloseTo(Math.sqrt(1.25 / 4 / 7), 15)
    expect(s.macro.accStderr, 'a one-item subject has no stderr, so neither has the macro').toBeUndefined()
    expect(s.groups[0]?.weighted.acc, 'stem: 4/5').toBeCloseTo(0.8, 15)
    expect(() => summarizeAccuracy(items, { x: ['nope'] }), 'unknown member').toThrow(
      /group x names subjects with no scored item: nope/,
    )
  })
})
