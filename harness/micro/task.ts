/**
 * Micro tasks by name: the id each task's figures are stored under (`micro/<id>/<stat>`), the words a
 * table says for a micro load, and the seeded text the tokenize task reads. Pure; no engine, no tinybench.
 * @module
 */
import { pickWord } from '../prompts/synthetic.ts'
import { createRandom } from '../random.ts'
import type { MicroSpec, MicroTask } from '../results.ts'

/** Characters a tokenize task reads at most (megabytes of text per iteration is no micro benchmark). */
export const MAX_MICRO_CHARS = 1_000_000
/** Prompt tokens of a forward / prefill-decode task at most (the engine's context bounds it further). */
export const MAX_MICRO_PROMPT_TOKENS = 65_536

/** `tokenize-1000` (characters), `forward-128`, `prefill-decode-128` (prompt tokens). */
export function microTaskId(task: MicroTask): string {
  switch (task.kind) {
    case 'tokenize':
      return `tokenize-${task.chars}`
    case 'forward':
    case 'prefill-decode':
      return `${task.kind}-${task.promptTokens}`
    default: {
      const never: never = task
      throw new Error(`unknown micro task ${JSON.stringify(never)}`)
    }
  }
}

/** What one iteration of the task does, in words (tables, the README's task list). */
export function describeMicroTask(task: MicroTask): string {
  switch (task.kind) {
    case 'tokenize':
      return `tokenize ${task.chars} characters`
    case 'forward':
      return `one forward pass of ${task.promptTokens} tokens`
    case 'prefill-decode':
      return `${task.promptTokens} prompt tokens + 1 decoded token`
    default: {
      const never: never = task
      throw new Error(`unknown micro task ${JSON.stringify(never)}`)
    }
  }
}

/** A micro load in a few words: `micro tokenize-1000, forward-128`. */
export function describeMicro(spec: Pick<MicroSpec, 'tasks'>): string {
  return `micro ${spec.tasks.map(microTaskId).join(', ')}`
}

/**
 * `chars` characters of seeded English words separated by spaces (the synthetic prompts' word list), cut
 * at exactly `chars`: the same text for the same seed on every engine and machine.
 */
export function microText(chars: number, seed: number): string {
  const random = createRandom(seed)
  const words: string[] = []
  let length = 0
  while (length < chars) {
    const word = pickWord(random)
    words.push(word)
    length += word.length + 1
  }
  return words.join(' ').slice(0, chars)
}
