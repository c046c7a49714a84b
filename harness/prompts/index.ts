import path from 'node:path'
import type { PromptSourceSpec } from '../config/schema.ts'
import { readJsonlPrompts } from './jsonl.ts'
import { createSyntheticPrompts } from './synthetic.ts'
import type { Prompt } from './types.ts'

export { createSyntheticPrompts, drawLength } from './synthetic.ts'
export type { Prompt } from './types.ts'

/** Loads every prompt of a scenario's source; relative JSONL paths resolve against `baseDir`. */
export async function loadPrompts(
  spec: PromptSourceSpec,
  options: { seed: number; baseDir: string },
): Promise<Prompt[]> {
  switch (spec.kind) {
    case 'synthetic':
      return createSyntheticPrompts({ ...spec, seed: options.seed })
    case 'jsonl':
      return readJsonlPrompts(path.resolve(options.baseDir, spec.path), spec.outputTokens)
    default: {
      const never: never = spec
      throw new Error(`unknown prompt source ${JSON.stringify(never)}`)
    }
  }
}
