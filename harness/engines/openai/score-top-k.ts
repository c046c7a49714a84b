/**
 * topKLogProbs() for remote endpoints (engine.ts; quality from an endpoint, approximate): the top-k
 * next-token log-probabilities at every scored position of one llama-perplexity window of a text, the text
 * cut into the server's own token ids (README.md beside this file, "Top-k distributions").
 *
 * Requests (vLLM's, checked against its source: vllm/entrypoints/openai/completion/protocol.py and
 * serving.py; `serving_completion.py` in 0.11):
 * - `POST /tokenize` at the server root with `{model, prompt, add_special_tokens}` → `{tokens, count,
 *   max_model_len}`: the corpus's ids, BOS first when the model adds one (the same call with
 *   `add_special_tokens: false` tells which id that is). llama-server's /tokenize reads `content` and
 *   `add_special` instead, sent too so that a llama-server gets as far as the refusal below.
 * - `POST {baseUrl}/completions` with `prompt` = the window's ids (position 0 as BOS), `echo: true`,
 *   `logprobs: k`, `max_tokens: 0` (vLLM's "echo without generation": the prompt alone, no token sampled;
 *   1 when the probe finds 0 refused, the generated entry then ignored),
 *   `return_tokens_as_token_ids: true` (tokens named `token_id:N`, so nothing is matched by text) →
 *   the legacy arrays, one entry per prompt position: `token_logprobs[i]` = ln p of the sent token i
 *   (null at 0), `top_logprobs[i]` = {`token_id:N`: ln p} of the k most likely tokens plus the sent one
 *   (vLLM puts the sent token first, then the top k by rank; k + 1 entries when it is not among them).
 *   Chosen over vLLM's `prompt_logprobs: k` (ids as keys too, but only vLLM has it): echo + logprobs is the
 *   OpenAI legacy-completions contract, which other servers implement or visibly ignore, and what the
 *   scoreChoices echo mode already reads.
 *
 * Refused, never guessed (CapabilityError from a small probe before the first window, whose message says
 * what the endpoint lacks): no /tokenize; logprobs of the generated token only (llama-server, llama.cpp
 * #27174: its /v1/completions ignores echo, and its n_probs covers sampled tokens only —
 * tools/server/server-context.cpp calls populate_token_probs for the sampled token alone); tokens named by
 * text (return_tokens_as_token_ids ignored); echoed ids that are not the ids sent; fewer than k entries at
 * a position; k above the server's cap (vLLM: `--max-logprobs`, default 20). A window whose answer breaks
 * these rules later is a RequestError (`engine`), so a quality run never computes a KLD from missing data.
 * @module
 */
import { CapabilityError, RequestError } from '../../errors.ts'
import type { TopKLogProbs, TopKLogProbsOptions, TopKRow } from '../engine.ts'
import { errorMessageFromText } from './openai-chunks.ts'
import type { ScoreTarget } from './openai-score.ts'
import { answerError, answeredOk, postJson } from './post-json.ts'

/** Bound on one request (a window of a few thousand tokens evaluated once; not a benchmark figure). ms */
const TOP_K_TIMEOUT_MS = 120_000

/** The probe's text: short, ASCII, a few words (its ids are only compared with themselves). */
export const PROBE_TEXT = 'Quality probe: the quick brown fox jumps over the lazy dog.'

/** vLLM's id placeholder for a token (vllm/entrypoints/generate/base/serving.py format_token_id_placeholder). */
const TOKEN_ID = /^token_id:(\d+)$/

interface Probed {
  /** The id the server puts first when it adds special tokens (BOS), or null when it adds none. */
  bos: number | null
  /** max_model_len of /tokenize, when the server says it. */
  maxModelLen: number | undefined
  /** 0 (vLLM's echo without generation), or 1 for a server that refuses 0 (the generated entry is ignored). */
  maxTokens: 0 | 1
}

export interface TopKReader {
  read(text: string, options: TopKLogProbsOptions, signal?: AbortSignal): Promise<TopKLogProbs>
}

export function createTopKReader(target: ScoreTarget): TopKReader {
  const completionsUrl = `${target.baseUrl.replace(/\/+$/, '')}/completions`
  const completionsPath = `${target.basePath}/completions${target.search}`
  // vLLM and llama-server serve /tokenize at their root, beside /v1.
  const tokenizePath = `${target.basePath.replace(/\/v1$/, '')}/tokenize`
  const tokenizeUrl = `${new URL(target.baseUrl).origin}${tokenizePath}`
  let probed: Promise<Probed> | undefined
  let probedK: number | undefined
  let cached: { text: string; tokens: number[] } | undefined

  const post = (path: string, url: string, body: unknown, signal?: AbortSignal) =>
    postJson(target, path, url, body, TOP_K_TIMEOUT_MS, signal)
  const ok = answeredOk
  const why = answerError
  const refuse = (lacks: string) =>
    new CapabilityError(
      'topKLogProbs',
      `${completionsUrl} cannot give the top-k distributions quality needs at every corpus position: ${lacks}. Measure this model's quality with a native engine (llama-cpp, onnx) or on a server that returns prompt logprobs (vLLM).`,
    )

  const tokenize = async (text: string, special: boolean, signal?: AbortSignal) => {
    const a = await post(
      tokenizePath,
      tokenizeUrl,
      {
        model: target.model,
        prompt: text,
        add_special_tokens: special,
        content: text,
        add_special: special,
      },
      signal,
    )
    return { answer: a, ...(ok(a) ? tokenizeAnswer(a.json) : {}) }
  }

  const echo = (ids: readonly number[], k: number, maxTokens: 0 | 1, signal?: AbortSignal) =>
    post(
      completionsPath,
      completionsUrl,
      {
        ...target.extraBody,
        model: target.model,
        prompt: ids,
        echo: true,
        logprobs: k,
        max_tokens: maxTokens,
        temperature: 0,
        stream: false,
        return_tokens_as_token_ids: true,
      },
      signal,
    )

  // Not cut by a window's signal: the decision is shared by every window, and a half-made one decides nothing.
  const probe = async (k: number): Promise<Probed> => {
    const withSpecial = await tokenize(PROBE_TEXT, true)
    if (withSpecial.tokens === undefined) {
      const a = withSpecial.answer
      throw refuse(
        ok(a)
          ? `${tokenizeUrl} answers no token ids (${a.text.slice(0, 200)}), so the corpus cannot be cut into the server's own tokens`
          : `${tokenizeUrl} does not tokenize (${why(a)}), so the corpus cannot be cut into the server's own tokens`,
      )
    }
    const plain = await tokenize(PROBE_TEXT, false)
    const ids = withSpecial.tokens
    const bare = plain.tokens ?? ids
    let bos: number | null = null
    if (ids.length === bare.length + 1 && bare.every((id, i) => ids[i + 1] === id)) bos = ids[0]!
    else if (ids.length !== bare.length || ids.some((id, i) => bare[i] !== id))
      throw refuse(
        `${tokenizeUrl} gives ids with and without special tokens that differ other than by one leading BOS (${JSON.stringify(ids.slice(0, 8))}… vs ${JSON.stringify(bare.slice(0, 8))}…)`,
      )
    if (ids.length < 4)
      throw refuse(`${tokenizeUrl} makes ${ids.length} tokens of the probe text; at least 4 are needed`)
    let maxTokens: 0 | 1 = 0
    let a = await echo(ids, k, maxTokens)
    // A server that refuses max_tokens 0 may still echo prompt logprobs beside one generated token.
    if ((a.status === 400 || a.status === 422) && !/max allowed/i.test(errorMessageFromText(a.text))) {
      a = await echo(ids, k, 1)
      if (ok(a)) maxTokens = 1
    }
    if (a.status === 404 || a.status === 405 || a.status === 501)
      throw refuse(`it serves no text completions (${why(a)}), and a chat answer carries no prompt logprobs`)
    if (a.status === 401 || a.status === 403 || a.status === 429 || a.status >= 500)
      throw new RequestError('http', `POST ${completionsUrl}: ${why(a)}`, a.status)
    if (!ok(a)) {
      const message = errorMessageFromText(a.text)
      throw refuse(
        /max allowed/i.test(message)
          ? `it refused logprobs: ${k} (${why(a)}); start vLLM with --max-logprobs ${k} or more`
          : `it refused echo with logprobs of a token-id prompt (${why(a)})`,
      )
    }
    const parsed = parseEcho(a.json, ids, k, 1)
    if (parsed.state === 'error') throw refuse(parsed.message)
    return { bos, maxModelLen: withSpecial.maxModelLen, maxTokens }
  }

  return {
    async read(text: string, options: TopKLogProbsOptions, signal?: AbortSignal): Promise<TopKLogProbs> {
      const { contextTokens, window, k } = options
      signal?.throwIfAborted()
      if (!Number.isInteger(k) || k < 1)
        throw new RequestError('engine', `topKLogProbs: k must be a positive integer, got ${k}`)
      if (probed === undefined || probedK !== k) {
        const attempt = probe(k)
        probed = attempt
        probedK = k
        // A capability answer is final; anything else (a 503, a reset) decides nothing.
        attempt.catch((error: unknown) => {
          if (!(error instanceof CapabilityError) && probed === attempt) probed = undefined
        })
      }
      const { bos, maxModelLen, maxTokens } = await probed
      signal?.throwIfAborted()
      if (!Number.isInteger(contextTokens) || contextTokens < 4)
        throw new RequestError(
          'engine',
          `topKLogProbs: contextTokens must be an integer ≥ 4, got ${contextTokens}`,
        )
      if (maxModelLen !== undefined && contextTokens > maxModelLen)
        throw new RequestError(
          'engine',
          `topKLogProbs: contextTokens ${contextTokens} is more than the server's max_model_len ${maxModelLen}: lower quality.contextTokens`,
        )
      if (cached?.text !== text) {
        const t = await tokenize(text, true, signal)
        if (t.tokens === undefined) throw new RequestError('http', `POST ${tokenizeUrl}: ${why(t.answer)}`)
        cached = { text, tokens: t.tokens }
      }
      const all = cached.tokens
      const windows = Math.floor(all.length / contextTokens)
      if (!Number.isInteger(window) || window < 0 || window >= windows)
        throw new RequestError(
          'engine',
          `topKLogProbs: window ${window} is not in 0..${windows - 1} (the text is ${all.length} tokens by ${tokenizeUrl}, ${windows} windows of ${contextTokens})`,
        )
      const tokens = all.slice(window * contextTokens, (window + 1) * contextTokens)
      const input = [...tokens]
      if (bos !== null) input[0] = bos
      const firstScored = Math.floor(contextTokens / 2)
      const a = await echo(input, k, maxTokens, signal)
      if (!ok(a)) throw new RequestError('http', `POST ${completionsUrl}: ${why(a)}`, a.status)
      const parsed = parseEcho(a.json, input, k, firstScored + 1)
      if (parsed.state === 'error')
        throw new RequestError('engine', `${completionsUrl}, window ${window}: ${parsed.message}`)
      return { tokens, windows, firstScored, rows: parsed.rows }
    },
  }
}

/** vLLM's `{tokens, max_model_len}` or llama-server's `{tokens: [id…] | [{id, piece}…]}`. */
function tokenizeAnswer(json: unknown): { tokens?: number[]; maxModelLen?: number } {
  const body = (json ?? {}) as { tokens?: unknown; max_model_len?: unknown }
  if (!Array.isArray(body.tokens)) return {}
  const tokens: number[] = []
  for (const t of body.tokens) {
    const id = typeof t === 'number' ? t : (t as { id?: unknown } | null)?.id
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) return {}
    tokens.push(id)
  }
  return {
    tokens,
    ...(typeof body.max_model_len === 'number' ? { maxModelLen: body.max_model_len } : {}),
  }
}

export type EchoRows = { state: 'ok'; rows: TopKRow[] } | { state: 'error'; message: string }

/**
 * The rows of an echoed answer for positions `from` … ids.length − 1 (row i: the distribution at position
 * from + i, i.e. after ids[0 … from + i − 1], with ids[from + i] its actual token). Every position must name
 * the id that was sent and list at least k entries with ids.
 */
export function parseEcho(json: unknown, ids: readonly number[], k: number, from: number): EchoRows {
  const error = (message: string): EchoRows => ({ state: 'error', message })
  const choices = (json as { choices?: unknown } | null)?.choices
  const first = Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined
  const logprobs = first?.logprobs as Record<string, unknown> | null | undefined
  if (typeof logprobs !== 'object' || logprobs === null) return error('its answer carries no logprobs')
  const { tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs } = logprobs
  if (!Array.isArray(tokens) || !Array.isArray(tokenLogprobs) || !Array.isArray(topLogprobs)) {
    const content = logprobs.content
    if (Array.isArray(content))
      return error(
        `it returns logprobs for generated tokens only (${content.length} entr${content.length === 1 ? 'y' : 'ies'} for a ${ids.length}-token prompt), none for prompt positions: it ignores echo, as llama-server does (llama.cpp #27174)`,
      )
    return error(
      'its logprobs have no tokens / token_logprobs / top_logprobs arrays (echoed prompt logprobs)',
    )
  }
  if (tokens.length < ids.length)
    return error(
      `it echoed ${tokens.length} logprobs entries for a ${ids.length}-token prompt: no logprobs for every prompt position`,
    )
  const rows: TopKRow[] = []
  for (let p = 0; p < ids.length; p++) {
    const named = idOf(tokens[p])
    if (named === undefined)
      return error(
        `it names tokens by text (${JSON.stringify(tokens[p])}), not as token_id:N (it ignores return_tokens_as_token_ids), so its lists cannot be matched to the reference's ids`,
      )
    if (named !== ids[p])
      return error(
        `its echoed ids do not line up with the ids sent (position ${p}: sent ${ids[p]}, echoed ${named})`,
      )
    if (p < from) continue
    const actual = tokenLogprobs[p]
    if (typeof actual !== 'number' || !Number.isFinite(actual))
      return error(`position ${p} has no logprob of its token (${JSON.stringify(actual)})`)
    const listed = topLogprobs[p]
    if (typeof listed !== 'object' || listed === null)
      return error(`position ${p} has no top logprobs (${JSON.stringify(listed)})`)
    const entries: { id: number; logprob: number }[] = []
    for (const [key, value] of Object.entries(listed as Record<string, unknown>)) {
      const id = idOf(key)
      if (id === undefined)
        return error(
          `its top logprobs name tokens by text (${JSON.stringify(key)}), not as token_id:N, so they cannot be matched to the reference's ids`,
        )
      if (typeof value !== 'number' || Number.isNaN(value))
        return error(`position ${p}: the logprob of token ${id} is ${JSON.stringify(value)}`)
      entries.push({ id, logprob: value })
    }
    // Most likely first, ties to the lower id (the native rows' rule); the sent token beyond the top k drops out.
    entries.sort((x, y) => y.logprob - x.logprob || x.id - y.id)
    if (entries.length < k)
      return error(
        `position ${p} lists ${entries.length} top logprobs, fewer than the ${k} asked for: the top-k approximation would rest on missing entries`,
      )
    rows.push({ top: entries.slice(0, k), nextLogprob: actual })
  }
  return { state: 'ok', rows }
}

function idOf(token: unknown): number | undefined {
  if (typeof token !== 'string') return undefined
  const m = TOKEN_ID.exec(token)
  return m === null ? undefined : Number(m[1])
}
