/**
 * The prompts of a trace replay (harness/load/trace.ts): request i gets line i's lengths — a synthetic
 * prompt of `input_length` words and `output_length` output tokens. The text is new in every run (salt),
 * like any synthetic prompt, so no request is answered from an earlier run's cache; within a run, lines
 * whose `hash_ids` share a block id share that block's text (Mooncake's prefix blocks), so a server's
 * prefix cache sees the reuse the trace recorded. Words past the blocks are the line's own.
 * @module
 */
import type { TraceEntry } from '../load/trace.ts'
import { createRandom } from '../random.ts'
import { mixSeed, pickWord } from './synthetic.ts'
import type { Prompt, PromptSource } from './types.ts'

export interface TracePromptOptions {
  seed: number
  /** Words per hash_ids block. @default 512 (Mooncake's block size) */
  hashBlockTokens?: number
}

/** A prompt source over a trace's entries, repeating them in order past the last (warmups draw ahead). */
export function tracePromptSource(entries: readonly TraceEntry[], options: TracePromptOptions): PromptSource {
  const blockTokens = options.hashBlockTokens ?? 512
  const { seed } = options
  return {
    distinct: entries.length,
    at(position: number, salt = 0): Prompt {
      const index = position % entries.length
      const entry = entries[index] as TraceEntry
      // Seeds: a block's text depends on (seed, salt, block id) only; the rest on (seed, salt, position).
      const runSeed = mixSeed(seed, salt + 1)
      const words: string[] = []
      for (const id of entry.hashIds ?? []) {
        if (words.length >= entry.inputLength) break
        const block = createRandom(mixSeed(mixSeed(runSeed, 0x626c_6b00), id)) // 'blk'
        for (let k = 0; k < blockTokens && words.length < entry.inputLength; k++) words.push(pickWord(block))
      }
      const own = createRandom(mixSeed(runSeed, position))
      while (words.length < entry.inputLength) words.push(pickWord(own))
      return {
        index,
        prompt: words.join(' '),
        promptTokens: entry.inputLength,
        outputTokens: entry.outputLength,
      }
    },
  }
}
