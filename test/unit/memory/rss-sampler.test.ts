import { describe, expect, it } from 'vitest'
import { createRssSampler } from '../../../harness/memory/rss-sampler.ts'

describe('createRssSampler with reported samples (no /proc)', () => {
  it('keeps the max and the count per window; cut() starts a new window', () => {
    const sampler = createRssSampler({ pid: process.pid, proc: false })
    try {
      for (const bytes of [100, 300, 200]) sampler.record(bytes)
      expect(sampler.cut(), 'first window').toEqual({ peakRssBytes: 300, samples: 3, kernelPeak: false })
      sampler.record(150)
      expect(sampler.cut(), 'second window: only its own sample').toEqual({
        peakRssBytes: 150,
        samples: 1,
        kernelPeak: false,
      })
      expect(sampler.cut(), 'empty window').toEqual({ samples: 0, kernelPeak: false })
    } finally {
      sampler.stop()
    }
  })
})

describe.runIf(process.platform === 'linux')('createRssSampler on /proc (this process)', () => {
  it('samples on its own at the given rate and reports at least the current RSS', async () => {
    const sampler = createRssSampler({ pid: process.pid, intervalMs: 20 })
    try {
      await new Promise((resolve) => setTimeout(resolve, 250))
      const window = sampler.cut()
      // 250 ms at 20 ms: ~12 samples; a busy machine delays timers, so only "more than a few" is asserted.
      expect(window.samples, 'samples taken by the timer').toBeGreaterThanOrEqual(3)
      expect(window.peakRssBytes, 'peak ≥ RSS now').toBeGreaterThanOrEqual(process.memoryUsage.rss() / 2)
    } finally {
      sampler.stop()
    }
  })
})
