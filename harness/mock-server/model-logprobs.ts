/**
 * The vllm personality backed by a real model: `POST /tokenize` and echoed token-id completions with
 * `logprobs: k` answered from a model's own next-token distributions, so that quality measured through an
 * endpoint (the openai engine's topKLogProbs, approximate) can be checked against the native path on the
 * same fixture. The mock never imports an engine (biome boundary): whoever starts it passes a
 * LogprobsModel (harness/quality/mock-model.ts makes one from a native engine) as `internals.logprobsModel`.
 *
 * Shapes are vLLM's (vllm/entrypoints/openai/completion/serving.py `request_output_to_completion_response`
 * and `_create_completion_logprobs`; /tokenize's TokenizeCompletionRequest / TokenizeResponse):
 * - `/tokenize {prompt, add_special_tokens = true}` → `{count, max_model_len, tokens}`;
 * - `/v1/completions {prompt: [ids…], echo: true, logprobs: k, max_tokens: 0}` → one choice whose `text` is
 *   the decoded prompt and whose legacy arrays hold one entry per prompt token: `token_logprobs` (null at
 *   0), `top_logprobs` (null at 0; else the sent token first, then the top k by rank, k + 1 entries when the
 *   sent token is not among them), `tokens`, `text_offset` (Python characters); `prompt_logprobs` too (ids
 *   as keys, `{logprob, rank, decoded_token}`); logprobs clamped at −9999 as vLLM does;
 *   `return_tokens_as_token_ids: true` names tokens `token_id:N`.
 * - `logprobs` above VLLM_MAX_LOGPROBS (vLLM's `--max-logprobs` default) → 400 with vLLM's message.
 * Mock limits, each a 400 naming the field: `max_tokens` other than 0 (the model only scores the prompt;
 * vLLM's "echo without generation"), a streamed request, fewer than 4 prompt ids (the native engines'
 * smallest window), ids outside the vocabulary.
 * @module
 */
import type { Context } from 'hono'
import { errorBody } from './protocol.ts'

/** vLLM's default `--max-logprobs` (vllm/config/model.py max_logprobs = 20). */
export const VLLM_MAX_LOGPROBS = 20

/** What the mock needs of a model to answer like vLLM serving it. */
export interface LogprobsModel {
  readonly vocabSize: number
  /** vLLM's max_model_len: the longest prompt it takes. */
  readonly maxModelLen: number
  /** The text's ids; with `addSpecial` BOS first when the model adds one (vLLM's add_special_tokens). */
  tokenize(text: string, addSpecial: boolean): Promise<number[]>
  /** Text of ids (vLLM detokenizes a token-id prompt for the answer's `text` and each token's string). */
  decode(ids: readonly number[]): string
  /**
   * Natural-log next-token probabilities after every prefix of `ids`: rows × vocabSize, row i the
   * distribution after ids[0 … i], predicting ids[i + 1] (ids.length − 1 rows; position 0 is read as BOS).
   */
  promptLogProbs(ids: readonly number[]): Promise<Float32Array>
}

type JsonAnswer = { status: 200 | 400; body: unknown }

const bad = (message: string, param: string): JsonAnswer => ({
  status: 400,
  body: errorBody(message, 'BadRequestError', null, param),
})

/** The /tokenize answer (vLLM's TokenizeResponse). */
export async function tokenizeAnswer(model: LogprobsModel, body: unknown): Promise<JsonAnswer> {
  const b = (body ?? {}) as { prompt?: unknown; add_special_tokens?: unknown }
  if (typeof b.prompt !== 'string') return bad('prompt must be a string', 'prompt')
  const tokens = await model.tokenize(b.prompt, b.add_special_tokens !== false)
  return { status: 200, body: { count: tokens.length, max_model_len: model.maxModelLen, tokens } }
}

/** Whether a completions body is a token-id echo the model answers (else the mock's usual path). */
export function isModelEcho(body: unknown): boolean {
  const b = body as { echo?: unknown; prompt?: unknown } | null
  return b?.echo === true && Array.isArray(b.prompt) && b.prompt.every((t) => typeof t === 'number')
}

/** One echoed completion of a token-id prompt, scored by the model. */
export async function echoAnswer(
  model: LogprobsModel,
  body: unknown,
  servedModel: string,
  id: string,
): Promise<JsonAnswer> {
  const b = body as {
    prompt: number[]
    logprobs?: unknown
    max_tokens?: unknown
    stream?: unknown
    model?: unknown
    return_tokens_as_token_ids?: unknown
  }
  const ids = b.prompt
  if (b.stream === true) return bad('the mock answers model-backed echo non-streamed only', 'stream')
  if (b.max_tokens !== 0)
    return bad(
      'the mock scores the prompt only: send max_tokens: 0 with echo (vLLM echo without generation)',
      'max_tokens',
    )
  const k = b.logprobs ?? null
  if (k !== null && !(typeof k === 'number' && Number.isInteger(k) && k >= 0))
    return bad('logprobs must be a non-negative integer', 'logprobs')
  if (typeof k === 'number' && k > VLLM_MAX_LOGPROBS)
    return bad(
      `Requested sample logprobs of ${k}, which is greater than max allowed: ${VLLM_MAX_LOGPROBS}`,
      'logprobs',
    )
  if (ids.length < 4) return bad('the mock scores prompts of at least 4 token ids', 'prompt')
  if (ids.length > model.maxModelLen)
    return bad(`the prompt's ${ids.length} tokens exceed max_model_len ${model.maxModelLen}`, 'prompt')
  const outside = ids.find((t) => !Number.isInteger(t) || t < 0 || t >= model.vocabSize)
  if (outside !== undefined) return bad(`token id ${outside} is out of vocabulary`, 'prompt')
  const asIds = b.return_tokens_as_token_ids === true
  const name = (token: number) => (asIds ? `token_id:${token}` : model.decode([token]))
  const text = model.decode(ids)
  const usage = { prompt_tokens: ids.length, total_tokens: ids.length, completion_tokens: 0 }
  const choice: Record<string, unknown> = { index: 0, text, finish_reason: 'length', stop_reason: null }
  if (typeof k === 'number') {
    const rows = await model.promptLogProbs(ids)
    const v = model.vocabSize
    const tokens: string[] = []
    const tokenLogprobs: (number | null)[] = []
    const topLogprobs: (Record<string, number> | null)[] = []
    const promptLogprobs: (Record<
      string,
      { logprob: number; rank: number; decoded_token: string }
    > | null)[] = []
    const textOffset: number[] = []
    let offset = 0
    for (let p = 0; p < ids.length; p++) {
      const token = ids[p]!
      tokens.push(name(token))
      textOffset.push(offset)
      offset += [...tokens[p]!].length
      if (p === 0) {
        tokenLogprobs.push(null)
        topLogprobs.push(null)
        promptLogprobs.push(null)
        continue
      }
      const row = rows.subarray((p - 1) * v, p * v)
      const order = topIds(row, k)
      const clamp = (x: number) => Math.max(x, -9999)
      // vLLM's dict: the sent token first, then the top k by rank (a repeated key is one entry).
      const listed = [token, ...order.filter((t) => t !== token)].slice(0, order.includes(token) ? k : k + 1)
      const top: Record<string, number> = {}
      const detail: Record<string, { logprob: number; rank: number; decoded_token: string }> = {}
      for (const t of listed) {
        top[name(t)] = clamp(row[t]!)
        detail[String(t)] = {
          logprob: clamp(row[t]!),
          rank: rankOf(row, t),
          decoded_token: model.decode([t]),
        }
      }
      tokenLogprobs.push(clamp(row[token]!))
      topLogprobs.push(top)
      promptLogprobs.push(detail)
    }
    choice.logprobs = {
      text_offset: textOffset,
      token_logprobs: tokenLogprobs,
      tokens,
      top_logprobs: topLogprobs,
    }
    choice.prompt_logprobs = promptLogprobs
  } else choice.logprobs = null
  return {
    status: 200,
    body: {
      id,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof b.model === 'string' ? b.model : servedModel,
      choices: [choice],
      usage,
    },
  }
}

/** The k most likely ids of a row, most likely first, ties to the lower id. */
export function topIds(row: ArrayLike<number>, k: number): number[] {
  const ids = Array.from({ length: row.length }, (_, i) => i)
  ids.sort((a, b) => row[b]! - row[a]! || a - b)
  return ids.slice(0, k)
}

/** 1 + the number of tokens strictly more likely (vLLM's rank of a token). */
function rankOf(row: ArrayLike<number>, token: number): number {
  let rank = 1
  for (let i = 0; i < row.length; i++) if (row[i]! > row[token]!) rank++
  return rank
}

/** Sends an answer of this module through Hono. */
export function send(c: Context, answer: JsonAnswer): Response {
  return c.json(answer.body as object, answer.status)
}
