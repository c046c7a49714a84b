/**
 * THE engine contract. Every engine (remote OpenAI-compatible endpoint, node-llama-cpp, onnxruntime)
 * implements it; the runner is the only caller. Engines never read the clock: the runner stamps each
 * event as it arrives, so timings mean the same for in-process and HTTP engines. Two exceptions stamp `atMs`
 * where the chunk appeared: an engine in a child process (isolate/), where the token was produced, and the
 * lean HTTP clients (openai/openai-stream.ts, openai/body-queue.ts), where its bytes were read off the socket.
 * @module
 */
import type {
  EngineCapabilities,
  EngineInfo,
  EngineKind,
  MicroBounds,
  MicroTask,
  MicroTaskResult,
  NativeSpeedResult,
  NativeSpeedTest,
  ServerTimings,
} from '../results.ts'

/** What an engine reports that is stored with runs lives with the other stored shapes (results.ts). */
export type {
  EngineCapabilities,
  EngineInfo,
  EngineKind,
  MicroBounds,
  MicroTask,
  MicroTaskResult,
  NativeSpeedResult,
  NativeSpeedTest,
  ServerTimings,
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface Sampling {
  /** @default engine default (usually 1); 0 = greedy */
  temperature?: number
  topP?: number
  topK?: number
  seed?: number
  stop?: string[]
  presencePenalty?: number
  frequencyPenalty?: number
  repetitionPenalty?: number
}

export interface GenerationRequest {
  /** Raw prompt (completions API, native engines). Always set: chat engines use it when messages are absent. */
  prompt: string
  /** Chat turns for chat APIs; when absent a chat engine sends `[{ role: 'user', content: prompt }]`. */
  messages?: ChatMessage[]
  /** Upper bound on generated tokens. */
  maxTokens: number
  /** Ask the server to generate at least this many tokens (vLLM `min_tokens`), for fixed output lengths. */
  minTokens?: number
  /** Ask the server to ignore end-of-sequence (vLLM / llama-server `ignore_eos`), for fixed output lengths. */
  ignoreEos?: boolean
  sampling?: Sampling
  /** Request this many top log-probabilities per generated token. */
  topLogprobs?: number
}

export interface TokenLogprob {
  token: string
  logprob: number
  top?: { token: string; logprob: number }[]
}

export type StreamEvent =
  /** One chunk of generated content; over HTTP a chunk may carry several tokens. */
  | {
      type: 'token'
      text: string
      tokens: number
      logprobs?: TokenLogprob[]
      /**
       * When the engine produced the chunk: wall-aligned ms, `wallMs()` of harness/clock.ts (=
       * `performance.timeOrigin + performance.now()`) in the process that produced it. Optional: an engine
       * stamps only where its own arrival time would be late — engines in another process on the same
       * machine (isolate/), whose events would otherwise be stamped late by the IPC hop, and the lean HTTP
       * clients at the socket read (so a burst of streams is not stamped in processing order). Read the
       * clock once per read and give every chunk decoded from it that stamp. The runner converts it with
       * the run clock's `fromWallMs` (ignored on a clock without one, e.g. a fake clock in tests) and never
       * lets it fall before tSend or the previous chunk.
       */
      atMs?: number
      /**
       * On the first token only: when the engine handed the request to its transport (HTTP: just before
       * the request is written, METRICS.md tSend), absolute epoch ms as `atMs`. On the system clock the
       * runner counts TTFT and E2E from it rather than from before generate(), so building the body and
       * the request's own set-up (~0.1 ms, `bench selftest`) are not part of TTFT.
       */
      sentAtMs?: number
    }
  | {
      type: 'done'
      /** As counted by the server (usage) or the engine's tokenizer. */
      promptTokens?: number
      outputTokens?: number
      /** Where outputTokens came from. */
      tokensSource?: 'server' | 'tokenizer'
      /** The engine's own tokenizer count of the output, when it has one besides the server's. */
      tokenizerOutputTokens?: number
      finishReason?: string
      serverTimings?: ServerTimings
      /**
       * Times the request was sent again because a reused connection closed before any byte of the
       * response (HTTP clients only; absent = 0). A failed request carries its count on the error instead
       * (connection-retry.ts).
       */
      connectionRetries?: number
    }

/**
 * Memory of the process hosting an engine (METRICS.md names), for engines that own a process (isolate/).
 * Bytes unless the name says otherwise; a figure the engine cannot tell is left out.
 */
export interface MemorySample {
  /** Max RSS since the previous memory() call (the first call: since the load ended). */
  peakRssBytes?: number
  /** RSS samples behind peakRssBytes (sampled ≥ 10 Hz). */
  rssSamples?: number
  /** RSS right after the model loaded. */
  loadRssBytes?: number
  /** Max RSS from the process start to the end of the load. */
  loadPeakRssBytes?: number
  /** Model load time (start()), ms. */
  loadMs?: number
  /** Model file size. */
  modelBytes?: number
  /** Device memory in use, as the engine reports it (node-llama-cpp on a GPU backend). */
  vramBytes?: number
}

/**
 * llama-bench-style engine throughput (METRICS.md `promptTokensPerS` / `genTokensPerS`): what the engine does
 * without HTTP, tokenization, sampling or detokenization. Sizes mean what llama-bench's flags mean.
 */
export interface NativeSpeedOptions {
  /** pp: prompt tokens evaluated as one batch from an empty context (llama-bench `-p`); 0 skips it. @default 512 */
  pp?: number
  /** tg: tokens decoded one at a time from an empty context (llama-bench `-n`); 0 skips it. @default 128 */
  tg?: number
  /** Timed repetitions of each test (llama-bench `-r`). @default 5 */
  repetitions?: number
  /** Tokens already in the context before each timed test (llama-bench `-d`), untimed. @default 0 */
  depth?: number
  /** Skip the untimed warmup run of each test (llama-bench `--no-warmup`). @default false */
  noWarmup?: boolean
}

/**
 * Optional fast path of a generate() result (the lean HTTP clients offer it; the runner uses it when
 * there). Rather than a promise per event, the stream calls `onEvent` synchronously for each event as it
 * is decoded — the same events in the same order as iteration gives — and the returned promise settles
 * once: after the done event, or with the error iteration would throw. An exception thrown by `onEvent`
 * ends the request, and the promise rejects with it. A token event handed to `onEvent` may be the same
 * object refilled for the next token: read it during the call and copy what you keep. A stream is either
 * pushed or iterated, once.
 */
export interface EventPusher {
  pushEvents(onEvent: (event: StreamEvent) => void): Promise<void>
}

/** The generate() result offers pushEvents() (EventPusher). */
export function canPushEvents(
  stream: AsyncIterable<StreamEvent>,
): stream is AsyncIterable<StreamEvent> & EventPusher {
  return typeof (stream as Partial<EventPusher>).pushEvents === 'function'
}

/**
 * One window of a text for quality (METRICS.md, "Quality relative to a reference variant"), as
 * llama-perplexity --kl-divergence cuts it: the text is tokenized once as a prompt (BOS first when the model
 * adds one), window w is tokens [w·contextTokens, (w + 1)·contextTokens), evaluated from an empty context
 * with its first token replaced by BOS (when the model adds one), and only its second half is scored.
 */
export interface TokenLogProbsOptions {
  /** Tokens per window (llama-perplexity `-c`); ≥ 4 and ≤ the engine's context. */
  contextTokens: number
  /** 0-based window index; `windows` of the answer says how many the text holds. */
  window: number
  /**
   * Evaluate these token ids as the one window instead of tokenizing the text (which is then ignored):
   * `contextTokens` must be their length and `window` 0; position 0 is still evaluated as BOS when the model
   * adds one. For a server that evaluates ids it was sent (the mock's model-backed logprobs).
   */
  tokens?: readonly number[]
  /** First scored position instead of floor(contextTokens / 2); ≥ 0 (0: every position). */
  firstScored?: number
}

export interface TokenLogProbs {
  /** The window's token ids as the text tokenized (position 0 as in the text, though evaluated as BOS). */
  tokens: number[]
  /** Whole windows in the text: floor(text tokens / contextTokens). */
  windows: number
  /** First scored position: floor(contextTokens / 2) (llama-perplexity's `first = n_ctx/2`). */
  firstScored: number
  vocabSize: number
  /**
   * Natural-log next-token probabilities over the whole vocabulary, row-major: row i is the distribution
   * after tokens[0 … firstScored + i], predicting tokens[firstScored + i + 1]; contextTokens − 1 −
   * firstScored rows (llama-perplexity's n_ctx − 1 − first). One window per call keeps memory at
   * rows × vocabSize × 4 bytes (256 × 152k ≈ 156 MB for a Qwen vocabulary at contextTokens 512).
   */
  logProbs: Float32Array
}

/** What topKLogProbs() asks for: a window as TokenLogProbsOptions, and k. */
export interface TopKLogProbsOptions extends Pick<TokenLogProbsOptions, 'contextTokens' | 'window'> {
  /** Most likely tokens per position (vLLM caps it at its `--max-logprobs`, default 20). */
  k: number
}

/** One scored position of topKLogProbs(): the k most likely next tokens, and the actual next token. */
export interface TopKRow {
  /** The k most likely token ids with their natural-log probabilities, most likely first (ties: lower id). */
  top: { id: number; logprob: number }[]
  /** ln p of the actual next token (the text's token at this position + 1), listed or not. */
  nextLogprob: number
}

/** One window as an endpoint delivers it: TokenLogProbs' window, top-k lists instead of full rows. */
export interface TopKLogProbs extends Omit<TokenLogProbs, 'vocabSize' | 'logProbs'> {
  /** contextTokens − 1 − firstScored rows, row i predicting tokens[firstScored + i + 1]. */
  rows: TopKRow[]
}

export interface Engine extends AsyncDisposable {
  readonly info: EngineInfo
  /** Load the model or probe the server. Not timed. Throws EngineStartError. */
  start(signal?: AbortSignal): Promise<void>
  /**
   * One request. Yields token events then exactly one done event. Failures throw RequestError
   * (http, stream, engine); an aborted signal ends the iteration with the signal's reason. The result may
   * also offer pushEvents() (EventPusher), the same stream without a promise per event.
   *
   * Time and cancellation belong to the caller: `signal` is the request's one deadline (request.ts aborts
   * it with a RequestTimeout when the scenario's requestTimeoutMs passes, or with the run's reason on an
   * interrupt). An engine keeps no whole-request timer of its own; it may bound steps the caller cannot
   * see (a TCP connect) and reports those as its own RequestError.
   */
  generate(request: GenerationRequest, signal: AbortSignal): AsyncIterable<StreamEvent>
  /**
   * Log-likelihood (natural log, summed over the continuation's tokens) of each choice as a continuation
   * of prompt (accuracy, METRICS.md `scoring: 'loglik'`). An engine that turns out unable to (an endpoint
   * without prompt logprobs, a continuation longer than the one next token an endpoint scores) throws
   * CapabilityError (harness/errors.ts) rather than returning a made-up figure; other failures throw
   * RequestError. `signal` (the item's deadline) aborted: the engine stops at its next step (between
   * choices, or its HTTP request) and rejects with the signal's reason, so a timed-out item does not keep
   * the engine busy for the next.
   */
  scoreChoices?(prompt: string, choices: string[], signal?: AbortSignal): Promise<number[]>
  /** Top-k log-probabilities at each position of a greedy continuation (quality, speculative studies). */
  topLogprobs?(prompt: string, k: number): Promise<TokenLogprob[][]>
  /**
   * Full next-token distributions over one window of a text (quality, TokenLogProbsOptions). Native engines
   * only; the same text gives the same token ids on engines that share a tokenizer, which the caller checks.
   * A window past the text's end or a contextTokens the engine cannot hold throws RequestError. `signal`
   * as for scoreChoices (checked between evaluation chunks).
   */
  tokenLogProbs?(text: string, options: TokenLogProbsOptions, signal?: AbortSignal): Promise<TokenLogProbs>
  /**
   * The top-k next-token log-probabilities at every scored position of one window of a text (quality from
   * an endpoint, approximate: harness/quality/top-k.ts), windows as tokenLogProbs cuts them, the text
   * tokenized by the endpoint. An endpoint that cannot deliver them (no prompt logprobs, fewer than k per
   * position, ids that do not line up with what it was sent) throws CapabilityError naming what it lacks,
   * found by a small probe before the first window; never a made-up row. `signal` as for scoreChoices.
   */
  topKLogProbs?(text: string, options: TopKLogProbsOptions, signal?: AbortSignal): Promise<TopKLogProbs>
  /**
   * Memory of the engine's process. The runner calls it right before a measurement window (which starts
   * a new peak) and right after it, and stores the second answer with the run's metrics.
   */
  memory?(): Promise<MemorySample>
  /**
   * llama-bench-style pp / tg of the loaded model (native engines that can decode without sampling). Runs
   * when no request is in flight: it takes a sequence like a request and holds it for the whole measurement.
   */
  nativeSpeed?(options: NativeSpeedOptions): Promise<NativeSpeedResult>
  /**
   * One micro task measured with tinybench where the engine runs (harness/micro/README.md): tokenize,
   * forward or prefill-decode, within `bounds`, random ids and text from `seed`. Native engines whose
   * definition has the `micro` capability. Like nativeSpeed it holds a sequence for the whole task, so it
   * runs when no request is in flight. A task that does not fit (a prompt longer than the context) or an
   * iteration that failed throws RequestError; `signal` aborted stops tinybench and rejects with its reason.
   */
  micro?(task: MicroTask, bounds: MicroBounds, seed: number, signal?: AbortSignal): Promise<MicroTaskResult>
}
