import { describe, expect, it } from 'vitest'
import { DeadlineScheduler, type ScheduledTask } from '../../../harness/mock-server/scheduler.ts'

function task(
  name: string,
  deadlineMs: number,
  log: string[],
  onRun?: (t: ScheduledTask) => void,
): ScheduledTask {
  const t: ScheduledTask = {
    deadlineMs,
    heapIndex: -1,
    heapSeq: 0,
    run: () => {
      log.push(name)
      onRun?.(t)
    },
  }
  return t
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('DeadlineScheduler', () => {
  it('runs due tasks in deadline order, ties in insertion order, and skips cancelled ones', async () => {
    const scheduler = new DeadlineScheduler()
    const base = performance.now() - 100
    const log: string[] = []
    const tasks = [
      task('c', base + 30, log),
      task('a', base + 10, log),
      task('b1', base + 20, log),
      task('b2', base + 20, log),
      task('x', base + 15, log),
      task('d', base + 40, log),
    ]
    for (const t of tasks) scheduler.schedule(t)
    scheduler.cancel(tasks[4]!)
    expect(scheduler.size, 'queued after cancel').toBe(5)
    await settle(20)
    expect(log, 'order').toEqual(['a', 'b1', 'b2', 'c', 'd'])
    expect(scheduler.size, 'empty').toBe(0)
    scheduler.close()
  })

  it('never runs a task before its deadline; a task may re-schedule itself from run()', async () => {
    const scheduler = new DeadlineScheduler()
    const log: string[] = []
    const ranAt: number[] = []
    const start = performance.now()
    const deadlines = [start + 15, start + 25, start + 35]
    let k = 0
    const t = task('tick', deadlines[0]!, log, (self) => {
      ranAt.push(performance.now())
      if (++k < deadlines.length) {
        self.deadlineMs = deadlines[k]!
        scheduler.schedule(self)
      }
    })
    scheduler.schedule(t)
    await settle(80)
    expect(log.length, 'runs').toBe(3)
    for (let i = 0; i < 3; i++) expect(ranAt[i]!, `run ${i} not early`).toBeGreaterThanOrEqual(deadlines[i]!)
    scheduler.close()
  })

  it('close() drops queued work', async () => {
    const scheduler = new DeadlineScheduler()
    const log: string[] = []
    scheduler.schedule(task('late', performance.now() + 5, log))
    scheduler.close()
    await settle(20)
    expect(log, 'nothing ran').toEqual([])
    scheduler.schedule(task('after close', performance.now() - 1, log))
    await settle(5)
    expect(log, 'ignored after close').toEqual([])
  })
})
