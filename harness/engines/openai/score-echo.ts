/**
 * Log-likelihood of a continuation from an echoed completion (vLLM's way, what lm-eval's
 * `local-completions` asks for): POST /completions with `prompt: context + continuation`, `echo: true`,
 * `logprobs: 1`, `max_tokens: 1` answers the legacy arrays `tokens`, `token_logprobs` (null for the first
 * prompt token) and `text_offset`, one entry per prompt token and then the generated one. The
 * continuation's tokens are the ones whose offsets lie in [len(context), len(context + continuation)).
 *
 * Offsets count Python string characters, i.e. code points (vLLM sums `len(token)` of each detokenized
 * token), not UTF-16 units: a context with an emoji is one longer in JavaScript's `length`.
 *
 * Offsets can drift from the text: vLLM decodes the first prompt token with `tokenizer.decode(id)`, which
 * for a BOS is its name (`<s>`, 3 characters the text does not have), and a byte-fallback token's decoded
 * length need not be its share of the text. When the offsets do not land exactly on both ends, the
 * continuation is located from the other end instead: the echoed tokens end where the generated ones
 * (`usage.completion_tokens` of them) begin, and the continuation is the run of echoed tokens before that
 * whose decoded lengths add up to its length exactly.
 *
 * Nothing is guessed: a token that straddles the boundary (the context's last characters merged with the
 * continuation's first), lengths that do not add up either way, or a missing logprob inside the
 * continuation is an error naming what was seen.
 * @module
 */

/** The legacy completions logprobs object (OpenAI's and vLLM's `/v1/completions`). */
export interface LegacyLogprobs {
  tokens: string[]
  token_logprobs: (number | null)[]
  text_offset: number[]
}

/** The legacy arrays when `logprobs` has them all, of equal length; undefined otherwise. */
export function legacyLogprobs(logprobs: unknown): LegacyLogprobs | undefined {
  if (typeof logprobs !== 'object' || logprobs === null) return undefined
  const { tokens, token_logprobs, text_offset } = logprobs as Record<string, unknown>
  if (!Array.isArray(tokens) || !Array.isArray(token_logprobs) || !Array.isArray(text_offset))
    return undefined
  if (tokens.length !== token_logprobs.length || tokens.length !== text_offset.length) return undefined
  return { tokens, token_logprobs, text_offset } as LegacyLogprobs
}

/** Length in code points (Python's `len`), the unit of `text_offset`. */
export function codePointLength(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

/** What an echoed answer says about one continuation: its log-likelihood, or why there is none. */
export type EchoScore = { state: 'ok'; logprob: number; tokens: number } | { state: 'error'; message: string }

/**
 * Sums the continuation's token logprobs. `text` is the answer's `choices[0].text`, which must start with
 * context + continuation (the echo).
 */
export function echoScore(
  context: string,
  continuation: string,
  text: string,
  lp: LegacyLogprobs,
  generatedTokens?: number,
): EchoScore {
  const full = context + continuation
  if (!text.startsWith(full))
    return { state: 'error', message: 'the answer does not start with the prompt (echo ignored)' }
  if (continuation.length === 0) return { state: 'error', message: 'the continuation is empty' }
  const byOffsets = locateByOffsets(codePointLength(context), codePointLength(full), lp)
  const range =
    'start' in byOffsets || generatedTokens === undefined
      ? byOffsets
      : locateFromEnd(codePointLength(continuation), lp, generatedTokens, byOffsets.message)
  if (!('start' in range)) return { state: 'error', message: range.message }
  let sum = 0
  for (let i = range.start; i < range.end; i++) {
    const logprob = lp.token_logprobs[i]
    if (typeof logprob !== 'number' || Number.isNaN(logprob))
      return { state: 'error', message: `token ${i} ${JSON.stringify(lp.tokens[i])} has no logprob` }
    sum += logprob
  }
  return { state: 'ok', logprob: sum, tokens: range.end - range.start }
}

type Range = { start: number; end: number } | { message: string }

/** Tokens [start, end) whose offsets are exactly [from, to). */
function locateByOffsets(from: number, to: number, lp: LegacyLogprobs): Range {
  const offsets = lp.text_offset
  let start = -1
  let end = offsets.length
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!
    if (i > 0 && offset < offsets[i - 1]!)
      return { message: `text_offset decreases at token ${i} (${offsets[i - 1]} → ${offset})` }
    if (start < 0 && offset >= from) start = i
    if (offset >= to) {
      end = i
      break
    }
  }
  if (start < 0 || offsets[start] !== from) {
    const at = start < 0 ? offsets.length - 1 : start - 1
    return {
      message: `no token starts where the continuation does (character ${from}): token ${at} ${JSON.stringify(lp.tokens[at])} at ${offsets[at]} straddles the boundary`,
    }
  }
  // The generated token starts where the continuation ends; without one, the last token must end there.
  const endsRight =
    end < offsets.length
      ? offsets[end] === to
      : offsets[end - 1]! + codePointLength(lp.tokens[end - 1] ?? '') === to
  if (!endsRight || end <= start)
    return {
      message: `the continuation's tokens do not end at character ${to} (text_offset ${JSON.stringify(offsets.slice(start, end + 1))})`,
    }
  return { start, end }
}

/** The echoed tokens just before the `generated` last ones whose decoded lengths sum to `length` exactly. */
function locateFromEnd(length: number, lp: LegacyLogprobs, generated: number, offsetsMessage: string): Range {
  const end = lp.tokens.length - generated
  let sum = 0
  let start = end
  while (start > 0 && sum < length) sum += codePointLength(lp.tokens[--start]!)
  if (sum === length && start < end) return { start, end }
  return {
    message: `${offsetsMessage}; from the end, the ${end - start} echoed tokens before the ${generated} generated make ${sum} characters, not the continuation's ${length}`,
  }
}
