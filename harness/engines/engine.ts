/**
 * THE engine contract. Every engine (remote OpenAI-compatible endpoint, node-llama-cpp, onnxruntime)
 * implements it; the runner is the only caller. Engines never read the clock: the runner stamps each
 * event as it arrives, so timings mean the same for in-process and HTTP engines.
 * @module
 */

export type EngineKind = 'openai' | 'llama-cpp' | 'onnx'

export interface EngineCapabilities {
  /** Can return top-k log-probabilities of generated tokens. */
  logprobs: boolean
  /** Implements scoreChoices() (log-likelihood of continuations). */
  scoreChoices: boolean
  /** Can count tokens itself (client-side tokenizer). */
  tokenize: boolean
  /** Reports its own memory use. */
  memory: boolean
  /** Supports a draft model (speculative decoding). */
  draft: boolean
}

/** Static facts stored with every run so results stay comparable. */
export interface EngineInfo {
  kind: EngineKind
  /** node-llama-cpp / onnxruntime version, or the server's reported version. */
  engineVersion?: string
  /** File name or served model id. */
  model: string
  /** 'cpu' | 'cuda:0' | remote host. */
  device?: string
  capabilities: EngineCapabilities
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

/** Server-side per-request timings (llama-server `timings`), kept as reported. ms unless named. */
export interface ServerTimings {
  promptN?: number
  promptMs?: number
  predictedN?: number
  predictedMs?: number
  cacheN?: number
  draftN?: number
  draftNAccepted?: number
}

export type StreamEvent =
  /** One chunk of generated content; over HTTP a chunk may carry several tokens. */
  | { type: 'token'; text: string; tokens: number; logprobs?: TokenLogprob[] }
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
    }

export interface Engine extends AsyncDisposable {
  readonly info: EngineInfo
  /** Load the model or probe the server. Not timed. Throws EngineStartError. */
  start(signal?: AbortSignal): Promise<void>
  /**
   * One request. Yields token events then exactly one done event. Failures throw RequestError
   * (http, stream, engine); an aborted signal ends the iteration with the signal's reason.
   */
  generate(request: GenerationRequest, signal: AbortSignal): AsyncIterable<StreamEvent>
  /** Log-likelihood of each choice as a continuation of prompt (accuracy). */
  scoreChoices?(prompt: string, choices: string[]): Promise<number[]>
  /** Top-k log-probabilities at each position of a greedy continuation (quality, speculative studies). */
  topLogprobs?(prompt: string, k: number): Promise<TokenLogprob[][]>
}
