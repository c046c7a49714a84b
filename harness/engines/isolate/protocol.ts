/**
 * Messages between an isolated engine (parent) and its child process, over the Node IPC channel (JSON).
 * Times are absolute epoch ms, `performance.timeOrigin + performance.now()` of the process that stamped them.
 * @module
 */
import type { EngineInfo, GenerationRequest, MemorySample, StreamEvent, TokenLogprob } from '../engine.ts'

/**
 * Which engine the child runs: a registered kind whose definition has `isolate`, with the options its
 * `isolate.load()` takes (what create() resolved: absolute model path …; JSON).
 */
export interface IsolatedEngineSpec {
  kind: string
  options: unknown
}

/** tokenLogProbs' result crosses as TokenLogProbsWire (log-probs-wire.ts). */
export type CallMethod = 'scoreChoices' | 'topLogprobs' | 'tokenLogProbs' | 'memory' | 'nativeSpeed' | 'micro'

export type ParentMessage =
  /**
   * Load the model. `module`: the definition's isolate.module, imported when the child's registry does not
   * list the kind (one registered at run time). `reportRss`: sample own RSS and send it (no /proc to read
   * from outside).
   */
  | { type: 'start'; spec: IsolatedEngineSpec; module: string; reportRss: boolean; rssIntervalMs: number }
  | { type: 'generate'; id: number; request: GenerationRequest }
  | { type: 'abort'; id: number }
  | { type: 'call'; id: number; method: CallMethod; args: unknown[] }
  /** Clock check: the child answers with its own time. */
  | { type: 'ping'; id: number }
  /** Dispose the engine and exit. */
  | { type: 'stop' }

/** An error as it crosses the process boundary. */
export interface WireError {
  name: string
  message: string
  /** RequestError kind. */
  kind?: string
  status?: number
  /** EngineStartError fields. */
  engine?: string
  model?: string
}

type TokenEvent = Extract<StreamEvent, { type: 'token' }>
type DoneEvent = Extract<StreamEvent, { type: 'done' }>

export type ChildMessage =
  | { type: 'started'; info: EngineInfo; loadMs: number; rssBytes: number; memory?: MemorySample }
  | { type: 'start-failed'; error: WireError }
  /** One token event; `atMs` when the engine yielded it. */
  | { type: 'token'; id: number; text: string; tokens: number; logprobs?: TokenLogprob[]; atMs: number }
  /** The request's done event; `receivedAtMs` when the child got the generate message. */
  | { type: 'done'; id: number; event: DoneEvent; receivedAtMs: number }
  /** The request failed or was aborted (the acknowledgement of an abort). */
  | { type: 'failed'; id: number; error: WireError; receivedAtMs: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'call-failed'; id: number; error: WireError }
  | { type: 'pong'; id: number; atMs: number }
  /** Own RSS, bytes (only with reportRss). */
  | { type: 'rss'; bytes: number }
  /** A request's messages sent together; `sentAtMs` when the child sent the batch. */
  | { type: 'batch'; sentAtMs: number; messages: ChildMessage[] }

export type { DoneEvent, TokenEvent }
