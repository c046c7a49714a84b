/**
 * Prompts drawn before a load starts, so making them is not timed. A synthetic prompt costs ~20 µs
 * (seeded draws, one per word, then a join: measured with `--cpu-prof` at 64 streams, 2026-12-07); made at
 * send time it ran on the event loop while other streams' chunks waited to be read and stamped, which
 * showed in ITL p99. `vllm bench serve` samples its requests up front for the same reason, and selftest's
 * bare reader builds every body before its first send.
 *
 * Bounded: at most MAX_AHEAD_PROMPTS prompts and MAX_AHEAD_CHARS characters of prompt text are held
 * (long prompts × long runs would otherwise hold gigabytes); past that, and for loads whose request count
 * is unknown (a closed loop bounded by duration), the rest are drawn at send time as before. Same prompts
 * in the same order either way.
 * @module
 */
import type { Prompt, PromptSource } from './types.ts'

/** At most this many prompts are drawn ahead. */
export const MAX_AHEAD_PROMPTS = 100_000
/** At most this many characters of prompt text (UTF-16 code units, ~2 bytes each) are held ahead: 32 Mi. */
export const MAX_AHEAD_CHARS = 32 * 1024 * 1024

export interface PromptCursor {
  /** The next prompt: drawn ahead while there are, then from the source. */
  next(): Prompt
  /** How many were drawn ahead (for tests and diagnostics). */
  readonly ahead: number
}

/**
 * The prompts of positions `from`, `from + 1`, … of `source` with `salt`, the first `expected` of them
 * (capped as above) drawn now.
 */
export function promptsAhead(
  source: PromptSource,
  options: { from: number; salt: number; expected: number | undefined },
): PromptCursor {
  const { from, salt } = options
  const drawn: (Prompt | undefined)[] = []
  const wanted = Math.min(options.expected ?? 0, MAX_AHEAD_PROMPTS)
  let chars = 0
  while (drawn.length < wanted && chars < MAX_AHEAD_CHARS) {
    const p = source.at(from + drawn.length, salt)
    drawn.push(p)
    chars += p.prompt.length + (p.messages?.reduce((n, m) => n + m.content.length, 0) ?? 0)
  }
  let taken = 0
  return {
    ahead: drawn.length,
    next() {
      const position = taken++
      const p = drawn[position]
      if (p !== undefined) {
        // Let the string go once sent: a long run must not keep every prompt it has already sent.
        drawn[position] = undefined
        return p
      }
      return source.at(from + position, salt)
    },
  }
}
