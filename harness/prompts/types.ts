import type { ChatMessage } from '../engines/engine.ts'

/** One prompt of a source, with the output length to request. */
export interface Prompt {
  /** Position in the source (stored with each outcome). */
  index: number
  prompt: string
  /** Chat turns when the source gives them (JSONL `messages`); chat engines send them as they are. */
  messages?: ChatMessage[]
  /** Intended prompt length in tokens, when the source knows it (synthetic). */
  promptTokens?: number
  /** Output tokens to request (max_tokens). */
  outputTokens: number
}
