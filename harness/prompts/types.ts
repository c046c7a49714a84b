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

/** The prompts of a scenario, by request position. */
export interface PromptSource {
  /** Distinct prompts before they repeat (a JSONL file's lines, a synthetic `count`); undefined: never. */
  readonly distinct: number | undefined
  /**
   * The prompt of the `position`-th request of a run (warmups first, 0-based). `salt` varies what a
   * source may vary between runs without changing the work (synthetic text); the runner gives each run
   * its own.
   */
  at(position: number, salt?: number): Prompt
}
