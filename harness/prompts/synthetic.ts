/**
 * Seeded synthetic prompts. One common short English word ≈ one token for BPE tokenizers (and exactly one
 * for the mock server, which counts whitespace-separated words), so `promptTokens` is the prompt's length
 * in words. Same seed → same prompts.
 * @module
 */
import type { LengthSpec } from '../config/schema.ts'
import { createRandom, type Random } from '../random.ts'
import type { Prompt } from './types.ts'

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
  /** Distinct prompts; requests cycle through them. */
  count: number
  seed: number
}

export function createSyntheticPrompts(options: SyntheticPromptOptions): Prompt[] {
  const random = createRandom(options.seed)
  const prompts: Prompt[] = []
  for (let index = 0; index < options.count; index++) {
    const promptTokens = drawLength(options.promptTokens, random)
    const outputTokens = drawLength(options.outputTokens, random)
    const words = new Array<string>(promptTokens)
    for (let w = 0; w < promptTokens; w++) words[w] = WORDS[random.int(0, WORDS.length - 1)] as string
    prompts.push({ index, prompt: words.join(' '), promptTokens, outputTokens })
  }
  return prompts
}
