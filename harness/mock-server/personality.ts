/**
 * What each personality changes in a response's bytes (the connection handling is in connections.ts, the
 * server state in llama-server.ts and vllm.ts). Sources per behaviour are in README.md, Personalities.
 * @module
 */
import type { Personality } from './options.ts'

export interface StreamShape {
  /**
   * `content` of a chat stream's role chunk: llama-server sends null, vLLM `""`
   * (serving_chat: `DeltaMessage(role=role, content="")`).
   */
  roleContent: 'null' | 'empty'
  /**
   * vLLM puts finish_reason on the chunk carrying the last token; llama.cpp sends a separate chunk with an
   * empty delta (server-task.cpp `to_json_oaicompat_chat_stream`).
   */
  finishOnLastContent: boolean
  /**
   * Completions streams: llama-server puts usage (and timings) on the finish chunk, always
   * (`to_json_oaicompat`); vLLM sends a `choices: []` usage chunk only with stream_options.include_usage.
   */
  completionsUsage: 'finish-chunk' | 'usage-chunk'
  /**
   * `timings` on the final chunk and non-streamed bodies: the mock's own formulas (per-token = ms / n),
   * llama-server's (per-token = ms / (n − 1), prompt_n excludes cache_n), or none (vLLM).
   */
  timings: 'mock' | 'llama-server' | 'none'
  /** usage.prompt_tokens_details.cached_tokens, which llama-server always sends. */
  cachedTokensDetail: boolean
  /** `system_fingerprint` on every chunk (llama-server: its build info; vLLM leaves it unset). */
  systemFingerprint: boolean
}

export function streamShape(personality: Personality, serverTimings: boolean): StreamShape {
  switch (personality) {
    case 'default':
      return {
        roleContent: 'null',
        finishOnLastContent: false,
        completionsUsage: 'finish-chunk',
        timings: serverTimings ? 'mock' : 'none',
        cachedTokensDetail: false,
        systemFingerprint: true,
      }
    case 'llama-server':
      return {
        roleContent: 'null',
        finishOnLastContent: false,
        completionsUsage: 'finish-chunk',
        timings: serverTimings ? 'llama-server' : 'none',
        cachedTokensDetail: true,
        systemFingerprint: true,
      }
    case 'vllm':
      return {
        roleContent: 'empty',
        finishOnLastContent: true,
        completionsUsage: 'usage-chunk',
        timings: 'none',
        cachedTokensDetail: false,
        systemFingerprint: false,
      }
    default: {
      const never: never = personality
      throw new Error(`unknown personality ${String(never)}`)
    }
  }
}
