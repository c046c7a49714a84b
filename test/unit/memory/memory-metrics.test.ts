import { describe, expect, it } from 'vitest'
import { memoryMetrics } from '../../../harness/memory/index.ts'
import { flattenMetrics } from '../../../harness/metrics/flatten.ts'
import { summarizeRun } from '../../../harness/metrics/run.ts'

describe('memoryMetrics', () => {
  it('maps a sample onto RunMetrics names, leaving out what is unknown', () => {
    expect(
      memoryMetrics({ peakRssBytes: 5, rssSamples: 7, loadMs: 12.5, modelBytes: 1000, loadRssBytes: 4 }),
      'mapped',
    ).toEqual({ peakRssBytes: 5, peakRssSamplesN: 7, loadMs: 12.5, modelBytes: 1000, loadRssBytes: 4 })
    expect(memoryMetrics(undefined), 'no sample').toEqual({})
    expect(memoryMetrics({ vramBytes: 0 }), 'zero is a value').toEqual({ vramBytes: 0 })
  })
})

describe('memory figures as metric rows', () => {
  it('flatten writes them in bytes / ms with the sample count of the peak', () => {
    const metrics = {
      ...summarizeRun([]),
      ...memoryMetrics({ peakRssBytes: 300, rssSamples: 12, loadRssBytes: 200, loadMs: 40, modelBytes: 99 }),
    }
    const rows = new Map(flattenMetrics(metrics).map((r) => [r.name, r]))
    expect(rows.get('peakRssBytes'), 'peak').toEqual({
      name: 'peakRssBytes',
      value: 300,
      unit: 'bytes',
      direction: 'lower',
      n: 12,
    })
    expect(rows.get('loadMs'), 'load time').toEqual({
      name: 'loadMs',
      value: 40,
      unit: 'ms',
      direction: 'lower',
      n: 1,
    })
    expect(rows.get('modelBytes')?.direction, 'model size is descriptive').toBe('none')
    expect(rows.has('peakRssSamplesN'), 'the sample count is not a row').toBe(false)
    expect(rows.has('vramBytes'), 'unknown → no row').toBe(false)
  })
})
