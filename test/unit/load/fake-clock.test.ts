import { stat } from 'node:fs/promises'
import { describe, expect, it, vi } from 'vitest'
import { createFakeClock } from '../../helpers/fake-clock.ts'

describe('createFakeClock', () => {
  it('starts at the given time and moves only when told', async () => {
    const clock = createFakeClock(500)
    expect(clock.now(), 'start').toBe(500)
    await clock.flush()
    expect(clock.now(), 'after a flush').toBe(500)
    await clock.advance(20)
    expect(clock.now(), 'after advance(20)').toBe(520)
  })

  it('wakes sleepers in deadline order, FIFO among equal deadlines, each seeing its own deadline', async () => {
    const clock = createFakeClock()
    const woke: string[] = []
    const nap = (name: string, ms: number) => clock.sleep(ms).then(() => woke.push(`${name}@${clock.now()}`))
    void nap('c', 300)
    void nap('a', 100)
    void nap('b1', 200)
    void nap('b2', 200)
    expect(clock.nextDeadline(), 'next deadline').toBe(100)
    await clock.runUntilIdle()
    expect(woke, 'order').toEqual(['a@100', 'b1@200', 'b2@200', 'c@300'])
    expect(clock.pendingSleeps, 'pending').toBe(0)
  })

  it('lets woken code run before the next wake-up, so a new shorter sleep goes first', async () => {
    const clock = createFakeClock()
    const woke: string[] = []
    void (async () => {
      await clock.sleep(100)
      woke.push(`a@${clock.now()}`)
      // Several awaits deep, as real code is.
      await Promise.resolve()
      await (async () => {})()
      await clock.sleep(50)
      woke.push(`a2@${clock.now()}`)
    })()
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`))
    await clock.runUntilIdle()
    expect(woke, 'order').toEqual(['a@100', 'a2@150', 'b@300'])
  })

  it('advance wakes only what is due and ends at the target', async () => {
    const clock = createFakeClock()
    const woke: number[] = []
    for (const ms of [50, 150, 250]) void clock.sleep(ms).then(() => woke.push(clock.now()))
    await clock.advance(150)
    expect(woke, 'woken').toEqual([50, 150])
    expect(clock.now(), 'now').toBe(150)
    expect(clock.pendingSleeps, 'pending').toBe(1)
  })

  it('sleep(0) and negative sleeps resolve without time passing', async () => {
    const clock = createFakeClock(10)
    await clock.sleep(0)
    await clock.sleep(-5)
    expect(clock.now(), 'now').toBe(10)
    expect(clock.pendingSleeps, 'pending').toBe(0)
  })

  it('abort rejects with the reason and removes the sleeper; an aborted signal rejects at once', async () => {
    const clock = createFakeClock()
    const controller = new AbortController()
    const sleeping = clock.sleep(1000, controller.signal)
    expect(clock.pendingSleeps, 'pending before abort').toBe(1)
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(sleeping, 'aborted sleep').rejects.toBe(reason)
    expect(clock.pendingSleeps, 'pending after abort').toBe(0)
    await expect(clock.sleep(5, controller.signal), 'already aborted').rejects.toBe(reason)
    expect(clock.now(), 'no time passed').toBe(0)
  })

  it('stall jumps time without waking; overdue sleepers wake late, in order, seeing the later time', async () => {
    const clock = createFakeClock()
    const woke: string[] = []
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`))
    void clock.sleep(200).then(() => woke.push(`b@${clock.now()}`))
    void clock.sleep(400).then(() => woke.push(`c@${clock.now()}`))
    clock.stall(250)
    await clock.flush()
    expect(woke, 'nothing wakes during a stall').toEqual([])
    await clock.runUntilIdle()
    expect(woke, 'late wake-ups').toEqual(['a@250', 'b@250', 'c@400'])
  })

  it('run returns the value, rethrows the rejection, and reports a deadlock', async () => {
    const clock = createFakeClock()
    const value = clock.sleep(100).then(() => clock.now() * 2)
    expect(await clock.run(value), 'value').toBe(200)

    const failing = clock.sleep(10).then(() => {
      throw new Error('nope')
    })
    await expect(clock.run(failing), 'rejection').rejects.toThrow('nope')

    const never = new Promise<void>(() => {})
    await expect(clock.run(never), 'deadlock').rejects.toThrow(/deadlock at t=110/)
  })

  it('run stops once the promise settles, leaving later sleepers pending', async () => {
    const clock = createFakeClock()
    void clock.sleep(1000)
    await clock.run(clock.sleep(10))
    expect(clock.now(), 'now').toBe(10)
    expect(clock.pendingSleeps, 'pending').toBe(1)
  })

  it("run with whenIdle 'wait' waits for work outside the clock (e.g. I/O) to schedule the next sleep", async () => {
    const clock = createFakeClock()
    const job = (async () => {
      await clock.sleep(10)
      // Real I/O: no fake sleep is pending while it runs.
      await stat(process.cwd())
      await clock.sleep(20)
      return clock.now()
    })()
    expect(await clock.run(job, { whenIdle: 'wait' }), 'finished at').toBe(30)
  })

  it('refuses an endless schedule after maxSteps and overlapping drivers', async () => {
    const clock = createFakeClock()
    const stop = new AbortController()
    void (async () => {
      while (!stop.signal.aborted) await clock.sleep(1, stop.signal).catch(() => {})
    })()
    await expect(clock.runUntilIdle({ maxSteps: 50 }), 'endless').rejects.toThrow(/still busy after 50/)
    const first = clock.advance(10)
    await expect(clock.advance(10), 'overlap').rejects.toThrow(/while another one is running/)
    await first
    stop.abort()
    await clock.runUntilIdle()
    expect(clock.pendingSleeps, 'pending').toBe(0)
  })

  it('keeps working when the suite fakes timers', async () => {
    vi.useFakeTimers()
    try {
      const clock = createFakeClock()
      const woke: number[] = []
      void clock.sleep(5).then(() => woke.push(clock.now()))
      await clock.runUntilIdle()
      expect(woke, 'woken').toEqual([5])
    } finally {
      vi.useRealTimers()
    }
  })
})
