/**
 * The OpenAI-compatible request bodies the mock accepts, normalised into a GenerationPlan, and the
 * OpenAI-style error bodies it answers with. Unknown fields are accepted and ignored, as vLLM and
 * llama-server do; fields the mock cannot honour (n > 1, several prompts, echo) are refused with a 400.
 * @module
 */
import { z } from 'zod'
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
const topLogprobsInt = z.number().int().min(0).max(20)

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
  echo: z.literal(false, 'echo is not supported').nullish(),
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
}

export function planChat(body: unknown, defaults: PlanDefaults): GenerationPlan {
  const b = parseBody(chatBodySchema, body)
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
  }
}

export function planCompletions(body: unknown, defaults: PlanDefaults): GenerationPlan {
  const b = parseBody(completionsBodySchema, body)
  const prompt = Array.isArray(b.prompt) ? b.prompt[0]! : b.prompt
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
    topLogprobs: b.logprobs ?? undefined,
    promptSource,
    cacheN: 0,
  }
}
