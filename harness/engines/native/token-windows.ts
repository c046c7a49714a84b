/**
 * The windows a native engine's tokenLogProbs() scores (engine.ts TokenLogProbsOptions), cut as
 * llama-perplexity --kl-divergence cuts them (tools/perplexity/perplexity.cpp, kl_divergence()): the text's
 * tokens in non-overlapping windows of contextTokens, the first token of each evaluated as BOS when the model
 * adds one, positions floor(contextTokens / 2) … contextTokens − 2 scored (each predicting the next token).
 * @module
 */
import { RequestError } from '../../errors.ts'
import type { TokenLogProbsOptions } from '../engine.ts'

export interface ScoringWindow {
  /** The window's ids as in the text. */
  tokens: number[]
  /** What is evaluated: tokens with position 0 replaced by BOS when the model adds one. */
  input: number[]
  windows: number
  firstScored: number
}

/** Smallest window: one unscored half and at least one scored position. */
const MIN_CONTEXT_TOKENS = 4

/**
 * Window `options.window` of `all` (the text tokenized as a prompt).
 * @param contextLimit tokens the engine's context holds
 * @param bos the BOS id when the model adds one, else null
 * @throws RequestError for a contextTokens out of range or a window past the text's end
 */
export function scoringWindow(
  all: readonly number[],
  options: TokenLogProbsOptions,
  contextLimit: number,
  bos: number | null | undefined,
): ScoringWindow {
  const { contextTokens, window } = options
  if (options.tokens !== undefined && options.tokens.length !== contextTokens)
    throw new RequestError(
      'engine',
      `tokenLogProbs: ${options.tokens.length} tokens given, but contextTokens is ${contextTokens}: give the window's ids with contextTokens = their count`,
    )
  if (!Number.isInteger(contextTokens) || contextTokens < MIN_CONTEXT_TOKENS || contextTokens > contextLimit)
    throw new RequestError(
      'engine',
      `tokenLogProbs: contextTokens must be an integer in ${MIN_CONTEXT_TOKENS}..${contextLimit} (the engine's context), got ${contextTokens}`,
    )
  const windows = Math.floor(all.length / contextTokens)
  if (windows === 0)
    throw new RequestError(
      'engine',
      `tokenLogProbs: the text is ${all.length} tokens, shorter than one window of ${contextTokens}: lower contextTokens or give a longer text`,
    )
  if (!Number.isInteger(window) || window < 0 || window >= windows)
    throw new RequestError(
      'engine',
      `tokenLogProbs: window ${window} is not in 0..${windows - 1} (the text is ${all.length} tokens, ${windows} windows of ${contextTokens})`,
    )
  const firstScored = options.firstScored ?? Math.floor(contextTokens / 2)
  if (!Number.isInteger(firstScored) || firstScored < 0 || firstScored > contextTokens - 2)
    throw new RequestError(
      'engine',
      `tokenLogProbs: firstScored must be an integer in 0..${contextTokens - 2} (contextTokens − 2), got ${firstScored}`,
    )
  const tokens = all.slice(window * contextTokens, (window + 1) * contextTokens)
  const input = [...tokens]
  if (bos !== null && bos !== undefined) input[0] = bos
  return { tokens, input, windows, firstScored }
}

/** The last text's tokens, so the windows of one text are tokenized once. */
export class TextTokensCache {
  private text: string | undefined
  private tokens: number[] = []

  get(text: string, tokenize: () => readonly number[]): number[] {
    if (text !== this.text) {
      this.tokens = [...tokenize()]
      this.text = text
    }
    return this.tokens
  }
}
