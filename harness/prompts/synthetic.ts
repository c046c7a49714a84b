/**
 * Seeded synthetic prompts. One common short English word ≈ one token for BPE tokenizers (and exactly one
 * for the mock server, which counts whitespace-separated words), so `promptTokens` is the prompt's length
 * in words. Same seed → same prompts.
 * @module
 */
import type { LengthSpec } from '../config/schema.ts'
import { createRandom, type Random } from '../random.ts'
import type { Prompt, PromptSource } from './types.ts'

// Frequent English words that GPT-2/Llama/Qwen-style vocabularies each hold as a single token.
const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up other ' +
  'about out many then them these so some her would make like him into time has look two more write go see ' +
  'number no way could people my than first water been call who oil its now find long down day did get come ' +
  'made may part over new sound take only little work know place year live me back give most very after thing ' +
  'our just name good sentence man think say great where help through much before line right too mean old any ' +
  'same tell boy follow came want show also around form three small set put end does another well large must ' +
  'big even such because turn here why ask went men read need land different home us move try kind hand ' +
  'picture again change off play spell air away animal house point page letter mother answer found study ' +
  'still learn should world high every near add food between own below country plant last school father keep ' +
  'tree never start city earth eye light thought head under story saw left few while along might close ' +
  'something seem next hard open example begin life always those both paper together got group often run'
).split(' ')

/** Draws a length from a spec: fixed, or normal(mean, sd) rounded and clamped to [min ?? 1, max ?? ∞]. */
export function drawLength(spec: LengthSpec, random: Random): number {
  if (typeof spec === 'number') return spec
  const v = Math.round(spec.mean + spec.sd * random.normal())
  return Math.min(spec.max ?? Number.POSITIVE_INFINITY, Math.max(spec.min ?? 1, v))
}

export interface SyntheticPromptOptions {
  promptTokens: LengthSpec
  outputTokens: LengthSpec
  /** Distinct prompts, repeated in order (text included, across runs). Absent: never repeated. */
  count?: number
  /** Words every prompt starts with, the same for all (a shared prefix a server may cache). @default 0 */
  sharedPrefixTokens?: number
  /**
   * `prefixes` groups, each with its own first `prefixTokens` words: request i belongs to group i mod
   * prefixes; the rest of its prompt is its own. A group's prefix is new in every run (salt), like all
   * synthetic text, and shared by every request of that group within the run (vLLM's prefix_repetition,
   * AIPerf's shared-prefix prompts): a server's prefix cache can hit the prefix, never the suffix.
   */
  sharedPrefix?: { prefixes: number; prefixTokens: number }
  seed: number
}

/**
 * Synthetic prompts by request position. Lengths follow the seed and the position alone, so every run of
 * a scenario sees the same lengths in the same order (targets are compared on equal work). The words
 * also depend on `salt`, which the runner makes unique per run: a server's prompt cache (llama-server
 * keeps one in RAM; vLLM's prefix cache) must never answer a measured request from an earlier request or
 * run, or TTFT measures a cache hit. `count` asks for repetition instead (same text whatever the salt),
 * `sharedPrefixTokens` for a common prefix.
 */
export function syntheticPromptSource(options: SyntheticPromptOptions): PromptSource {
  const { count, seed } = options
  const prefixWords = options.sharedPrefixTokens ?? 0
  const prefixRandom = createRandom(mixSeed(seed, 0x7072_6566)) // 'pref'
  const prefix = Array.from({ length: prefixWords }, () => pickWord(prefixRandom))
  return {
    distinct: count,
    at(position: number, salt = 0): Prompt {
      const index = count === undefined ? position : position % count
      const lengths = createRandom(mixSeed(seed, index))
      const textSalt = count === undefined ? salt + 1 : 0
      const group = options.sharedPrefix
      // A group's prompt is at least its prefix and one word of its own.
      const minWords = group ? group.prefixTokens + 1 : prefixWords
      const promptTokens = Math.max(drawLength(options.promptTokens, lengths), minWords)
      const outputTokens = drawLength(options.outputTokens, lengths)
      const words = createRandom(mixSeed(mixSeed(seed, index), textSalt))
      const text = group
        ? groupPrefix(seed, textSalt, index % group.prefixes, group.prefixTokens)
        : prefix.slice(0, promptTokens)
      while (text.length < promptTokens) text.push(pickWord(words))
      return { index, prompt: text.join(' '), promptTokens, outputTokens }
    },
  }
}

/** The first words of every prompt of group `group`: depend on the seed, the run's salt and the group only. */
function groupPrefix(seed: number, salt: number, group: number, words: number): string[] {
  const random = createRandom(mixSeed(mixSeed(mixSeed(seed, 0x6772_7000), salt), group)) // 'grp'
  return Array.from({ length: words }, () => pickWord(random))
}

/** The first `count` prompts of a source with that many distinct prompts (salt 0). */
export function createSyntheticPrompts(options: SyntheticPromptOptions & { count: number }): Prompt[] {
  const source = syntheticPromptSource(options)
  return Array.from({ length: options.count }, (_, position) => source.at(position))
}

/** One word of the list, drawn from `random`. */
export function pickWord(random: Random): string {
  return WORDS[random.int(0, WORDS.length - 1)] as string
}

/** A well-spread 32-bit seed from two integers (splitmix-style finalizer). */
export function mixSeed(a: number, b: number): number {
  let z = (Math.imul(a >>> 0, 0x9e3779b1) ^ (b >>> 0)) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return (z ^ (z >>> 16)) >>> 0
}
