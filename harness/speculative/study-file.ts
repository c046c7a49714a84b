/**
 * What a study file may say (zod), and loading one: `.json`, or `.ts/.js/.mjs` with a default export
 * (`export default defineStudy({...})` or a plain object). Light: no node-llama-cpp, so a queue or the
 * dashboard can validate a study without loading the native engine. Every problem is reported at once,
 * with its path and the fix (harness/config's sentences).
 * @module
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { toConfigIssues } from '../config/index.ts'
import { type ConfigIssue, HarnessError } from '../errors.ts'

const modelPath = z
  .string()
  .min(1)
  .refine((p) => p.endsWith('.gguf'), { message: 'expected the path of a .gguf file' })

export const studySchema = z.strictObject({
  /** Key of the study (a later database row): lower-case letters, digits, '-'. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: "use lower-case letters, digits and '-'" }),
  description: z.string().optional(),
  /** GGUF of the target model; relative paths are resolved against the working directory. */
  target: modelPath,
  /** GGUF of the draft model: same vocabulary as the target. */
  draft: modelPath,
  /** Raw completion prompts (no chat template), tokenized by the target's tokenizer with BOS. */
  prompts: z.array(z.string().min(1)).min(1),
  /** Drafted tokens per verify step. @default [1 … 8] */
  ks: z.array(z.int().min(1).max(32)).min(1).default([1, 2, 3, 4, 5, 6, 7, 8]),
  /** greedy: keep a drafted token when it is the target's argmax; sampled: Leviathan rejection sampling. */
  mode: z.enum(['greedy', 'sampled']).default('greedy'),
  /** Sampled mode's temperature (full vocabulary: no top-k / top-p). @default 1 */
  temperature: z.number().positive().max(100).default(1),
  /** Seed of every sampled token and acceptance draw. @default 0 */
  seed: z.int().min(0).default(0),
  /** Tokens generated per prompt and K. @default 64 */
  maxTokens: z.int().min(1).max(4096).default(64),
  /** Threads per model evaluation. @default 1 (2-core machines: more is slower) */
  threads: z.int().min(1).default(1),
  /** Also run node-llama-cpp's DraftSequenceTokenPredictor at each K (its figures are its own). @default true */
  predictor: z.boolean().default(true),
  /** Untimed runs of each loop before the first timed one (page-in, allocator warm-up). @default 1 */
  warmup: z.int().min(0).default(1),
})

export type StudyInput = z.input<typeof studySchema>
export type Study = z.output<typeof studySchema>

/** Identity helper for study files: `export default defineStudy({...})` (plain objects work too). */
export function defineStudy(study: StudyInput): StudyInput {
  return study
}

export class StudyError extends HarnessError {
  override name = 'StudyError'
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `Study ${source} is invalid:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    )
  }
}

/** An object with any of these keys and none of `absent`: a study file of the other kind, named in one line. */
export function otherKind(input: unknown, keys: readonly string[], absent: readonly string[]): boolean {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return false
  return keys.some((k) => k in input) && !absent.some((k) => k in input)
}

export function parseStudy(input: unknown, source = 'study'): Study {
  if (otherKind(input, ['off', 'on'], ['target', 'draft']))
    throw new StudyError(source, [
      {
        path: '',
        message: `an endpoint study (off and on, no target and draft): run it with \`bench spec-endpoints ${source}\``,
      },
    ])
  const result = studySchema.safeParse(input, { reportInput: true })
  if (!result.success) throw new StudyError(source, toConfigIssues(result.error.issues))
  return result.data
}

/**
 * The default export of a .json or .ts/.js/.mjs study file, unvalidated (a native study here, an endpoint
 * study in endpoints/study-file.ts); a missing file or export is a StudyError naming it.
 */
export async function readStudyFile(file: string): Promise<unknown> {
  const abs = path.resolve(file)
  if (!existsSync(abs)) throw new StudyError(file, [{ path: '', message: 'file not found' }])
  let raw: unknown
  try {
    if (abs.endsWith('.json')) raw = JSON.parse(await readFile(abs, 'utf8'))
    else {
      const { tsImport } = await import('tsx/esm/api')
      const ns = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as { default?: unknown }
      const d = ns.default as { __esModule?: unknown; default?: unknown } | undefined
      raw = d !== null && typeof d === 'object' && d.__esModule === true ? d.default : d
    }
  } catch (err) {
    throw new StudyError(file, [{ path: '', message: `cannot read the study: ${(err as Error).message}` }])
  }
  if (raw === undefined)
    throw new StudyError(file, [
      { path: '', message: 'the file has no default export; write `export default defineStudy({...})`' },
    ])
  return raw
}

/** Loads a .json or .ts/.js/.mjs (default export) study file and validates it; model files must exist. */
export async function loadStudy(file: string): Promise<Study> {
  const raw = await readStudyFile(file)
  if (Array.isArray(raw))
    throw new StudyError(file, [
      {
        path: '',
        message: `the file holds a set of ${raw.length} studies (one per draft); \`bench spec ${file}\` runs them all, in turn`,
      },
    ])
  return checkedStudy(raw, file)
}

/**
 * A study file's studies: one, or a set (a default export that is an array: e.g. one target against several
 * drafts, scenarios/spec-study.ts). Each validated (paths `[i].field`) and its model files checked.
 */
export async function loadStudies(file: string): Promise<Study[]> {
  const raw = await readStudyFile(file)
  if (!Array.isArray(raw)) return [checkedStudy(raw, file)]
  if (raw.length === 0) throw new StudyError(file, [{ path: '', message: 'an empty set of studies' }])
  const studies = raw.map((one, i) => checkedStudy(one, `${file}[${i}]`))
  const names = studies.map((s) => s.name)
  const twice = names.filter((n, i) => names.indexOf(n) !== i)
  if (twice.length > 0)
    throw new StudyError(file, [
      { path: '', message: `study names must differ within a set: ${twice.join(', ')}` },
    ])
  return studies
}

function checkedStudy(raw: unknown, source: string): Study {
  const study = parseStudy(raw, source)
  const missing = (['target', 'draft'] as const)
    .filter((f) => !existsSync(path.resolve(study[f])))
    .map((f) => ({
      path: f,
      message: `model file ${study[f]} not found (fixtures: run \`bench fixtures --size all\`)`,
    }))
  if (missing.length > 0) throw new StudyError(source, missing)
  return study
}
