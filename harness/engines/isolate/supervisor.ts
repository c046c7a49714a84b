/**
 * The isolated engine's lifecycle as a state machine: which child serves requests, when a lost child is
 * restarted, and when the engine is dead. It starts children through `launch` and never talks to one;
 * child-host.ts does.
 *
 *   idle ──start()──▶ starting ──loaded──▶ ready ──child lost──▶ restarting ──loaded──▶ ready
 *     ▲                  │ failed                  │ budget spent      │ failed
 *     └──────────────────┘                         ▼                   ▼
 *                                                 dead ◀───────────────┘
 *   any state ──dispose()──▶ disposed
 *
 * Restart budget: at most `maxRestarts` restarts over the engine's life (README.md, "Restart policy").
 * @module
 */
import { RequestError, toError } from '../../errors.ts'
import { raceAbort } from '../native/native-common.ts'

export type IsolateState = 'idle' | 'starting' | 'ready' | 'restarting' | 'dead' | 'disposed'

/** What the supervisor needs of a child: whether it may be hung (aborts it has not acknowledged). */
export interface SupervisedChild {
  readonly unacked: ReadonlySet<number>
  /** Resolves when every abort is acknowledged or the child exited. */
  waitAcknowledged(signal?: AbortSignal): Promise<void>
}

export interface SupervisorOptions<H> {
  /** Starts a child and resolves when it is ready to serve (used for restarts). */
  launch(): Promise<H>
  /** Kills a child that became ready after the engine was disposed. */
  discard(host: H): void
  /** Restarts allowed over the engine's life. */
  maxRestarts: number
  /** The engine kind, for messages. */
  kind: string
  /** An EngineStartError naming the engine and model. */
  startError(message: string): Error
}

export class Supervisor<H extends SupervisedChild> {
  state: IsolateState = 'idle'
  /** The child serving requests (state 'ready'). */
  current: H | undefined
  restarts = 0
  /** Why the engine is dead (state 'dead'). */
  deadReason: string | undefined
  private starting: Promise<void> | undefined
  private restarting: Promise<void> | undefined

  constructor(private readonly options: SupervisorOptions<H>) {}

  /**
   * The first start, through `first` (which may check the model file before launching). Calls while it
   * runs, or after it succeeded, share its promise; after a failure the engine is idle and may try again.
   */
  start(first: () => Promise<H>): Promise<void> {
    if (this.state === 'disposed') return Promise.reject(this.options.startError('the engine was disposed'))
    if (this.state !== 'idle') return this.starting ?? Promise.resolve()
    this.state = 'starting'
    this.starting = (async () => {
      try {
        const host = await first()
        if (this.state !== 'starting') {
          this.options.discard(host)
          throw this.options.startError('the engine was disposed while loading')
        }
        this.current = host
        this.state = 'ready'
      } catch (err) {
        if (this.state === 'starting') this.state = 'idle'
        this.starting = undefined
        throw err
      }
    })()
    return this.starting
  }

  /**
   * The current child is gone (`what`: how). Restarts it in the background while the budget lasts, else the
   * engine is dead. Requests wait for the restart in acquire().
   */
  lost(what: string): void {
    this.current = undefined
    if (this.state !== 'ready') return
    if (this.restarts >= this.options.maxRestarts) {
      this.state = 'dead'
      this.deadReason = `${what}${this.restarts > 0 ? ` (after ${this.restarts} restart${this.restarts > 1 ? 's' : ''})` : ''}`
      return
    }
    this.restarts++
    this.state = 'restarting'
    this.restarting = this.options.launch().then(
      (host) => {
        if (this.state !== 'restarting') {
          this.options.discard(host)
          return
        }
        this.current = host
        this.state = 'ready'
      },
      (err: unknown) => {
        if (this.state !== 'restarting') return
        this.state = 'dead'
        this.deadReason = `${what}; the restart failed: ${toError(err).message}`
      },
    )
  }

  /** The child a new request goes to: waits out a restart or a possibly hung child; throws when there is none. */
  async acquire(signal?: AbortSignal): Promise<H> {
    for (;;) {
      switch (this.state) {
        case 'ready':
          if (!this.current) throw new RequestError('crash', 'the engine process is gone')
          if (this.current.unacked.size === 0) return this.current
          // A new request would share the fate of a child that may be hung: wait until it answers the
          // aborts or is killed for not answering (at most abortGraceMs).
          await this.current.waitAcknowledged(signal)
          continue
        case 'restarting':
          await (signal ? raceAbort(this.restarting ?? Promise.resolve(), signal) : this.restarting)
          continue
        case 'dead':
          throw new RequestError('crash', `the engine process is gone: ${this.deadReason}`)
        case 'disposed':
          throw new RequestError('engine', `the ${this.options.kind} engine was disposed`)
        case 'idle':
        case 'starting':
          throw new RequestError(
            'engine',
            `the ${this.options.kind} engine is not started; call start() first`,
          )
        default: {
          const never: never = this.state
          throw new Error(`unknown isolate state ${String(never)}`)
        }
      }
    }
  }

  /**
   * Marks the engine disposed once a start or restart in progress has settled; returns the child to stop
   * (`{ host }`), or undefined when it was disposed already.
   */
  async dispose(): Promise<{ host: H | undefined } | undefined> {
    if (this.state === 'disposed') return undefined
    const wasRestarting = this.state === 'restarting' ? this.restarting : undefined
    this.state = 'disposed'
    await this.starting?.catch(() => {})
    await wasRestarting?.catch(() => {})
    const host = this.current
    this.current = undefined
    return { host }
  }
}
