/**
 * The mock's tokenizer and the logprobs that need one: llama-server's `/tokenize` and token `id`s (the
 * llama-server personality), vLLM's echoed prompt logprobs (the vllm personality), and the letter a model
 * of known accuracy answers (answers.ts). A token is a word with the whitespace before it (`" B"`,
 * `"Answer:"`, `"\nA."`), the same unit as the generated words (" word"); ids are a hash of the token text,
 * so /tokenize and the logprobs agree without a vocabulary table.
 * @module
 */
import { hashString, mix32, type TokenLogprobs, type TopLogprob, VOCABULARY } from './text.ts'

const PIECES = /\s*\S+|\s+/g

/** The mock's tokens of `text`: each word with the whitespace before it; trailing whitespace is one more token. */
export function mockTokens(text: string): string[] {
  return text.match(PIECES) ?? []
}

/** Id of a token text: a 31-bit hash (positive, JSON-safe). */
export function mockTokenId(token: string): number {
  return hashString(token) >>> 1
}

const encoder = new TextEncoder()

function entry(token: string, logprob: number, withIds: boolean): TopLogprob & { id?: number } {
  const e: TopLogprob & { id?: number } = { token, logprob, bytes: Array.from(encoder.encode(token)) }
  return withIds ? { id: mockTokenId(token), ...e } : e
}

/** llama-server puts the token id first in every logprobs entry (its `completion_token_output::to_json`). */
export function withTokenIds(lp: TokenLogprobs): TokenLogprobs {
  return {
    ...entry(lp.token, lp.logprob, true),
    top_logprobs: lp.top_logprobs.map((t) => entry(t.token, t.logprob, true)),
  }
}

export interface AnswerToken {
  /** Letters of the item's choices (A, B, …). */
  letters: readonly string[]
  /** Index of the letter the mock answers. */
  chosen: number
  /** Natural-log probability of each letter as the next token (the chosen one the largest). */
  logprobs: readonly number[]
}

/**
 * The answering token's logprobs entry: the chosen letter, then the top `top` of the letters (most likely
 * first) followed by vocabulary words sharing what the letters leave, evenly.
 */
export function answerLogprobs(
  answer: AnswerToken,
  leadingSpace: boolean,
  top: number,
  withIds: boolean,
): TokenLogprobs {
  const space = leadingSpace ? ' ' : ''
  const order = answer.letters.map((_, i) => i).sort((a, b) => answer.logprobs[b]! - answer.logprobs[a]!)
  const lettersP = answer.logprobs.reduce((sum, lp) => sum + Math.exp(lp), 0)
  const wordLogprob = Math.log(Math.max(1e-12, 1 - lettersP) / VOCABULARY.length)
  const ranked: TopLogprob[] = order.map((i) =>
    entry(`${space}${answer.letters[i]}`, answer.logprobs[i]!, withIds),
  )
  for (const word of VOCABULARY) ranked.push(entry(` ${word}`, wordLogprob, withIds))
  const chosen = entry(`${space}${answer.letters[answer.chosen]}`, answer.logprobs[answer.chosen]!, withIds)
  return { ...chosen, top_logprobs: ranked.slice(0, top) }
}

/** vLLM's legacy completions logprobs (what `echo: true` answers). */
export interface LegacyLogprobs {
  tokens: string[]
  token_logprobs: (number | null)[]
  top_logprobs: (Record<string, number> | null)[]
  text_offset: number[]
}

/** Python's len(): code points, the unit of vLLM's text_offset. */
function codePoints(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/**
 * The echoed prompt's logprobs, vLLM-shaped: the first token has none (null), the others a seeded value
 * in [−4.5, −0.5], except the letter token right after the item's `Answer:` (`answerAt`, a UTF-16 index),
 * which gets the letter's logprob from `letterLogprob`. `top_logprobs` holds each token with its value.
 */
export function echoLogprobs(
  prompt: string,
  key: number,
  letterLogprob: ((token: string, at: number) => number | undefined) | undefined,
): LegacyLogprobs {
  const out: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] }
  let offset = 0
  let at = 0
  mockTokens(prompt).forEach((token, i) => {
    let logprob: number | null = null
    if (i > 0) {
      logprob = letterLogprob?.(token, at) ?? -0.5 - 4 * (mix32(key, mix32(hashString(token), i)) / 2 ** 32)
    }
    out.tokens.push(token)
    out.token_logprobs.push(logprob)
    out.top_logprobs.push(logprob === null ? null : { [token]: logprob })
    out.text_offset.push(offset)
    offset += codePoints(token)
    at += token.length
  })
  return out
}

/** Appends generated tokens' entries (chat-shaped) to echoed legacy logprobs, offsets continuing. */
export function appendGenerated(legacy: LegacyLogprobs, generated: readonly TokenLogprobs[]): LegacyLogprobs {
  const last = legacy.text_offset.length - 1
  let offset = last < 0 ? 0 : legacy.text_offset[last]! + codePoints(legacy.tokens[last]!)
  for (const g of generated) {
    legacy.tokens.push(g.token)
    legacy.token_logprobs.push(g.logprob)
    legacy.top_logprobs.push(Object.fromEntries(g.top_logprobs.map((t) => [t.token, t.logprob])))
    legacy.text_offset.push(offset)
    offset += codePoints(g.token)
  }
  return legacy
}
