import path from 'node:path'
import type { PromptSourceSpec } from '../config/schema.ts'
import { readJsonlPrompts } from './jsonl.ts'
import { readShareGptPrompts } from './sharegpt.ts'
import { syntheticPromptSource } from './synthetic.ts'
import type { Prompt, PromptSource } from './types.ts'

export { MAX_AHEAD_CHARS, MAX_AHEAD_PROMPTS, type PromptCursor, promptsAhead } from './ahead.ts'
export { readShareGptPrompts, type ShareGptOptions } from './sharegpt.ts'
export { createSyntheticPrompts, drawLength, mixSeed, syntheticPromptSource } from './synthetic.ts'
export { type TracePromptOptions, tracePromptSource } from './trace.ts'
export type { Prompt, PromptSource } from './types.ts'

/** Opens a scenario's prompt source; relative JSONL and ShareGPT paths resolve against `baseDir`. */
export async function loadPrompts(
  spec: PromptSourceSpec,
  options: { seed: number; baseDir: string },
): Promise<PromptSource> {
  switch (spec.kind) {
    case 'synthetic':
      return syntheticPromptSource({ ...spec, seed: options.seed })
    case 'jsonl': {
      // A file's prompts repeat in order once every line has been sent.
      const prompts = await readJsonlPrompts(path.resolve(options.baseDir, spec.path), spec.outputTokens)
      return { distinct: prompts.length, at: (position) => prompts[position % prompts.length] as Prompt }
    }
    case 'sharegpt': {
      // Repeated in order once every request has been sent, as a JSONL file's lines.
      const prompts = await readShareGptPrompts(path.resolve(options.baseDir, spec.path), spec)
      return { distinct: prompts.length, at: (position) => prompts[position % prompts.length] as Prompt }
    }
    default: {
      const never: never = spec
      throw new Error(`unknown prompt source ${JSON.stringify(never)}`)
    }
  }
}
