/**
 * The OpenAI-compatible request bodies the mock accepts, normalised into a GenerationPlan, and the
 * OpenAI-style error bodies it answers with. Unknown fields are accepted and ignored, as vLLM and
 * llama-server do; fields the mock cannot honour (n > 1, several prompts; echo outside the vllm and
 * llama-server personalities) are refused with a 400.
 * @module
 */
import { z } from 'zod'
import type { AnswerToken } from './mock-tokens.ts'
import type { Personality } from './options.ts'
import { countWords, hashString, mix32 } from './text.ts'

export type MockApi = 'chat' | 'completions'

export interface GenerationPlan {
  api: MockApi
  stream: boolean
  /**
   * stream_options.include_usage: chat streams end with a `choices: []` chunk carrying usage (completions
   * streams too under the vllm personality; the others always put usage on the finish chunk).
   */
  includeUsage: boolean
  /** Echoed in every response. */
  model: string
  /** Exactly this many tokens are generated. */
  outputTokens: number
  /** 'length' when the request set max_tokens (the limit was hit), 'stop' when the server's default applied. */
  finishReason: 'length' | 'stop'
  /** Whitespace-separated words of the prompt (chat: of every message content). */
  promptTokens: number
  /** Seeds the text and logprobs: same prompt and seed → same answer. */
  textKey: number
  /** Top log-probabilities per token; undefined = logprobs not requested. */
  topLogprobs: number | undefined
  /** The prompt as tokenized (one word = one token): texts (chat: each message content, in order) or token ids. */
  promptSource: readonly string[] | readonly number[]
  /**
   * Prompt tokens the server reused from its prompt cache instead of processing them (llama-server
   * personality; set by the app after planning). 0 = none.
   */
  cacheN: number
  /**
   * Completions with `echo: true` under the vllm personality: the answer's text and logprobs start with the
   * prompt (vLLM's legacy arrays). llama-server accepts echo and ignores it, as the real one does.
   */
  echo?: { prompt: string }
  /** llama-server personality: every logprobs entry carries the token `id` (as llama-server's do). */
  tokenIds?: boolean
  /** Set by the app when the answers option recognizes the prompt's item (answers.ts, mock-tokens.ts). */
  answer?: AnswerToken & {
    /** The answer token carries a leading space (the prompt ends right after `Answer:`). */
    leadingSpace: boolean
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export function errorBody(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type, param, code } }
}

export class BadRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message)
  }
}

const positiveInt = z.number().int().positive()
/** Top logprobs the schema lets through; each personality's own limit is checked after (checkTopLogprobs). */
const topLogprobsInt = z.number().int().min(0).max(100_000)

const contentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() })

const commonFields = {
  model: z.string().optional(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: positiveInt.nullish(),
  min_tokens: z.number().int().min(0).nullish(),
  ignore_eos: z.boolean().nullish(),
  n: z.literal(1, 'only n = 1 is supported').nullish(),
  seed: z.number().int().nullish(),
}

const chatBodySchema = z.looseObject({
  ...commonFields,
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: z.union([z.string(), z.array(contentPartSchema), z.null()]).optional(),
      }),
    )
    .min(1),
  max_completion_tokens: positiveInt.nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: topLogprobsInt.nullish(),
})

const tokenIds = z.array(z.number().int().min(0))

const completionsBodySchema = z.looseObject({
  ...commonFields,
  prompt: z.union([
    z.string(),
    z.array(z.string()).length(1, 'the mock serves one prompt per request'),
    tokenIds.min(1),
    z.array(tokenIds).length(1, 'the mock serves one prompt per request'),
  ]),
  logprobs: topLogprobsInt.nullish(),
  /** llama-server's own name for the top-k of each generated token (an alias of `logprobs` there). */
  n_probs: topLogprobsInt.nullish(),
  echo: z.boolean().nullish(),
})

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const param = issue.path.map(String).join('.') || null
  throw new BadRequest(param === null ? issue.message : `${param}: ${issue.message}`, param)
}

interface Limits {
  maxTokens: number | null | undefined
  minTokens: number | null | undefined
}

function outputLength({ maxTokens, minTokens }: Limits, defaultOutputTokens: number) {
  if (maxTokens != null && minTokens != null && minTokens > maxTokens)
    throw new BadRequest(`min_tokens (${minTokens}) must be ≤ max_tokens (${maxTokens})`, 'min_tokens')
  // min_tokens / ignore_eos need no action: the mock always generates exactly max_tokens.
  if (maxTokens != null) return { outputTokens: maxTokens, finishReason: 'length' as const }
  return { outputTokens: Math.max(defaultOutputTokens, minTokens ?? 0), finishReason: 'stop' as const }
}

export interface PlanDefaults {
  seed: number
  model: string
  outputTokens: number
  personality: Personality
}

/**
 * vLLM refuses more than its max_logprobs (20 by default) and the mock's default follows OpenAI's 20;
 * llama-server takes any k and answers at most n_vocab entries (measured on the real server: `logprobs:
 * 1000` on a 259-token vocabulary returned 259).
 */
function checkTopLogprobs(k: number | null | undefined, personality: Personality, param: string): void {
  if (k != null && k > 20 && personality !== 'llama-server')
    throw new BadRequest(`${param}: must be ≤ 20, got ${k}`, param)
}

export function planChat(body: unknown, defaults: PlanDefaults): GenerationPlan {
  const b = parseBody(chatBodySchema, body)
  checkTopLogprobs(b.top_logprobs, defaults.personality, 'top_logprobs')
  let promptTokens = 0
  let hash = hashString('chat')
  const promptSource: string[] = []
  for (const m of b.messages) {
    hash = hashString(m.role, hash)
    const parts = typeof m.content === 'string' ? [m.content] : (m.content ?? []).map((p) => p.text ?? '')
    for (const text of parts) {
      promptTokens += countWords(text)
      hash = hashString(text, hashString('\u0000', hash))
      promptSource.push(text)
    }
  }
  return {
    api: 'chat',
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    model: b.model || defaults.model,
    ...outputLength(
      { maxTokens: b.max_tokens ?? b.max_completion_tokens, minTokens: b.min_tokens },
      defaults.outputTokens,
    ),
    promptTokens,
    textKey: mix32(mix32(defaults.seed, b.seed ?? 0), hash),
    topLogprobs: b.logprobs === true ? (b.top_logprobs ?? 0) : undefined,
    promptSource,
    cacheN: 0,
    ...(defaults.personality === 'llama-server' ? { tokenIds: true } : {}),
  }
}

export function planCompletions(body: unknown, defaults: PlanDefaults): GenerationPlan {
  const b = parseBody(completionsBodySchema, body)
  checkTopLogprobs(b.logprobs, defaults.personality, 'logprobs')
  const prompt = Array.isArray(b.prompt) ? b.prompt[0]! : b.prompt
  let echo: { prompt: string } | undefined
  if (b.echo === true && defaults.personality !== 'llama-server') {
    if (defaults.personality !== 'vllm') throw new BadRequest('echo is not supported', 'echo')
    if (b.stream === true) throw new BadRequest('echo: the mock echoes only non-streamed answers', 'echo')
    if (typeof prompt !== 'string') throw new BadRequest('echo: the mock echoes only text prompts', 'echo')
    echo = { prompt }
  }
  let promptTokens: number
  let hash: number
  let promptSource: readonly string[] | readonly number[]
  if (typeof prompt === 'string') {
    promptTokens = countWords(prompt)
    hash = hashString(prompt, hashString('completions'))
    promptSource = [prompt]
  } else {
    const ids = typeof prompt === 'number' ? (b.prompt as number[]) : prompt
    promptTokens = ids.length
    hash = hashString(ids.join(','), hashString('completions'))
    promptSource = ids
  }
  return {
    api: 'completions',
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    model: b.model || defaults.model,
    ...outputLength({ maxTokens: b.max_tokens, minTokens: b.min_tokens }, defaults.outputTokens),
    promptTokens,
    textKey: mix32(mix32(defaults.seed, b.seed ?? 0), hash),
    // llama-server reads `n_probs` as the same top-k (measured: `n_probs: 3` alone answers 3 alternatives).
    topLogprobs: b.logprobs ?? (defaults.personality === 'llama-server' ? b.n_probs : undefined) ?? undefined,
    promptSource,
    cacheN: 0,
    ...(echo !== undefined ? { echo } : {}),
    ...(defaults.personality === 'llama-server' ? { tokenIds: true } : {}),
  }
}
