/**
 * scoreChoices() for remote endpoints: the log-likelihood of each choice after a prompt, chosen on the
 * evidence of the server's first answer (README.md beside this file, "Scoring choices"):
 *
 * - `echo` (vLLM, OpenAI's legacy completions): one POST /completions per choice with the prompt + choice,
 *   `echo: true, logprobs: 1, max_tokens: 1` (lm-eval local-completions' request), summing the choice's
 *   prompt-token logprobs located by `text_offset` (score-echo.ts). Exact.
 * - `next-token` (llama-server, which returns no prompt logprobs): one POST /completions with
 *   `logprobs: k, max_tokens: 1` per item, read as the top-k distribution of the one next token
 *   (score-next-token.ts). Exact for choices that are one token after the prompt, which the server's own
 *   `/tokenize` proves per item; a longer choice is a CapabilityError.
 * - neither (chat-only endpoints, servers without logprobs or a tokenizer) → CapabilityError naming the
 *   endpoint, what it lacks, and `scoring: 'generate'`.
 *
 * Always `/completions`, whatever the engine's `api`: a chat answer carries no prompt logprobs. Not on the
 * streaming hot path: plain undici requests with JSON bodies, each bounded by SCORE_TIMEOUT_MS.
 * @module
 */
import type { Pool } from 'undici'
import { CapabilityError, RequestError } from '../../errors.ts'
import { type Answer, answerError, answeredOk, postJson } from './post-json.ts'
import { echoScore, legacyLogprobs } from './score-echo.ts'
import { nextTokenScore, type TopEntry } from './score-next-token.ts'

/** Bound on one scoring request (not a benchmark figure: a prompt of a few thousand tokens, one token out). */
const SCORE_TIMEOUT_MS = 120_000

/**
 * k of the next-token requests: 20 first (vLLM's and OpenAI's maximum, enough when the choices are the
 * likely answers), then 1000 when no choice was among them (llama-server caps k at n_vocab; a server
 * refusing a k this large fails the item with its message).
 */
const TOP_K_STEPS = [20, 1000] as const

export type ScoreMode = 'echo' | 'next-token'

export interface ScoreTarget {
  pool: Pool
  /** As configured, for messages. */
  baseUrl: string
  /** Path of the base URL without a trailing slash, e.g. `/v1`. */
  basePath: string
  /** The base URL's query string ('' or `?…`), kept on /completions as generate() keeps it. */
  search: string
  /** Control headers (Authorization included when there is a key: never put in a message). */
  headers: Record<string, string>
  model: string
  /** The engine's extraBody, merged first here: a field of it must not turn echo or logprobs off. */
  extraBody?: Record<string, unknown>
}

export interface ChoiceScorer {
  score(prompt: string, choices: readonly string[], signal?: AbortSignal): Promise<number[]>
  /** The mode the first answer chose; undefined before it (or while it failed other than by capability). */
  readonly mode: ScoreMode | undefined
}

export function createChoiceScorer(target: ScoreTarget): ChoiceScorer {
  const completionsUrl = `${target.baseUrl.replace(/\/+$/, '')}/completions`
  const completionsPath = `${target.basePath}/completions${target.search}`
  // llama-server serves /tokenize at its root, beside /v1.
  const tokenizePath = `${target.basePath.replace(/\/v1$/, '')}/tokenize`
  const tokenizeUrl = `${new URL(target.baseUrl).origin}${tokenizePath}`
  let detected: Promise<ScoreMode> | undefined
  let mode: ScoreMode | undefined

  // `signal`: the item's deadline (engine.ts scoreChoices); each request is also bounded by SCORE_TIMEOUT_MS.
  const post = (path: string, url: string, body: Record<string, unknown>, signal: AbortSignal | undefined) =>
    postJson(target, path, url, body, SCORE_TIMEOUT_MS, signal)
  const ok = answeredOk
  const why = answerError
  const completion = (body: Record<string, unknown>, signal: AbortSignal | undefined) =>
    post(
      completionsPath,
      completionsUrl,
      {
        ...target.extraBody,
        model: target.model,
        ...body,
        max_tokens: 1,
        temperature: 0,
        stream: false,
      },
      signal,
    )
  const echoRequest = (text: string, signal: AbortSignal | undefined) =>
    completion({ prompt: text, echo: true, logprobs: 1 }, signal)
  const nextTokenRequest = (prompt: string, k: number, signal: AbortSignal | undefined) =>
    completion({ prompt, logprobs: k }, signal)
  const refuse = (lacks: string) =>
    new CapabilityError(
      'scoreChoices',
      `${completionsUrl} cannot score choices by log-likelihood: ${lacks}. Use scoring: 'generate' for this endpoint.`,
    )
  /** A transient or unexpected failure of one request: the item fails, the mode is not decided. */
  const failed = (url: string, a: Answer) => new RequestError('http', `POST ${url}: ${why(a)}`, a.status)

  const tokenize = async (content: string, signal: AbortSignal | undefined): Promise<number[] | Answer> => {
    const a = await post(tokenizePath, tokenizeUrl, { content, add_special: false }, signal)
    const tokens = ok(a) ? tokenIds(a.json) : undefined
    return tokens ?? a
  }

  // Not cut by an item's deadline: the decision is shared by every item, and a half-made one decides nothing.
  const detect = async (prompt: string, choice: string): Promise<ScoreMode> => {
    const echo = await echoRequest(prompt + choice, undefined)
    if (echo.status === 404 || echo.status === 405 || echo.status === 501)
      throw refuse(
        `it serves no text completions (${why(echo)}), and a chat answer carries no prompt logprobs`,
      )
    if (echo.status === 401 || echo.status === 403 || echo.status === 429 || echo.status >= 500)
      throw failed(completionsUrl, echo)
    let echoLacks: string
    if (ok(echo)) {
      const first = firstChoice(echo.json)
      const lp = legacyLogprobs(first?.logprobs)
      const text = typeof first?.text === 'string' ? first.text : undefined
      if (lp !== undefined && text !== undefined) {
        const s = echoScore(prompt, choice, text, lp, completionTokens(echo.json))
        if (s.state === 'ok') return 'echo'
        echoLacks = `its echoed prompt logprobs are unusable (${s.message})`
      } else if (text !== undefined && !text.startsWith(prompt + choice))
        echoLacks = 'it ignores echo and returns no prompt logprobs'
      else echoLacks = 'it returns no prompt logprobs (no tokens / token_logprobs / text_offset)'
    } else echoLacks = `it refused echo with logprobs (${why(echo)})`

    const next = await nextTokenRequest(prompt, TOP_K_STEPS[0], undefined)
    if (!ok(next)) throw refuse(`${echoLacks}, and it refused logprobs of the next token (${why(next)})`)
    const top = topEntries(next.json)
    if (top === undefined) throw refuse(`${echoLacks}, and it returns no top logprobs of the next token`)
    if (top === 'no-ids')
      throw refuse(`${echoLacks}, and its next-token top logprobs carry no token ids to match the choices by`)
    const tokens = await tokenize(prompt, undefined)
    if (!Array.isArray(tokens))
      throw refuse(
        `${echoLacks}; its next-token top logprobs could score one-token choices, but ${tokenizeUrl} does not tokenize (${why(tokens)}), so whether a choice is one token cannot be told`,
      )
    return 'next-token'
  }

  const scoreEcho = (prompt: string, choices: readonly string[], signal: AbortSignal | undefined) =>
    Promise.all(
      choices.map(async (choice) => {
        const a = await echoRequest(prompt + choice, signal)
        if (!ok(a)) throw failed(completionsUrl, a)
        const first = firstChoice(a.json)
        const lp = legacyLogprobs(first?.logprobs)
        const s =
          lp === undefined || typeof first?.text !== 'string'
            ? { state: 'error' as const, message: 'the answer has no echoed prompt logprobs' }
            : echoScore(prompt, choice, first.text, lp, completionTokens(a.json))
        if (s.state === 'error')
          throw new RequestError(
            'engine',
            `${completionsUrl}, choice ${JSON.stringify(choice)}: ${s.message}`,
          )
        return s.logprob
      }),
    )

  /** The one token of each choice after `prompt`, by the server's tokenizer; a longer choice is a CapabilityError. */
  const choiceTokenIds = async (
    prompt: string,
    choices: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<number[]> => {
    const all = await Promise.all([prompt, ...choices.map((c) => prompt + c)].map((t) => tokenize(t, signal)))
    const [context, ...full] = all
    if (!Array.isArray(context)) throw failed(tokenizeUrl, context!)
    return full.map((tokens, i) => {
      const choice = JSON.stringify(choices[i])
      if (!Array.isArray(tokens)) throw failed(tokenizeUrl, tokens!)
      const prefix = context.every((id, j) => tokens[j] === id)
      if (!prefix)
        throw refuse(
          `choice ${choice} merges with the prompt's last characters into other tokens (by ${tokenizeUrl}), and the endpoint scores only the one next token (no prompt logprobs)`,
        )
      const extra = tokens.length - context.length
      if (extra !== 1)
        throw refuse(
          `choice ${choice} is ${extra} tokens after this prompt (by ${tokenizeUrl}: ${JSON.stringify(tokens.slice(context.length))}), and the endpoint returns no prompt logprobs, only the top-k of the one next token, so only one-token choices can be scored`,
        )
      return tokens[tokens.length - 1]!
    })
  }

  const scoreNextToken = async (
    prompt: string,
    choices: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<number[]> => {
    const ids = await choiceTokenIds(prompt, choices, signal)
    let reason = ''
    for (const k of TOP_K_STEPS) {
      const a = await nextTokenRequest(prompt, k, signal)
      if (!ok(a)) throw failed(completionsUrl, a)
      const top = topEntries(a.json)
      if (top === undefined || top === 'no-ids')
        throw new RequestError(
          'engine',
          `${completionsUrl}: the answer has no next-token top logprobs with ids`,
        )
      const s = nextTokenScore(ids, top)
      if (s.state === 'ok') return s.logprobs
      reason = s.reason
      if (top.length < k) break // the server returned every token it has
    }
    throw new RequestError(
      'engine',
      `${completionsUrl}: ${reason}, so the argmax is unknown and the item is not scored (never a guess)`,
    )
  }

  return {
    get mode() {
      return mode
    },
    async score(prompt: string, choices: readonly string[], signal?: AbortSignal): Promise<number[]> {
      if (choices.length === 0) return []
      signal?.throwIfAborted()
      if (detected === undefined) {
        const attempt = detect(prompt, choices[0]!)
        detected = attempt
        // A capability answer is final; anything else (a 503, a reset) decides nothing.
        attempt.then(
          (m) => {
            mode = m
          },
          (error: unknown) => {
            if (!(error instanceof CapabilityError) && detected === attempt) detected = undefined
          },
        )
      }
      const m = await detected
      signal?.throwIfAborted()
      return m === 'echo' ? scoreEcho(prompt, choices, signal) : scoreNextToken(prompt, choices, signal)
    },
  }
}

/** `usage.completion_tokens`: how many of the echoed answer's last tokens were generated. */
function completionTokens(json: unknown): number | undefined {
  const n = (json as { usage?: { completion_tokens?: unknown } } | null)?.usage?.completion_tokens
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined
}

function firstChoice(json: unknown): Record<string, unknown> | undefined {
  const choices = (json as { choices?: unknown } | null)?.choices
  const first = Array.isArray(choices) ? choices[0] : undefined
  return typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined
}

/**
 * The next token's top entries: the chat-shaped `logprobs.content[0].top_logprobs` (llama-server answers
 * /completions in this shape, with ids); `no-ids` when they exist without ids (or only in the legacy
 * `top_logprobs` dicts, keyed by token text); undefined when there are none.
 */
export function topEntries(json: unknown): TopEntry[] | 'no-ids' | undefined {
  const logprobs = firstChoice(json)?.logprobs as Record<string, unknown> | null | undefined
  if (typeof logprobs !== 'object' || logprobs === null) return undefined
  const content = logprobs.content
  if (Array.isArray(content)) {
    const top = (content[0] as { top_logprobs?: unknown } | undefined)?.top_logprobs
    if (!Array.isArray(top) || top.length === 0) return undefined
    const entries: TopEntry[] = []
    for (const e of top) {
      const { id, logprob } = (e ?? {}) as { id?: unknown; logprob?: unknown }
      if (typeof logprob !== 'number') return undefined
      if (typeof id !== 'number') return 'no-ids'
      entries.push({ id, logprob })
    }
    return entries
  }
  const legacy = logprobs.top_logprobs
  return Array.isArray(legacy) && legacy.length > 0 ? 'no-ids' : undefined
}

/** llama-server's /tokenize answer: `{tokens: [id…]}` or, with pieces, `{tokens: [{id, piece}…]}`. */
function tokenIds(json: unknown): number[] | undefined {
  const tokens = (json as { tokens?: unknown } | null)?.tokens
  if (!Array.isArray(tokens)) return undefined
  const ids: number[] = []
  for (const t of tokens) {
    const id = typeof t === 'number' ? t : (t as { id?: unknown } | null)?.id
    if (typeof id !== 'number') return undefined
    ids.push(id)
  }
  return ids
}
