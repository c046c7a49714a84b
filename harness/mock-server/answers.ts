/**
 * The mock as a multiple-choice "model" of known accuracy (the `answers` option): it recognizes the item
 * of an lm-eval MMLU prompt (harness/accuracy's mmluPrompt: the question block before the final
 * `Answer:`) in a key loaded with harness/accuracy's loaders, and answers it right with probability p —
 * decided once per (seed, item id) by a hash, so every mode, request order and server gives the same
 * choice — else with a wrong letter drawn uniformly from the others. Measured accuracy over n items is then
 * Binomial(n, p) / n, which the engine tests hold to its 99 % interval.
 * @module
 */
import { stat } from 'node:fs/promises'
import { loadMcJsonl } from '../accuracy/load-jsonl.ts'
import { loadMmluCsv } from '../accuracy/load-mmlu-csv.ts'
import { formatQuestion } from '../accuracy/prompt.ts'
import { choiceLetter, type McItem } from '../accuracy/types.ts'
import { hashString, mix32 } from './text.ts'

export interface AnswersOption {
  /** Probability of answering an item right, 0..1. */
  p: number
  /** An MMLU-layout directory (dev/ val/ test/ of {subject}_{split}.csv) or a JSONL file. */
  key: string
  /** Seeds the right/wrong decisions; the server's seed when absent. */
  seed?: number | undefined
}

/** The item's block as it ends a prompt: formatQuestion() is `{question}\nA. …\nAnswer:`. */
const ANSWER_TAIL = '\nAnswer:'

/** Share of probability on the chosen letter in the mock's next-token distribution; the rest below. */
const CHOSEN_P = 0.6
/** Share of the other letters together; what is left goes to vocabulary words. */
const OTHERS_P = 0.3

export class AnswerKey {
  readonly #byBlock = new Map<string, McItem>()
  readonly #p: number
  readonly #seed: number

  constructor(items: Iterable<McItem>, p: number, seed: number) {
    for (const item of items) {
      const block = formatQuestion(item)
      if (!this.#byBlock.has(block)) this.#byBlock.set(block, item)
    }
    this.#p = p
    this.#seed = seed
  }

  get size(): number {
    return this.#byBlock.size
  }

  /**
   * The item whose block ends `text` up to its last `\nAnswer:` (anything may follow it: " B" in an echo
   * request), and where that `Answer:` ends. The block starts after a blank line (the previous shot or the
   * subject line); each blank line is tried from the last, so a question holding blank lines is found too.
   */
  find(text: string): { item: McItem; end: number } | undefined {
    const at = text.lastIndexOf(ANSWER_TAIL)
    if (at < 0) return undefined
    const end = at + ANSWER_TAIL.length
    const head = text.slice(0, end)
    for (let gap = head.lastIndexOf('\n\n'); gap >= 0; gap = head.lastIndexOf('\n\n', gap - 1)) {
      const item = this.#byBlock.get(head.slice(gap + 2))
      if (item !== undefined) return { item, end }
      if (gap === 0) break
    }
    const item = this.#byBlock.get(head)
    return item === undefined ? undefined : { item, end }
  }

  /** The index the mock answers for `item`: the right one when hash(seed, id) / 2³² < p, else a uniform wrong one. */
  choose(item: McItem): number {
    const h = mix32(this.#seed, hashString(item.id))
    if (h / 2 ** 32 < this.#p) return item.answer
    const n = item.choices.length
    const k = mix32(h, 0x5bd1e995) % (n - 1)
    return k < item.answer ? k : k + 1
  }

  /**
   * Log-probabilities of the letters as the next token after `Answer:`: the chosen one CHOSEN_P, the others
   * OTHERS_P / (n − 1) each (so the chosen letter is the argmax), the rest left to other tokens.
   */
  letterLogprobs(item: McItem, chosen: number): number[] {
    const n = item.choices.length
    return item.choices.map((_, i) => Math.log(i === chosen ? CHOSEN_P : OTHERS_P / (n - 1)))
  }
}

/** The choice letters of `item` (A, B, …). */
export function lettersOf(item: McItem): string[] {
  return item.choices.map((_, i) => choiceLetter(i))
}

/** Loads the key with harness/accuracy's loaders (every split: the prompt's item may come from any). */
export async function loadAnswerKey(option: AnswersOption, serverSeed: number): Promise<AnswerKey> {
  const info = await stat(option.key)
  const dataset = info.isDirectory() ? await loadMmluCsv(option.key) : await loadMcJsonl(option.key)
  const items = [...dataset.test, ...dataset.val, ...dataset.dev]
  return new AnswerKey(items, option.p, option.seed ?? serverSeed)
}
