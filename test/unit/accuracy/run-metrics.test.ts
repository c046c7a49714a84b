/**
 * An accuracy run's figures from its items, hand-computed: acc and its stderr (METRICS.md), the weighted
 * and macro averages, acc_norm, per subject, and the item error rate that fails a run; aborted items count
 * nowhere.
 */
import { describe, expect, it } from 'vitest'
import {
  accuracyMetricRows,
  itemErrorRateReason,
  summarizeItems,
} from '../../../harness/accuracy/run-metrics.ts'
import type { ItemOutcome } from '../../../harness/results.ts'

function item(
  seq: number,
  subject: string,
  correct: boolean | null,
  extra: Partial<ItemOutcome> = {},
): ItemOutcome {
  return {
    seq,
    itemId: `${subject}/test/${seq}`,
    subject,
    itemIndex: seq,
    answer: 0,
    predicted: correct === null ? null : correct ? 0 : 1,
    correct,
    startedAt: seq,
    durationMs: 1,
    ...(correct === null ? { error: { kind: 'timeout', message: 'slow' } } : {}),
    ...extra,
  }
}

// Subject a: 3 of 4 right; subject b: 1 of 2 right; one timeout (b); one aborted (a).
const items: ItemOutcome[] = [
  item(0, 'a', true, { predictedNorm: 0 }),
  item(1, 'a', true, { predictedNorm: 2 }),
  item(2, 'a', true, { predictedNorm: 0 }),
  item(3, 'a', false, { predictedNorm: 0 }),
  item(4, 'b', true, { predictedNorm: 1 }),
  item(5, 'b', false, { predictedNorm: 3 }),
  item(6, 'b', null),
  item(7, 'a', null, { error: { kind: 'aborted', message: 'interrupted' } }),
]

describe('accuracy figures', () => {
  const s = summarizeItems(items)
  const rows = new Map(accuracyMetricRows(s).map((r) => [r.name, r]))

  it('acc = 4/6 with stderr sqrt(acc(1−acc)/(n−1)); acc_norm = 3/6', () => {
    expect([s.attempted, s.n, s.correct, s.errors], 'counts: aborted left out').toEqual([7, 6, 4, 1])
    expect(rows.get('acc')?.value, 'acc').toBeCloseTo(4 / 6, 12)
    expect(rows.get('accStderr')?.value, 'stderr').toBeCloseTo(Math.sqrt(((4 / 6) * (2 / 6)) / 5), 12)
    expect(rows.get('accNorm')?.value, 'acc_norm: items 0, 2, 3 pick the answer by norm').toBeCloseTo(
      3 / 6,
      12,
    )
    expect(rows.get('acc')?.direction, 'higher is better').toBe('higher')
    expect(rows.get('accErrorRate')?.value, '1 of 7').toBeCloseTo(1 / 7, 12)
  })

  it('per subject, weighted (lm-eval pooled stderr) and macro', () => {
    expect(rows.get('acc/a')?.value, 'a: 3/4').toBe(0.75)
    expect(rows.get('acc/b')?.n, 'b: 2 scored').toBe(2)
    expect(rows.get('accWeighted')?.value, 'weighted = acc').toBeCloseTo(4 / 6, 12)
    // pooled: sqrt(Σ n_i·acc_i·(1−acc_i) / (N − k) / N) = sqrt((4·.75·.25 + 2·.5·.5) / 4 / 6)
    expect(rows.get('accWeightedStderr')?.value, 'pooled').toBeCloseTo(Math.sqrt((0.75 + 0.5) / 4 / 6), 12)
    expect(rows.get('accMacro')?.value, 'macro = (0.75 + 0.5) / 2').toBeCloseTo(0.625, 12)
    // se_a = sqrt(.75·.25/3), se_b = sqrt(.5·.5/1); macro stderr = sqrt(se_a² + se_b²) / 2
    expect(rows.get('accMacroStderr')?.value, 'macro stderr').toBeCloseTo(Math.sqrt(0.0625 + 0.25) / 2, 12)
  })

  it('says when failed items exceed the threshold, with their kinds', () => {
    expect(itemErrorRateReason(s, 0.2), 'within 20 %').toBeUndefined()
    expect(itemErrorRateReason(s, 0.01), 'over 1 %').toBe(
      'item error rate 14.3 % (1 of 7) > max 1 %: timeout ×1',
    )
  })

  it('gives no accuracy at all when nothing was scored', () => {
    const none = summarizeItems([item(0, 'a', null)])
    expect(none.acc, 'no acc').toBeUndefined()
    expect(
      accuracyMetricRows(none).map((r) => r.name),
      'counts only',
    ).toEqual(['accItems', 'accErrors', 'accErrorRate'])
  })
})
