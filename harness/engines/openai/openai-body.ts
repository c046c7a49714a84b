/**
 * The JSON body of one streaming request, identical for every HTTP client so that they measure the same
 * server work.
 * @module
 */
import type { GenerationRequest } from '../engine.ts'

export type OpenAIApi = 'chat' | 'completions'

/** Path under the base URL for each API. */
export { SENT_AT_HEADER } from '../../openai-wire.ts'

export const API_PATHS: Record<OpenAIApi, string> = {
  chat: '/chat/completions',
  completions: '/completions',
}

/**
 * model, messages or prompt, max_tokens, stream with usage, the sampling fields that are set (snake_case,
 * including the non-OpenAI top_k / repetition_penalty / min_tokens / ignore_eos that vLLM and llama-server
 * accept), logprobs when asked, then `extraBody` merged last so it can override anything.
 */
export function buildRequestBody(
  api: OpenAIApi,
  model: string,
  request: GenerationRequest,
  extraBody: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = { model }
  if (api === 'chat') body.messages = request.messages ?? [{ role: 'user', content: request.prompt }]
  else body.prompt = request.prompt
  body.max_tokens = request.maxTokens
  body.stream = true
  body.stream_options = { include_usage: true }
  const s = request.sampling
  if (s !== undefined) {
    if (s.temperature !== undefined) body.temperature = s.temperature
    if (s.topP !== undefined) body.top_p = s.topP
    if (s.topK !== undefined) body.top_k = s.topK
    if (s.seed !== undefined) body.seed = s.seed
    if (s.stop !== undefined) body.stop = s.stop
    if (s.presencePenalty !== undefined) body.presence_penalty = s.presencePenalty
    if (s.frequencyPenalty !== undefined) body.frequency_penalty = s.frequencyPenalty
    if (s.repetitionPenalty !== undefined) body.repetition_penalty = s.repetitionPenalty
  }
  if (request.minTokens !== undefined) body.min_tokens = request.minTokens
  if (request.ignoreEos !== undefined) body.ignore_eos = request.ignoreEos
  if (request.topLogprobs !== undefined) {
    if (api === 'chat') {
      body.logprobs = true
      body.top_logprobs = request.topLogprobs
    } else {
      body.logprobs = request.topLogprobs
    }
  }
  if (extraBody !== undefined) Object.assign(body, extraBody)
  return body
}
