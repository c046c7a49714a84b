import { describe, expect, it } from 'vitest'
import { HarnessError } from '../../../harness/errors.ts'
import { executeLoad } from '../../../harness/load/execute.ts'
import { createHarness } from './recording-send.ts'

describe('sequential', () => {
  it('sends one at a time, each as soon as the previous finished, scheduledAt = send time', async () => {
    const durations = [100, 200, 50]
    const h = createHarness({ start: 1000, durationMs: (i) => durations[i]! })
    const result = await h.clock.run(executeLoad({ kind: 'sequential', requests: 3 }, h.ctx))

    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([1000, 1100, 1300])
    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt = sentAt',
    ).toEqual([1000, 1100, 1300])
    expect(h.maxInFlight(), 'max in flight').toBe(1)
    expect(result, 'result').toEqual({
      sent: 3,
      dropped: 0,
      ended: 'requests',
      startedAt: 1000,
      endedAt: 1350,
    })
  })

  it('stops issuing at durationS and waits for the request in flight', async () => {
    const h = createHarness({ start: 0, durationMs: () => 100 })
    const result = await h.clock.run(executeLoad({ kind: 'sequential', durationS: 0.15 }, h.ctx))

    // 0 and 100 start before 150; at 200 the deadline has passed. The second one finishes after it.
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 100])
    expect(result, 'result').toEqual({ sent: 2, dropped: 0, ended: 'duration', startedAt: 0, endedAt: 200 })
  })
})

describe('concurrent (closed loop)', () => {
  it('keeps N in flight, refills each slot at once and shares the request budget', async () => {
    const durations = [350, 100, 100, 100, 100]
    const h = createHarness({ start: 0, durationMs: (i) => durations[i]! })
    const result = await h.clock.run(executeLoad({ kind: 'concurrent', concurrency: 2, requests: 5 }, h.ctx))

    // Worker A holds #0 until 350; worker B runs #1 0–100, #2 100–200, #3 200–300, #4 300–400.
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 0, 100, 200, 300])
    expect(
      h.sent.map((r) => r.inFlightAtSend),
      'in flight at each send',
    ).toEqual([1, 2, 2, 2, 2])
    expect(h.maxInFlight(), 'max in flight').toBe(2)
    expect(result, 'result').toEqual({ sent: 5, dropped: 0, ended: 'requests', startedAt: 0, endedAt: 400 })
  })

  it('holds exactly N in flight with uneven request times', async () => {
    // Durations 100…300 ms in a pattern; every send after the first N refills a freed slot.
    const h = createHarness({ durationMs: (i) => 100 + ((i * 37) % 5) * 50 })
    const result = await h.clock.run(executeLoad({ kind: 'concurrent', concurrency: 4, requests: 40 }, h.ctx))

    expect(result.sent, 'sent').toBe(40)
    expect(h.sent.length, 'send() calls').toBe(40)
    expect(h.maxInFlight(), 'max in flight').toBe(4)
    expect(
      h.sent.slice(3).every((r) => r.inFlightAtSend === 4),
      'a freed slot is refilled at once',
    ).toBe(true)
    expect(result.endedAt, 'endedAt = last finish').toBe(Math.max(...h.sent.map((r) => r.finishedAt!)))
  })

  it('durationS stops issuing; in-flight requests finish', async () => {
    const h = createHarness({ start: 0, durationMs: () => 100 })
    const result = await h.clock.run(
      executeLoad({ kind: 'concurrent', concurrency: 2, durationS: 0.25, requests: 100 }, h.ctx),
    )

    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 0, 100, 100, 200, 200])
    expect(result, 'result').toEqual({ sent: 6, dropped: 0, ended: 'duration', startedAt: 0, endedAt: 300 })
  })

  it('runs no more workers than requests', async () => {
    const h = createHarness()
    const result = await h.clock.run(executeLoad({ kind: 'concurrent', concurrency: 5, requests: 2 }, h.ctx))
    expect(result.sent, 'sent').toBe(2)
    expect(h.maxInFlight(), 'max in flight').toBe(2)
  })

  it('abort stops issuing at once, waits for in-flight requests, ends "aborted"', async () => {
    const h = createHarness({ start: 0, durationMs: () => 100 })
    let resolved = false
    const load = executeLoad({ kind: 'concurrent', concurrency: 2, requests: 100 }, h.ctx).then((r) => {
      resolved = true
      return r
    })
    await h.clock.advance(250)
    h.controller.abort()
    await h.clock.advance(49)
    expect(resolved, 'pending while two requests are in flight').toBe(false)
    const result = await h.clock.run(load)

    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 0, 100, 100, 200, 200])
    expect(result, 'result').toEqual({ sent: 6, dropped: 0, ended: 'aborted', startedAt: 0, endedAt: 300 })
    await h.clock.advance(10_000)
    expect(h.sent.length, 'no send after the abort').toBe(6)
  })

  it('an already aborted signal sends nothing', async () => {
    const h = createHarness({ start: 5 })
    h.controller.abort()
    const result = await h.clock.run(executeLoad({ kind: 'sequential', requests: 3 }, h.ctx))
    expect(result, 'result').toEqual({ sent: 0, dropped: 0, ended: 'aborted', startedAt: 5, endedAt: 5 })
  })

  it('a send() that rejects breaks the contract: issuing stops and executeLoad rejects with the cause', async () => {
    const h = createHarness({ start: 0 })
    const boom = new Error('boom')
    let calls = 0
    const ctx = {
      ...h.ctx,
      send: async (scheduledAt: number) => {
        calls++
        if (calls === 2) throw boom
        await h.ctx.send(scheduledAt)
      },
    }
    const error = await h.clock.run(executeLoad({ kind: 'sequential', requests: 5 }, ctx)).catch((e) => e)
    expect(error, 'error class').toBeInstanceOf(HarnessError)
    expect((error as Error).cause, 'cause').toBe(boom)
    expect(calls, 'send() calls').toBe(2)
  })

  it('refuses a load that could never end', async () => {
    const h = createHarness()
    await expect(executeLoad({ kind: 'concurrent', concurrency: 2 }, h.ctx), 'no limit').rejects.toThrow(
      /requests or durationS/,
    )
  })
})

describe('concurrent rampUpMs', () => {
  it('spreads the first requests of N workers evenly over the ramp, then runs closed loop', async () => {
    const h = createHarness({ start: 1000, durationMs: () => 100 })
    const result = await h.clock.run(
      executeLoad({ kind: 'concurrent', concurrency: 4, rampUpMs: 100, requests: 8 }, h.ctx),
    )

    // Workers start at 0, 25, 50, 75 ms; each then refills its own slot as soon as its request finished.
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([1000, 1025, 1050, 1075, 1100, 1125, 1150, 1175])
    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt = sentAt',
    ).toEqual(h.sent.map((r) => r.sentAt))
    expect(
      h.sent.map((r) => r.inFlightAtSend),
      'in flight at each send',
    ).toEqual([1, 2, 3, 4, 4, 4, 4, 4])
    expect(result, 'result').toEqual({
      sent: 8,
      dropped: 0,
      ended: 'requests',
      startedAt: 1000,
      endedAt: 1275,
    })
  })

  it('rampUpMs 0 is the same schedule as no ramp', async () => {
    const run = async (rampUpMs?: number) => {
      const h = createHarness({ start: 0, durationMs: (i) => 50 + (i % 3) * 40 })
      const spec = { kind: 'concurrent', concurrency: 3, requests: 9 } as const
      const result = await h.clock.run(
        executeLoad(rampUpMs === undefined ? spec : { ...spec, rampUpMs }, h.ctx),
      )
      return { sentAt: h.sent.map((r) => r.sentAt), result }
    }
    const plain = await run()
    expect(plain.sentAt.slice(0, 3), 'all three start at once').toEqual([0, 0, 0])
    expect(await run(0), 'rampUpMs 0').toEqual(plain)
  })

  it('abort during the ramp cancels the pending starts and ends "aborted"', async () => {
    const h = createHarness({ start: 0, durationMs: () => 100 })
    const load = executeLoad({ kind: 'concurrent', concurrency: 4, rampUpMs: 100, requests: 100 }, h.ctx)
    await h.clock.advance(30)
    expect(h.sent.length, 'workers 0 and 1 started').toBe(2)
    h.controller.abort()
    const result = await h.clock.run(load)

    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 25])
    expect(result, 'result').toEqual({ sent: 2, dropped: 0, ended: 'aborted', startedAt: 0, endedAt: 125 })
    expect(h.clock.pendingSleeps, 'ramp sleeps cancelled').toBe(0)
    await h.clock.advance(10_000)
    expect(h.sent.length, 'no send after the abort').toBe(2)
  })

  it('an already aborted signal sends nothing and waits for no ramp', async () => {
    const h = createHarness({ start: 5 })
    h.controller.abort()
    const result = await h.clock.run(
      executeLoad({ kind: 'concurrent', concurrency: 4, rampUpMs: 1000, requests: 8 }, h.ctx),
    )
    expect(result, 'result').toEqual({ sent: 0, dropped: 0, ended: 'aborted', startedAt: 5, endedAt: 5 })
  })

  it('durationS shorter than the ramp: workers starting at or after the deadline send nothing', async () => {
    const h = createHarness({ start: 0, durationMs: () => 30 })
    const result = await h.clock.run(
      executeLoad({ kind: 'concurrent', concurrency: 4, rampUpMs: 100, durationS: 0.05 }, h.ctx),
    )

    // Deadline 50: worker 0 sends at 0 and 30, worker 1 at 25; worker 2 (50) and worker 3 (75) never start.
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([0, 25, 30])
    expect(result, 'result').toEqual({ sent: 3, dropped: 0, ended: 'duration', startedAt: 0, endedAt: 60 })
  })

  it('workers still in their ramp when the budget runs out do not hold the load open', async () => {
    const h = createHarness({ start: 0, durationMs: () => 10 })
    const result = await h.clock.run(
      executeLoad({ kind: 'concurrent', concurrency: 4, rampUpMs: 1000, requests: 3 }, h.ctx),
    )

    expect(
      h.sent.map((r) => r.sentAt),
      'worker 0 sends them all before worker 1 starts at 250',
    ).toEqual([0, 10, 20])
    expect(result, 'result').toEqual({ sent: 3, dropped: 0, ended: 'requests', startedAt: 0, endedAt: 30 })
    expect(h.clock.pendingSleeps, 'ramp sleeps cancelled').toBe(0)
  })

  it('refuses a negative or non-finite rampUpMs', async () => {
    const h = createHarness()
    for (const rampUpMs of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      await expect(
        executeLoad({ kind: 'concurrent', concurrency: 2, requests: 2, rampUpMs }, h.ctx),
        `rampUpMs ${rampUpMs}`,
      ).rejects.toThrow(/rampUpMs must be finite and ≥ 0/)
  })
})
