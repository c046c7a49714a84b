import { describe, expect, it } from 'vitest'
import { accuracyMetricOf, gatedDirection, gateValues } from '../../../db/gate/gate.ts'
import { metricInfo } from '../../../harness/metrics/catalogue.ts'

describe('accuracy metrics in the gate', () => {
  it('gates acc, accNorm and acc/<subject> higher-is-better, item by item', () => {
    for (const name of ['acc', 'accNorm', 'acc/high_school_physics'])
      expect(gatedDirection(name), `${name}: higher`).toBe('higher')
    expect(accuracyMetricOf('acc'), 'acc').toEqual({ figure: 'acc' })
    expect(accuracyMetricOf('accNorm'), 'accNorm').toEqual({ figure: 'accNorm' })
    expect(accuracyMetricOf('acc/anatomy'), 'a subject').toEqual({ figure: 'acc', subject: 'anatomy' })
    expect(accuracyMetricOf('ttftMsP95'), 'latency').toBeUndefined()
  })

  it('knows the per-subject rows and refuses the figures that are no single proportion', () => {
    expect(metricInfo('accStderr/anatomy')?.direction, 'a stderr has no direction').toBe('none')
    expect(metricInfo('accMacro/anatomy'), 'no such row').toBeUndefined()
    expect(() => accuracyMetricOf('accMacro'), 'a mean of subjects').toThrow(/not one proportion over items/)
    expect(() => gatedDirection('accStderr'), 'no direction').toThrow(/never gated/)
  })

  it('needs the stored items: values files are refused for accuracy figures', () => {
    expect(() => gateValues(['acc'], new Map([['acc', [0.8]]]), new Map([['acc', [0.7]]]), {})).toThrow(
      /acc is gated item by item on stored accuracy runs: it needs the database/,
    )
  })
})
