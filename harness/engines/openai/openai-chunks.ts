/**
 * Interpretation of OpenAI-compatible streaming chunks (chat.completion.chunk and text_completion), shared
 * by every HTTP client. Shapes as real servers send them (ENVIRONMENT.md): a role-only first chunk, one
 * chunk per token (or several tokens per chunk), a finish chunk, a usage-only chunk with `choices: []`;
 * llama-server adds `timings` on the last chunk; vLLM may put `usage` on every chunk (the last one wins).
 * @module
 */
import { RequestError } from '../../errors.ts'
import type { ServerTimings, StreamEvent, TokenLogprob } from '../engine.ts'

export type TokenEvent = Extract<StreamEvent, { type: 'token' }>
export type DoneEvent = Extract<StreamEvent, { type: 'done' }>

/** What one response stream has told so far besides its content. */
export interface ChunkState {
  finishReason?: string
  promptTokens?: number
  outputTokens?: number
  serverTimings?: ServerTimings
  /** A `data: [DONE]` sentinel arrived. */
  sawDone: boolean
}

export function createChunkState(): ChunkState {
  return { sawDone: false }
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null
}

/**
 * Parses the `data` of one SSE message. Throws RequestError 'stream' when it is not JSON: the request then
 * fails as it would in openai-node, even if later chunks are fine, because a lost chunk means lost content.
 */
export function parseChunkData(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    throw new RequestError('stream', `malformed chunk (not JSON): ${clip(data)}`)
  }
}

/**
 * Folds one parsed chunk into `state` and returns its content as a token event, or undefined when the
 * chunk carries no content (role-only, empty, finish-only and usage-only chunks). Reasoning text
 * (`delta.reasoning_content`, `delta.reasoning`) counts as content for timing (METRICS.md t1) but is not
 * part of `text`, which is the answer. Throws RequestError 'stream' for an `{"error": …}` payload.
 */
export function readChunk(chunk: unknown, state: ChunkState): TokenEvent | undefined {
  if (!isObject(chunk)) throw new RequestError('stream', `unexpected chunk: ${clip(JSON.stringify(chunk))}`)
  if (chunk.error !== undefined && chunk.error !== null) {
    throw new RequestError('stream', `server error in stream: ${errorMessage(chunk)}`)
  }
  const usage = chunk.usage
  if (isObject(usage)) {
    if (typeof usage.prompt_tokens === 'number') state.promptTokens = usage.prompt_tokens
    if (typeof usage.completion_tokens === 'number') state.outputTokens = usage.completion_tokens
  }
  if (chunk.timings !== undefined) readTimings(chunk.timings, state)
  const choices = chunk.choices
  if (!Array.isArray(choices) || choices.length === 0) return undefined
  const choice: unknown = choices[0]
  if (!isObject(choice)) return undefined
  if (typeof choice.finish_reason === 'string') state.finishReason = choice.finish_reason

  let text = ''
  let isContent = false
  const delta = choice.delta
  if (isObject(delta)) {
    const content = delta.content
    if (typeof content === 'string' && content.length > 0) {
      text = content
      isContent = true
    }
    if (!isContent) {
      const reasoning = delta.reasoning_content ?? delta.reasoning
      isContent = typeof reasoning === 'string' && reasoning.length > 0
    }
  } else if (typeof choice.text === 'string' && choice.text.length > 0) {
    text = choice.text
    isContent = true
  }
  if (!isContent) return undefined

  const logprobs =
    choice.logprobs === undefined || choice.logprobs === null ? undefined : readLogprobs(choice.logprobs)
  if (logprobs !== undefined && logprobs.length > 0) {
    return { type: 'token', text, tokens: logprobs.length, logprobs }
  }
  return { type: 'token', text, tokens: 1 }
}

/** Text put in place of the content to prove where a template's content literal sits. */
const PROBE_TEXT = 'bench template probe'
/** A stream whose chunks keep defeating the template (a field changing every chunk) stops relearning. */
const MAX_TEMPLATE_LEARNS = 4

/**
 * Reads the `data` of one response's chunks, with a fast path for the hot case. Content chunks of one
 * stream are byte-identical except for the content string (same id, created, model, fingerprint, null
 * finish_reason): after a full parse of such a chunk, the reader keeps the bytes before and after its
 * content literal as a template. A later chunk that starts and ends with those bytes and whose middle has
 * no quote, backslash or control character is the same JSON document with another string in that one
 * place, so its token event is known without JSON.parse (which costs most of the client's time per chunk
 * at high rates). The template is only taken from a chunk with no finish_reason, usage, timings, logprobs
 * or error, and only after a probe proves the literal is where the content comes from; anything else goes
 * through JSON.parse and readChunk.
 *
 * The template is matched on the UTF-8 bytes of the SSE data, in place in the socket read (sse.ts), so a
 * template hit decodes nothing but the content itself: no string for the whole chunk, no slices.
 */
export class ChunkReader {
  readonly state: ChunkState = createChunkState()
  /** The last content chunk readBytes() found (it returned true): its text, token count and logprobs. */
  text = ''
  tokens = 0
  logprobs: TokenLogprob[] | undefined = undefined
  #prefix: Buffer = NO_BYTES
  #suffix: Buffer = NO_BYTES
  #learnsLeft = MAX_TEMPLATE_LEARNS

  /** Same result and state effects as `readChunk(parseChunkData(data), state)`. */
  read(data: string): TokenEvent | undefined {
    const bytes = Buffer.from(data, 'utf8')
    if (!this.readBytes(bytes, 0, bytes.length)) return undefined
    const { text, tokens, logprobs } = this
    return logprobs === undefined
      ? { type: 'token', text, tokens }
      : { type: 'token', text, tokens, logprobs }
  }

  /**
   * Reads the chunk whose data is the UTF-8 `bytes[start, end)`. True when it carries content, which is
   * then in `text`, `tokens` and `logprobs`; false for role-only, empty, finish-only and usage-only chunks.
   * Same state effects and errors as read().
   */
  readBytes(bytes: Buffer, start: number, end: number): boolean {
    const prefix = this.#prefix
    const suffix = this.#suffix
    let matched = false
    if (prefix.length > 0) {
      const middleStart = start + prefix.length
      const middleEnd = end - suffix.length
      if (middleEnd > middleStart && equalAt(bytes, start, prefix) && equalAt(bytes, middleEnd, suffix)) {
        matched = true
        if (isVerbatim(bytes, middleStart, middleEnd)) {
          this.text = bytes.toString('utf8', middleStart, middleEnd)
          this.tokens = 1
          this.logprobs = undefined
          return true
        }
      }
    }
    const data = bytes.toString('utf8', start, end)
    const chunk = parseChunkData(data)
    const token = readChunk(chunk, this.state)
    if (token === undefined) return false
    if (
      !matched &&
      this.#learnsLeft > 0 &&
      token.text.length > 0 &&
      token.logprobs === undefined &&
      isPlainContentChunk(chunk)
    ) {
      this.#learn(data, token.text)
    }
    this.text = token.text
    this.tokens = token.tokens
    this.logprobs = token.logprobs
    return true
  }

  #learn(data: string, text: string): void {
    this.#learnsLeft--
    const literal = JSON.stringify(text)
    let at = data.indexOf(literal)
    for (let tries = 0; at !== -1 && tries < 3; tries++) {
      const prefix = data.slice(0, at + 1)
      const suffix = data.slice(at + literal.length - 1)
      if (probeTemplate(prefix, suffix)) {
        this.#prefix = Buffer.from(prefix, 'utf8')
        this.#suffix = Buffer.from(suffix, 'utf8')
        return
      }
      at = data.indexOf(literal, at + 1)
    }
  }
}

const NO_BYTES = Buffer.alloc(0)

/**
 * `bytes` holds `pattern` at `at` (callers keep `at + pattern.length` within `bytes`). Buffer.compare
 * (memcmp) rather than a byte loop: element reads of a Buffer cost ~3 ns a byte here, so a ~170-byte chat
 * template took ~0.5 µs per chunk as a loop and ~0.12 µs this way (measured, Node 20) — the largest self
 * time of the client at zero-delay rates.
 */
function equalAt(bytes: Buffer, at: number, pattern: Buffer): boolean {
  return pattern.compare(bytes, at, at + pattern.length) === 0
}

/**
 * True when the UTF-8 `bytes[start, end)` between two quotes is a JSON string literal whose value is
 * those bytes decoded: no quote, backslash or control character (bytes of multi-byte characters are ≥ 0x80).
 */
function isVerbatim(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!
    if (byte < 32 || byte === 34 || byte === 92) return false
  }
  return true
}

function isPlainContentChunk(chunk: unknown): boolean {
  if (!isObject(chunk)) return false
  if (chunk.error != null || chunk.usage != null || chunk.timings != null) return false
  const choices = chunk.choices
  if (!Array.isArray(choices) || choices.length !== 1) return false
  const choice: unknown = choices[0]
  return isObject(choice) && choice.finish_reason == null && choice.logprobs == null
}

function probeTemplate(prefix: string, suffix: string): boolean {
  let chunk: unknown
  try {
    chunk = JSON.parse(prefix + PROBE_TEXT + suffix)
  } catch {
    return false
  }
  if (!isPlainContentChunk(chunk)) return false
  const token = readChunk(chunk, createChunkState())
  return (
    token !== undefined && token.text === PROBE_TEXT && token.tokens === 1 && token.logprobs === undefined
  )
}

/** The closing event; `tokensSource` is 'server' only when the server reported usage. */
export function createDoneEvent(state: ChunkState): DoneEvent {
  const done: DoneEvent = { type: 'done' }
  if (state.promptTokens !== undefined) done.promptTokens = state.promptTokens
  if (state.outputTokens !== undefined) {
    done.outputTokens = state.outputTokens
    done.tokensSource = 'server'
  }
  if (state.finishReason !== undefined) done.finishReason = state.finishReason
  if (state.serverTimings !== undefined) done.serverTimings = state.serverTimings
  return done
}

/** Throws RequestError 'stream' when the body ended before the server said it was finished. */
export function assertComplete(state: ChunkState): void {
  if (state.finishReason === undefined && !state.sawDone) {
    throw new RequestError('stream', 'stream ended before a finish_reason or [DONE] (connection cut short?)')
  }
}

const TIMING_FIELDS: [string, keyof ServerTimings][] = [
  ['prompt_n', 'promptN'],
  ['prompt_ms', 'promptMs'],
  ['predicted_n', 'predictedN'],
  ['predicted_ms', 'predictedMs'],
  ['cache_n', 'cacheN'],
  ['draft_n', 'draftN'],
  ['draft_n_accepted', 'draftNAccepted'],
]

function readTimings(timings: unknown, state: ChunkState): void {
  if (!isObject(timings)) return
  const out: ServerTimings = {}
  let any = false
  for (const [from, to] of TIMING_FIELDS) {
    const value = timings[from]
    if (typeof value === 'number') {
      out[to] = value
      any = true
    }
  }
  if (any) state.serverTimings = out
}

/**
 * Chat-style `logprobs.content[]` (chat, and llama-server completions), or the legacy completions arrays
 * (`tokens`, `token_logprobs`, `top_logprobs` as objects) that vLLM sends.
 */
function readLogprobs(logprobs: unknown): TokenLogprob[] | undefined {
  if (!isObject(logprobs)) return undefined
  const content = logprobs.content
  if (Array.isArray(content)) {
    const out: TokenLogprob[] = []
    for (const entry of content) {
      if (!isObject(entry) || typeof entry.token !== 'string' || typeof entry.logprob !== 'number') continue
      const item: TokenLogprob = { token: entry.token, logprob: entry.logprob }
      if (Array.isArray(entry.top_logprobs)) {
        item.top = []
        for (const top of entry.top_logprobs) {
          if (isObject(top) && typeof top.token === 'string' && typeof top.logprob === 'number') {
            item.top.push({ token: top.token, logprob: top.logprob })
          }
        }
      }
      out.push(item)
    }
    return out
  }
  const tokens = logprobs.tokens
  const values = logprobs.token_logprobs
  if (Array.isArray(tokens) && Array.isArray(values)) {
    const tops = Array.isArray(logprobs.top_logprobs) ? logprobs.top_logprobs : []
    const out: TokenLogprob[] = []
    for (let i = 0; i < tokens.length; i++) {
      const token: unknown = tokens[i]
      const logprob: unknown = values[i]
      if (typeof token !== 'string' || typeof logprob !== 'number') continue
      const item: TokenLogprob = { token, logprob }
      const top: unknown = tops[i]
      if (isObject(top)) {
        item.top = []
        for (const [t, lp] of Object.entries(top))
          if (typeof lp === 'number') item.top.push({ token: t, logprob: lp })
      }
      out.push(item)
    }
    return out
  }
  return undefined
}

/**
 * The human part of an error body: `{"error": {"message"}}` (OpenAI, vLLM, llama-server),
 * `{"error": "text"}`, `{"message"}` or `{"detail"}`; falls back to the raw text, clipped.
 */
export function errorMessage(body: unknown, raw?: string): string {
  if (isObject(body)) {
    const error = body.error
    if (typeof error === 'string' && error.length > 0) return clip(error)
    if (isObject(error) && typeof error.message === 'string') return clip(error.message)
    if (typeof body.message === 'string') return clip(body.message)
    if (typeof body.detail === 'string') return clip(body.detail)
  }
  if (raw !== undefined && raw.length > 0) return clip(raw)
  return clip(JSON.stringify(body) ?? String(body))
}

/** Parses an error body when it is JSON and extracts its message. */
export function errorMessageFromText(raw: string): string {
  try {
    return errorMessage(JSON.parse(raw), raw)
  } catch {
    return raw.length > 0 ? clip(raw) : '(empty body)'
  }
}

const MAX_MESSAGE_CHARS = 500

function clip(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS)}…`
}
