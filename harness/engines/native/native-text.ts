/**
 * Turns generated token ids into the text chunks a native engine streams: one chunk per token, except that
 * a token ending inside a UTF-8 character (byte-fallback vocabularies) is held until the character is
 * complete and then sent together with it (`tokens: 2`, …), and text that may be the start of a stop string
 * is held until it is known not to be. So no chunk ever carries empty or half-decoded text, which METRICS.md
 * would not count as content, and the sum of the chunks' `tokens` is the generated count unless a stop
 * string or a text-less token (a control token) ends the output.
 * @module
 */
import type { StreamEvent, TokenLogprob } from '../engine.ts'

export interface TextChunk {
  text: string
  /** Tokens completed by this chunk: ≥ 1, except 0 for held stop-prefix text flushed at the end. */
  tokens: number
}

export interface TokenTextStreamOptions {
  /**
   * Text of `tokens`, which follow `previous` in the output (SentencePiece needs the preceding tokens to
   * decide about a leading space). An incomplete UTF-8 sequence must decode to a trailing U+FFFD.
   */
  decode(tokens: readonly number[], previous: readonly number[]): string
  /** Stop strings: the output ends before the first occurrence of any of them. */
  stop?: readonly string[]
  /** Stop strings are looked for only once this many tokens were generated (vLLM `min_tokens`). @default 0 */
  stopAfterTokens?: number
}

export interface PushResult {
  /** The text that became complete with this token, if any. */
  chunk?: TextChunk
  /** A stop string was found: the caller ends the generation (the stop string is not part of the output). */
  stopped: boolean
}

/** The longest UTF-8 character; held tokens beyond this are invalid bytes and get sent as decoded. */
const MAX_HELD_TOKENS = 4
/** Tokens of left context handed to decode(). */
const CONTEXT_TOKENS = 8

export class TokenTextStream {
  readonly #decode: TokenTextStreamOptions['decode']
  readonly #stop: readonly string[]
  readonly #stopAfterTokens: number
  readonly #tokens: number[] = []
  /** Index of the first token whose text is not decoded yet. */
  #undecoded = 0
  /** Decoded text held back because it could begin a stop string. */
  #heldText = ''
  /** Tokens decoded but not yet attributed to a chunk. */
  #heldTokens = 0

  constructor(options: TokenTextStreamOptions) {
    this.#decode = options.decode
    this.#stop = (options.stop ?? []).filter((s) => s.length > 0)
    this.#stopAfterTokens = options.stopAfterTokens ?? 0
  }

  /** Every token pushed so far. */
  get tokens(): readonly number[] {
    return this.#tokens
  }

  push(token: number): PushResult {
    this.#tokens.push(token)
    const pending = this.#tokens.slice(this.#undecoded)
    const text = this.#decode(
      pending,
      this.#tokens.slice(Math.max(0, this.#undecoded - CONTEXT_TOKENS), this.#undecoded),
    )
    if (text.endsWith('\uFFFD') && pending.length < MAX_HELD_TOKENS) return { stopped: false }
    this.#undecoded = this.#tokens.length
    this.#heldTokens += pending.length
    const candidate = this.#heldText + text
    if (this.#stop.length === 0 || this.#tokens.length < this.#stopAfterTokens)
      return this.#emit(candidate, '', 0)

    let stopAt = -1
    for (const s of this.#stop) {
      const i = candidate.indexOf(s)
      if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i
    }
    if (stopAt >= 0) return { ...this.#emit(candidate.slice(0, stopAt), '', 0), stopped: true }
    const hold = this.#stopPrefixLength(candidate)
    if (hold === 0) return this.#emit(candidate, '', 0)
    // The held text ends with this token's text, so this token (at least) stays with it.
    return this.#emit(candidate.slice(0, candidate.length - hold), candidate.slice(-hold), pending.length)
  }

  /** At the end of the generation: whatever is still held, decoded as it is. */
  finish(): TextChunk | undefined {
    const pending = this.#tokens.slice(this.#undecoded)
    const text =
      pending.length > 0
        ? this.#decode(
            pending,
            this.#tokens.slice(Math.max(0, this.#undecoded - CONTEXT_TOKENS), this.#undecoded),
          )
        : ''
    this.#undecoded = this.#tokens.length
    this.#heldTokens += pending.length
    return this.#emit(this.#heldText + text, '', 0).chunk
  }

  /** Sends `text` with the tokens decoded so far except `keepTokens`, which stay with the held text. */
  #emit(text: string, held: string, keepTokens: number): PushResult {
    this.#heldText = held
    if (text.length === 0) return { stopped: false }
    // A token split between sent and held text counts with the sent part, so a chunk carries ≥ 1 token
    // unless it is held text flushed by finish() after its token was already counted.
    const tokens = Math.max(this.#heldTokens - keepTokens, Math.min(1, this.#heldTokens))
    const chunk = { text, tokens }
    this.#heldTokens -= tokens
    return { chunk, stopped: false }
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  #stopPrefixLength(text: string): number {
    let best = 0
    for (const s of this.#stop) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) {
          best = n
          break
        }
      }
    }
    return best
  }
}

/**
 * What a native engine's decode loop does with each sampled token, shared by llama-cpp and onnx: count
 * it, keep its logprobs when the request asked for them, turn it into text (TokenTextStream) and say
 * whether a stop string ended the output; at the end, the text still held and the done event. The loop
 * itself (the runtime's calls, sampling, abort) stays in each engine.
 */
export class GeneratedOutput {
  /** Tokens accepted so far (METRICS.md outputTokens as the engine's tokenizer counts them). */
  generated = 0
  #finishReason = 'length'
  #stopString = false
  /** Logprobs of tokens not yet sent with a chunk; undefined when the request did not ask for them. */
  #logprobs: TokenLogprob[] | undefined

  constructor(
    private readonly stream: TokenTextStream,
    wantLogprobs: boolean,
  ) {
    if (wantLogprobs) this.#logprobs = []
  }

  /** A stop string ended the output: the loop must stop decoding. */
  get stopped(): boolean {
    return this.#stopString
  }

  /** The model produced end-of-sequence (or the engine ended on it): finish reason `stop`. */
  endOfSequence(): void {
    this.#finishReason = 'stop'
  }

  /**
   * Counts one sampled token and keeps its logprobs (`logprob` is called only when they were asked for).
   * Separate from text(): llama-cpp requests the next decode between the two, with the count up to date.
   */
  accept(logprob?: () => TokenLogprob): void {
    this.generated++
    if (this.#logprobs && logprob) this.#logprobs.push(logprob())
  }

  /** The accepted token as text: the token event to yield now, if it completed a chunk; then check `stopped`. */
  text(token: number): StreamEvent | undefined {
    const { chunk, stopped } = this.stream.push(token)
    if (stopped) {
      this.#finishReason = 'stop'
      this.#stopString = true
    }
    if (!chunk) return undefined
    const event = chunkEvent(chunk, this.#logprobs)
    if (this.#logprobs) this.#logprobs = []
    return event
  }

  /** Text still held (unless a stop string ended the output), then the done event. */
  finish(promptTokens: number): Generator<StreamEvent> {
    return finishTokenStream(this.stream, {
      stopString: this.#stopString,
      logprobs: this.#logprobs,
      promptTokens,
      outputTokens: this.generated,
      finishReason: this.#finishReason,
    })
  }
}

/**
 * The end of a native engine's stream: text still held (a partial character or a possible stop-string
 * prefix) unless a stop string ended it, then the done event with tokenizer counts.
 */
export function* finishTokenStream(
  stream: TokenTextStream,
  end: {
    stopString: boolean
    /** Logprobs not yet sent, when the request asked for them. */
    logprobs: TokenLogprob[] | undefined
    promptTokens: number
    outputTokens: number
    finishReason: string
  },
): Generator<StreamEvent> {
  if (!end.stopString) {
    const rest = stream.finish()
    if (rest)
      yield {
        type: 'token',
        text: rest.text,
        tokens: rest.tokens,
        ...(end.logprobs !== undefined ? { logprobs: end.logprobs } : {}),
      }
  }
  yield {
    type: 'done',
    promptTokens: end.promptTokens,
    outputTokens: end.outputTokens,
    tokensSource: 'tokenizer',
    finishReason: end.finishReason,
  }
}

/** The token event of a completed chunk, with the logprobs of its tokens when they were asked for. */
export function chunkEvent(chunk: TextChunk, logprobs: TokenLogprob[] | undefined): StreamEvent {
  return {
    type: 'token',
    text: chunk.text,
    tokens: chunk.tokens,
    ...(logprobs !== undefined ? { logprobs } : {}),
  }
}
