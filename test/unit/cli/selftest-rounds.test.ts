import { describe, expect, it } from 'vitest'
import { medianOfRounds, type SelftestLevel } from '../../../harness/cli/actions/selftest.ts'

/** A round's figures: every number `v` unless overridden. */
function round(v: number, over: Partial<SelftestLevel> = {}): SelftestLevel {
  const level = {
    concurrency: 64,
    requests: 100,
    ok: 100,
    bareOk: 100,
    ttftP50ErrorMs: v,
    ttftP99ErrorMs: v,
    itlP50ErrorMs: v,
    itlP99ErrorMs: v,
    measuredTtftP50Ms: v,
    measuredTtftP99Ms: v,
    measuredItlP50Ms: v,
    measuredItlP99Ms: v,
    ttftClientErrorP50Ms: v,
    ttftClientErrorP99Ms: null,
    decodeSpanClientErrorP50Ms: v,
    decodeSpanClientErrorP99Ms: v,
    serverTtftLateP50Ms: v,
    serverTtftLateP99Ms: v,
    chunksPerS: v,
    clientCpuUsPerChunk: v,
    eventLoopDelayP99Ms: v,
    clientSaturated: false,
    bareTtftP50ErrorMs: v,
    bareTtftP99ErrorMs: v,
    bareItlP50ErrorMs: v,
    bareItlP99ErrorMs: v,
    ttftP50ExcessMs: v,
    ttftP99ExcessMs: v,
    itlP50ExcessMs: v,
    itlP99ExcessMs: v,
    bareCpuUsPerChunk: v,
    order: 'HBBH',
    rounds: 1,
    roundExcessMs: [{ ttftP99: v, itlP99: v }],
  } satisfies SelftestLevel
  return { ...level, ...over }
}

describe('selftest rounds', () => {
  it('reports the median of each figure, sums the counts and keeps every round’s excess', () => {
    // One outlier round (+3.3 ms, as session 8 saw) does not move the median of five.
    const level = medianOfRounds([
      round(0.4),
      round(3.3, { clientSaturated: true }),
      round(0.2),
      round(0.5),
      round(0.3),
    ])
    expect(level.itlP99ExcessMs).toBe(0.4)
    expect(level.ttftP99ExcessMs).toBe(0.4)
    expect(level.bareCpuUsPerChunk).toBe(0.4)
    expect(level.concurrency, 'not a figure').toBe(64)
    expect([level.requests, level.ok, level.bareOk], 'counts summed').toEqual([500, 500, 500])
    expect(level.clientSaturated, 'saturated in any round').toBe(true)
    expect(level.ttftClientErrorP99Ms, 'absent in every round stays absent').toBeNull()
    expect(level.rounds).toBe(5)
    expect(level.roundExcessMs.map((r) => r.itlP99)).toEqual([0.4, 3.3, 0.2, 0.5, 0.3])
    expect(level.order, 'the first round’s order').toBe('HBBH')
  })

  it('takes the middle pair’s mean for an even number of rounds, and one round as it is', () => {
    expect(medianOfRounds([round(1), round(4), round(2), round(10)]).itlP99ExcessMs).toBe(3)
    const one = round(0.7)
    expect(medianOfRounds([one])).toBe(one)
  })
})
