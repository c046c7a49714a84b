/**
 * An endpoint study file (`bench spec-endpoints <file>`): the target served without speculation, the same
 * target served with it at each K, optionally the draft served alone, and the prompts. Validated with zod;
 * every problem at once with its path (harness/config's sentences). Loading follows the native study file
 * (../study-file.ts): `.json`, or `.ts/.js/.mjs` with a default export.
 * @module
 */
import { z } from 'zod'
import { toConfigIssues } from '../../config/index.ts'
import { otherKind, StudyError } from '../study-file.ts'

const url = z.url().refine((u) => /^https?:\/\//.test(u), {
  message: 'expected an http(s) base URL, e.g. http://127.0.0.1:8080/v1',
})

const endpointStudyObject = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: "use lower-case letters, digits and '-'" }),
  description: z.string().optional(),
  /** Served model id sent in every request. */
  model: z.string().min(1),
  /** 'completions' (raw prompts, as the native study) or 'chat'. @default 'completions' */
  api: z.enum(['chat', 'completions']).default('completions'),
  /** NAME of the environment variable holding the API key (the same key for every endpoint); never the key. */
  apiKeyEnv: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'must be an environment variable name like OPENAI_API_KEY, not the key',
    )
    .optional(),
  /** Base URL of the target without speculation. */
  off: url,
  /** Base URL of the target with speculation at draft length k (one endpoint per K). */
  on: z.array(z.strictObject({ k: z.int().min(1).max(64), url })).min(1),
  /** Base URL of the draft model served alone: c is measured from it. */
  draftAlone: url.optional(),
  /** c (draft / target per-token cost) when no draftAlone is given; neither: no predicted speedup. */
  c: z.number().positive().optional(),
  /** Read each server's /metrics (origin + /metrics) before and after its pass. @default true */
  metrics: z.boolean().default(true),
  prompts: z.array(z.string().min(1)).min(1),
  /** Tokens generated per prompt (forced), ≥ 2. @default 64 */
  maxTokens: z.int().min(2).max(4096).default(64),
  /**
   * Times every prompt goes to every endpoint. 1: one pass per endpoint in turn. More: interleaved prompt
   * by prompt (off, draft alone, each K, next prompt), so a shared machine's drifting load hits each
   * endpoint alike, and the rates pool every round (study.ts). @default 1
   */
  rounds: z.int().min(1).max(100).default(1),
  /**
   * Requests each endpoint answers before it is measured (the first prompt, maxTokens tokens), outside its
   * /metrics window and its rates: a server's first request pays for paging the model in and cold caches,
   * which would slow whichever pass comes first (usually `off`, inflating every speedup). @default 1
   */
  warmup: z.int().min(0).max(100).default(1),
})

/** With rounds > 1 each endpoint's /metrics window spans the study: two entries on one server would mix. */
export const endpointStudySchema = endpointStudyObject.superRefine((study, ctx) => {
  if (study.rounds <= 1) return
  const urls: [string, string][] = [
    ['off', study.off],
    ...(study.draftAlone !== undefined ? [['draftAlone', study.draftAlone] as [string, string]] : []),
    ...study.on.map((e, i): [string, string] => [`on[${i}].url`, e.url]),
  ]
  const seen = new Map<string, string>()
  for (const [field, url] of urls) {
    const origin = (() => {
      try {
        return new URL(url).origin
      } catch {
        return url
      }
    })()
    const first = seen.get(origin)
    if (first !== undefined)
      ctx.addIssue({
        code: 'custom',
        input: url,
        path: field
          .replace(/\[(\d+)\]/, '.$1')
          .split('.')
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
        message: `the same server as ${first} (${origin}): with rounds > 1 every endpoint needs its own server`,
      })
    else seen.set(origin, field)
  }
})

export type EndpointStudy = z.output<typeof endpointStudySchema>
export type EndpointStudyInput = z.input<typeof endpointStudySchema>

/** Identity helper for study files: `export default defineEndpointStudy({...})`. */
export function defineEndpointStudy(study: EndpointStudyInput): EndpointStudyInput {
  return study
}

export function parseEndpointStudy(input: unknown, source = 'study'): EndpointStudy {
  const native = Array.isArray(input)
    ? input.length > 0 && input.every((one) => otherKind(one, ['target', 'draft'], ['off', 'on']))
    : otherKind(input, ['target', 'draft'], ['off', 'on'])
  if (native)
    throw new StudyError(source, [
      {
        path: '',
        message: `${Array.isArray(input) ? `a set of ${input.length} native studies` : 'a native study'} (target and draft, no off and on): run it with \`bench spec ${source}\``,
      },
    ])
  const result = endpointStudySchema.safeParse(input, { reportInput: true })
  if (!result.success) throw new StudyError(source, toConfigIssues(result.error.issues))
  return result.data
}

/** Loads and validates an endpoint study file (.json, or .ts/.js/.mjs with a default export). */
export async function loadEndpointStudy(file: string): Promise<EndpointStudy> {
  const { readStudyFile } = await import('../study-file.ts')
  return parseEndpointStudy(await readStudyFile(file), file)
}
