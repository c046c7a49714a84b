import { describe, expect, it } from 'vitest'
import { loadSchema } from '../../../harness/config/schema.ts'
import { executeLoad } from '../../../harness/load/execute.ts'
import { describeLoad, expandLoads } from '../../../harness/load/expand.ts'
import { expectedRequests } from '../../../harness/load/expected.ts'
import type { LoadSpec } from '../../../harness/results.ts'
import { createHarness } from './recording-send.ts'

describe('expandLoads', () => {
  it('flattens sweeps in place and fills defaults from the schema', () => {
    const loads = [
      { kind: 'sequential', requests: 5 },
      {
        kind: 'sweep',
        loads: [
          { kind: 'concurrent', concurrency: 1, durationS: 30 },
          { kind: 'concurrent', concurrency: 4, durationS: 30 },
          { kind: 'poisson', ratePerS: 5, requests: 100 },
        ],
      },
      { kind: 'constant-rate', ratePerS: 2, durationS: 10, maxInFlight: 8 },
    ].map((l) => loadSchema.parse(l))

    expect(expandLoads(loads), 'specs').toEqual([
      { kind: 'sequential', requests: 5 },
      { kind: 'concurrent', concurrency: 1, durationS: 30 },
      { kind: 'concurrent', concurrency: 4, durationS: 30 },
      { kind: 'poisson', ratePerS: 5, burstiness: 1, maxInFlight: 1000, requests: 100 },
      { kind: 'constant-rate', ratePerS: 2, maxInFlight: 8, durationS: 10 },
    ])
  })

  it('carries rampUpMs only when it ramps, so specs without one stay as stored before', () => {
    const loads = [
      { kind: 'concurrent', concurrency: 4, rampUpMs: 100, requests: 5 },
      { kind: 'concurrent', concurrency: 4, rampUpMs: 0, requests: 5 },
    ].map((l) => loadSchema.parse(l))

    expect(expandLoads(loads), 'specs').toEqual([
      { kind: 'concurrent', concurrency: 4, rampUpMs: 100, requests: 5 },
      { kind: 'concurrent', concurrency: 4, requests: 5 },
    ])
    expect(Object.keys(expandLoads(loads)[1]!), 'no rampUpMs key for 0').not.toContain('rampUpMs')
  })
})

describe('describeLoad', () => {
  it('names the shape in a few words', () => {
    expect(describeLoad({ kind: 'sequential', requests: 3 }), 'sequential').toBe('sequential')
    expect(describeLoad({ kind: 'concurrent', concurrency: 8, durationS: 5 }), 'concurrent').toBe(
      'concurrent 8',
    )
    expect(
      describeLoad({ kind: 'concurrent', concurrency: 8, rampUpMs: 100, durationS: 5 }),
      'concurrent with ramp',
    ).toBe('concurrent 8 ramp 100ms')
    expect(
      describeLoad({ kind: 'concurrent', concurrency: 8, rampUpMs: 0, durationS: 5 }),
      'concurrent, ramp 0',
    ).toBe('concurrent 8')
    expect(
      describeLoad({ kind: 'constant-rate', ratePerS: 2.5, maxInFlight: 9, requests: 1 }),
      'constant-rate',
    ).toBe('constant-rate 2.5/s')
    expect(
      describeLoad({ kind: 'poisson', ratePerS: 5, burstiness: 0.5, maxInFlight: 9, requests: 1 }),
      'poisson γ',
    ).toBe('poisson 5/s γ=0.5')
    expect(
      describeLoad({ kind: 'poisson', ratePerS: 5, burstiness: 1, maxInFlight: 9, requests: 1 }),
      'poisson γ = 1',
    ).toBe('poisson 5/s')
  })
})

describe('expectedRequests', () => {
  it('is requests when given, r·durationS for open loops, undefined when the server sets the pace', () => {
    expect(expectedRequests({ kind: 'sequential', requests: 5 }), 'sequential').toBe(5)
    expect(expectedRequests({ kind: 'concurrent', concurrency: 2, durationS: 10 }), 'closed, duration').toBe(
      undefined,
    )
    expect(
      expectedRequests({ kind: 'concurrent', concurrency: 2, requests: 7, durationS: 10 }),
      'closed, both',
    ).toBe(7)
    expect(expectedRequests({ kind: 'poisson', ratePerS: 5, maxInFlight: 1, durationS: 10 }), 'poisson').toBe(
      50,
    )
    expect(
      expectedRequests({ kind: 'poisson', ratePerS: 5, maxInFlight: 1, durationS: 10, requests: 20 }),
      'poisson capped by requests',
    ).toBe(20)
    expect(
      expectedRequests({ kind: 'constant-rate', ratePerS: 5, maxInFlight: 1, requests: 30 }),
      'rate',
    ).toBe(30)
  })

  it('matches the arrivals the constant-rate executor makes, float edge cases included', async () => {
    for (const [ratePerS, durationS, expected] of [
      [4, 2, 8],
      [3, 1, 3],
      [0.1, 30, 3],
      [7, 0.3, 3],
      [2.5, 1.2, 3],
      [1000, 0.0015, 2],
    ] as const) {
      const spec: LoadSpec = { kind: 'constant-rate', ratePerS, maxInFlight: 1000, durationS }
      const h = createHarness({ durationMs: () => 1 })
      const result = await h.clock.run(executeLoad(spec, h.ctx))
      expect(result.sent, `${ratePerS}/s for ${durationS} s: executor`).toBe(expected)
      expect(expectedRequests(spec), `${ratePerS}/s for ${durationS} s: expectedRequests`).toBe(expected)
    }
  })
})
