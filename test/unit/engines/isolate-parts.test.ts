/** The pure parts of the isolate: clock offset estimation and the per-request event queue. */
import { describe, expect, it } from 'vitest'
import { estimateClockOffset } from '../../../harness/engines/isolate/clock-sync.ts'
import { EventQueue } from '../../../harness/engines/isolate/event-queue.ts'

describe('estimateClockOffset', () => {
  it('takes the shortest round trip; offset = child time − midpoint', () => {
    const r = estimateClockOffset([
      { sentMs: 1000, childMs: 1003, receivedMs: 1004 }, // rtt 4
      { sentMs: 2000, childMs: 2000.5, receivedMs: 2001 }, // rtt 1, midpoint 2000.5 → offset 0
      { sentMs: 3000, childMs: 3010, receivedMs: 3002 }, // rtt 2
    ])
    expect(r, 'from the 1 ms ping').toEqual({ offsetMs: 0, rttMs: 1, corrected: false })
  })

  it('corrects only an offset larger than half the round trip', () => {
    expect(
      estimateClockOffset([{ sentMs: 0, childMs: 5.5, receivedMs: 1 }]),
      'child 5 ms ahead, ±0.5',
    ).toEqual({ offsetMs: 5, rttMs: 1, corrected: true })
    expect(estimateClockOffset([{ sentMs: 0, childMs: 0.9, receivedMs: 1 }]), 'within the error').toEqual({
      offsetMs: 0.4,
      rttMs: 1,
      corrected: false,
    })
  })

  it('without pings: no offset', () => {
    expect(estimateClockOffset([]).corrected, 'not corrected').toBe(false)
  })
})

describe('EventQueue', () => {
  it('hands out buffered items in order, then waits, then ends', async () => {
    const q = new EventQueue<number>()
    q.push(1)
    q.push(2)
    expect(await q.next(), 'first').toEqual({ value: 1, done: false })
    expect(await q.next(), 'second').toEqual({ value: 2, done: false })
    const waiting = q.next()
    q.push(3)
    expect(await waiting, 'pushed while waiting').toEqual({ value: 3, done: false })
    q.push(4)
    q.end()
    expect(await q.next(), 'buffered before the end').toEqual({ value: 4, done: false })
    expect(await q.next(), 'end').toEqual({ value: undefined, done: true })
  })

  it('a failure drops buffered items and rejects every later read', async () => {
    const q = new EventQueue<number>()
    q.push(1)
    const reason = new Error('aborted')
    q.fail(reason)
    q.push(2)
    await expect(q.next(), 'buffered item dropped').rejects.toBe(reason)
    await expect(q.next(), 'still failed').rejects.toBe(reason)
  })

  it('a failure wakes a waiting reader', async () => {
    const q = new EventQueue<number>()
    const waiting = q.next()
    const reason = new Error('crash')
    q.fail(reason)
    await expect(waiting, 'rejected').rejects.toBe(reason)
  })
})
