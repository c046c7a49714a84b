/**
 * The isolated engine's lifecycle (harness/engines/isolate/supervisor.ts) with stand-in children: start,
 * restarts within the budget, dead after it or after a failed restart, dispose during a load, and new
 * requests held back from a child that may be hung. The real children are test/engines/isolate*.test.ts's.
 */
import { describe, expect, it } from 'vitest'
import { type SupervisedChild, Supervisor } from '../../../harness/engines/isolate/supervisor.ts'
import { RequestError } from '../../../harness/errors.ts'

class FakeChild implements SupervisedChild {
  readonly unacked = new Set<number>()
  killed = false
  private waiting: (() => void)[] = []
  constructor(readonly name: string) {}
  waitAcknowledged(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve))
  }
  acknowledgeAll(): void {
    this.unacked.clear()
    for (const resolve of this.waiting.splice(0)) resolve()
  }
}

/** A supervisor whose launches are answered by hand: resolve(child) or reject(error) the next one. */
function harness(maxRestarts: number) {
  const launches: { resolve(child: FakeChild): void; reject(err: Error): void }[] = []
  const supervisor = new Supervisor<FakeChild>({
    launch: () => new Promise((resolve, reject) => launches.push({ resolve, reject })),
    discard: (child) => {
      child.killed = true
    },
    maxRestarts,
    kind: 'fake',
    startError: (message) => new Error(`start: ${message}`),
  })
  return { supervisor, launches }
}

describe('isolate supervisor', () => {
  it('starts once: concurrent start() calls share the load; a failed start leaves it idle to retry', async () => {
    const { supervisor } = harness(1)
    let loads = 0
    await expect(
      supervisor.start(async () => {
        loads++
        throw new Error('no such file')
      }),
    ).rejects.toThrow('no such file')
    expect(supervisor.state).toBe('idle')
    const a = new FakeChild('a')
    const first = supervisor.start(async () => {
      loads++
      return a
    })
    const second = supervisor.start(async () => {
      loads++
      return new FakeChild('never')
    })
    expect(supervisor.state).toBe('starting')
    await Promise.all([first, second])
    expect(loads, 'the second start shared the first').toBe(2)
    expect(supervisor.state).toBe('ready')
    expect(await supervisor.acquire()).toBe(a)
  })

  it('restarts a lost child within the budget, then is dead naming what happened', async () => {
    const { supervisor, launches } = harness(1)
    await supervisor.start(async () => new FakeChild('a'))
    supervisor.lost('child a was killed by SIGKILL')
    expect(supervisor.state).toBe('restarting')
    expect(supervisor.restarts).toBe(1)
    const waiting = supervisor.acquire()
    const b = new FakeChild('b')
    launches[0]!.resolve(b)
    expect(await waiting, 'a request sent meanwhile waits for the restart').toBe(b)
    expect(supervisor.state).toBe('ready')
    supervisor.lost('child b exited with code 1')
    expect(supervisor.state, 'budget of 1 spent').toBe('dead')
    expect(supervisor.deadReason).toBe('child b exited with code 1 (after 1 restart)')
    expect(launches).toHaveLength(1)
    const gone = await supervisor.acquire().catch((err: unknown) => err)
    expect(gone).toBeInstanceOf(RequestError)
    expect((gone as RequestError).kind).toBe('crash')
    expect((gone as Error).message).toBe(
      'the engine process is gone: child b exited with code 1 (after 1 restart)',
    )
  })

  it('is dead when the restart fails, with both reasons', async () => {
    const { supervisor, launches } = harness(3)
    await supervisor.start(async () => new FakeChild('a'))
    supervisor.lost('child a was killed by SIGSEGV')
    const waiting = supervisor.acquire().catch((err: unknown) => err)
    launches[0]!.reject(new Error('the model is gone'))
    expect(((await waiting) as Error).message).toBe(
      'the engine process is gone: child a was killed by SIGSEGV; the restart failed: the model is gone',
    )
    expect(supervisor.state).toBe('dead')
  })

  it('with maxRestarts 0 a lost child makes the engine dead at once', async () => {
    const { supervisor, launches } = harness(0)
    await supervisor.start(async () => new FakeChild('a'))
    supervisor.lost('child a exited with code 134')
    expect(supervisor.state).toBe('dead')
    expect(supervisor.deadReason).toBe('child a exited with code 134')
    expect(launches).toHaveLength(0)
  })

  it('holds a new request back while the child has unacknowledged aborts', async () => {
    const { supervisor } = harness(1)
    const a = new FakeChild('a')
    await supervisor.start(async () => a)
    a.unacked.add(7)
    let got: FakeChild | undefined
    const pending = supervisor.acquire().then((child) => {
      got = child
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(got, 'not while the abort is unacknowledged').toBeUndefined()
    a.acknowledgeAll()
    await pending
    expect(got).toBe(a)
  })

  it('disposed during a load: the child that arrives is discarded and start() says why', async () => {
    const { supervisor } = harness(1)
    let finishLoad: (child: FakeChild) => void = () => {}
    const started = supervisor.start(() => new Promise((resolve) => (finishLoad = resolve)))
    const disposing = supervisor.dispose()
    const late = new FakeChild('late')
    finishLoad(late)
    await expect(started).rejects.toThrow('start: the engine was disposed while loading')
    expect(await disposing).toEqual({ host: undefined })
    expect(late.killed).toBe(true)
    expect(supervisor.state).toBe('disposed')
    expect(await supervisor.dispose(), 'a second dispose has nothing to stop').toBeUndefined()
    await expect(supervisor.start(async () => new FakeChild('x'))).rejects.toThrow(
      'start: the engine was disposed',
    )
    await expect(supervisor.acquire()).rejects.toThrow('the fake engine was disposed')
  })

  it('disposed while restarting: the restarted child is discarded, dispose hands back no child', async () => {
    const { supervisor, launches } = harness(1)
    await supervisor.start(async () => new FakeChild('a'))
    supervisor.lost('child a was killed by SIGKILL')
    const disposing = supervisor.dispose()
    const b = new FakeChild('b')
    launches[0]!.resolve(b)
    expect(await disposing).toEqual({ host: undefined })
    expect(b.killed).toBe(true)
  })
})
