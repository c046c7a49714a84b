/**
 * llama-bench `-o json` (an array of test records) or `-o jsonl` → runs in our terms.
 *
 * Records that share every setting (model, build, hardware, threads, batch sizes …) and depth form one
 * run: its pp test (n_gen = 0) gives promptTokensPerS and its tg test (n_prompt = 0) genTokensPerS, each
 * the record's avg_ts with promptTokensPerSSd / genTokensPerSSd = stddev_ts (llama-bench's sample
 * deviation, n − 1) and n = repetitions; the raw samples stay in the stored records. When a group has
 * several pp or tg sizes (`-p 64,512`), each record is a run of its own so no figure is ambiguous.
 * Combined pg tests (both > 0) measure neither figure and are kept in the document only.
 * @module
 */
import path from 'node:path'
import { z } from 'zod'
import type { MetricRow } from '../../harness/metrics/types.ts'
import type { VariantIdentity } from '../../harness/results.ts'
import { canonicalJson, sha256Hex } from '../identity.ts'
import { type ImportContext, ImportError, type ImportedRun, importFingerprint, metricRow } from './types.ts'
import { describeIssues } from './zod-issues.ts'

const count = z.number().int().nonnegative()
const recordSchema = z.looseObject({
  model_filename: z.string().min(1),
  model_type: z.string().nullish(),
  model_size: count.nullish(),
  model_n_params: count.nullish(),
  build_commit: z.string().nullish(),
  build_number: z.number().int().nullish(),
  cpu_info: z.string().nullish(),
  gpu_info: z.string().nullish(),
  backends: z.string().nullish(),
  n_prompt: count,
  n_gen: count,
  n_depth: count.nullish(),
  test_time: z.string().nullish(),
  avg_ts: z.number().nonnegative(),
  stddev_ts: z.number().nonnegative(),
  samples_ns: z.array(z.number()).nullish(),
  samples_ts: z.array(z.number()).nullish(),
})
type LlamaBenchRecord = z.infer<typeof recordSchema>

/** Fields that describe one test's result rather than the setup. */
const TEST_FIELDS = new Set([
  'n_prompt',
  'n_gen',
  'n_depth',
  'test_time',
  'avg_ns',
  'stddev_ns',
  'avg_ts',
  'stddev_ts',
  'samples_ns',
  'samples_ts',
])
/** Setup fields that identify the model or the build rather than an engine option. */
const IDENTITY_FIELDS = new Set([
  'model_filename',
  'model_type',
  'model_size',
  'model_n_params',
  'build_commit',
  'build_number',
])

export function mapLlamaBench(items: unknown[], context: ImportContext): ImportedRun[] {
  const records = items.map((item, i) => {
    const parsed = recordSchema.safeParse(item)
    if (!parsed.success)
      throw new ImportError(context.file, `not llama-bench output: ${describeIssues(parsed.error, `[${i}]`)}`)
    return parsed.data
  })
  const groups = new Map<string, LlamaBenchRecord[]>()
  for (const r of records) {
    const key = canonicalJson({ setup: setupOf(r), depth: r.n_depth ?? 0 })
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const runs: ImportedRun[] = []
  for (const group of groups.values()) {
    const pp = group.filter((r) => r.n_prompt > 0 && r.n_gen === 0)
    const tg = group.filter((r) => r.n_gen > 0 && r.n_prompt === 0)
    const pg = group.filter((r) => r.n_gen > 0 && r.n_prompt > 0)
    const notes =
      pg.length > 0
        ? [`${pg.length} combined pp+tg test(s) have no figure of ours and were not imported`]
        : []
    if (pp.length <= 1 && tg.length <= 1) {
      const tests = [...pp, ...tg]
      if (tests.length > 0) runs.push(toRun(tests, context, notes))
    } else for (const r of [...pp, ...tg]) runs.push(toRun([r], context, notes))
  }
  if (runs.length === 0)
    throw new ImportError(
      context.file,
      'no pp (n_gen = 0) or tg (n_prompt = 0) test in the llama-bench records',
    )
  return runs
}

function setupOf(r: LlamaBenchRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).filter(([k]) => !TEST_FIELDS.has(k)))
}

/** llama-bench's test name: pp512, tg128, with ` @ d<depth>` when a depth was set. */
function testName(r: LlamaBenchRecord): string {
  const base = r.n_gen === 0 ? `pp${r.n_prompt}` : `tg${r.n_gen}`
  return r.n_depth ? `${base} @ d${r.n_depth}` : base
}

function toRun(tests: LlamaBenchRecord[], context: ImportContext, groupNotes: string[]): ImportedRun {
  const first = tests[0] as LlamaBenchRecord
  const setup = setupOf(first)
  const notes = [
    ...groupNotes,
    'promptTokensPerS / genTokensPerS exclude HTTP and tokenization (llama-bench measures the engine alone)',
  ]
  const metrics: MetricRow[] = []
  for (const t of tests) {
    const reps = t.samples_ts?.length ?? t.samples_ns?.length
    if (reps === undefined) notes.push(`${testName(t)}: no samples in the record, n counted as 1`)
    const base = t.n_gen === 0 ? 'promptTokensPerS' : 'genTokensPerS'
    metrics.push(metricRow(base, t.avg_ts, reps ?? 1), metricRow(`${base}Sd`, t.stddev_ts, reps ?? 1))
  }
  const scenario = {
    tool: 'llama-bench',
    tests: tests.map((t) => ({
      test: testName(t),
      nPrompt: t.n_prompt,
      nGen: t.n_gen,
      nDepth: t.n_depth ?? 0,
      repetitions: t.samples_ts?.length ?? t.samples_ns?.length ?? null,
    })),
  }
  const scenarioHash = sha256Hex(canonicalJson(scenario))
  const engineOptions = Object.fromEntries(Object.entries(setup).filter(([k]) => !IDENTITY_FIELDS.has(k)))
  const engineVersion = first.build_commit
    ? `${first.build_commit}${first.build_number != null ? ` (build ${first.build_number})` : ''}`
    : null
  const times = tests.map((t) => (t.test_time ? Date.parse(t.test_time) : Number.NaN))
  const known = times.filter((t) => Number.isFinite(t))
  if (known.length < times.length)
    notes.push("a test has no readable test_time: the file's modification time is used")
  const startedAt = known.length > 0 ? new Date(Math.min(...known)) : context.fileModifiedAt
  // Each test's start plus its measured repetitions: a lower bound of when the run ended.
  const ends = tests.map((t, i) => {
    const start = times[i]
    const busyMs = (t.samples_ns ?? []).reduce((sum, ns) => sum + ns, 0) / 1e6
    return Number.isFinite(start) ? (start as number) + busyMs : Number.NaN
  })
  const finishedAt = ends.every(Number.isFinite) ? new Date(Math.max(...ends)) : null
  const modelName = path.basename(first.model_filename).replace(/\.gguf$/i, '')
  return {
    scenarioName: context.scenarioName ?? 'llama-bench',
    scenarioHash,
    scenario,
    targetName: modelName,
    engineKind: 'llama.cpp',
    engineVersion,
    engineModel: first.model_filename,
    engineDevice: first.gpu_info || first.backends || null,
    engineOptions,
    load: { kind: 'llama-bench', tests: scenario.tests },
    loadKind: 'llama-bench',
    label: null,
    fingerprint: importFingerprint('llama-bench', { setup, scenario: scenarioHash }),
    startedAt,
    finishedAt,
    ...(variantOf(first, modelName) ? { variant: variantOf(first, modelName) } : {}),
    metrics,
    requests: [],
    document: tests,
    notes,
  }
}

/**
 * The model as a variant, from what llama-bench reports: model_type ends with llama.cpp's file-type name
 * ("all F32", "Q4_0", "Q4_K - Medium"); F32/F16/BF16 count as the base model, anything else as quantized.
 * Bits per weight = file bytes · 8 / parameters (includes metadata, so slightly above the nominal).
 */
export function variantOf(r: LlamaBenchRecord, name: string): VariantIdentity | undefined {
  if (!/\.gguf$/i.test(r.model_filename)) return undefined
  const quantLabel = r.model_type ? quantLabelOf(r.model_type) : undefined
  const method = quantLabel === undefined || /^(F32|F16|BF16)$/.test(quantLabel) ? 'base' : 'quantized'
  return {
    name,
    method,
    format: 'gguf',
    ...(quantLabel ? { quantLabel } : {}),
    ...(r.model_size && r.model_n_params ? { bits: (r.model_size * 8) / r.model_n_params } : {}),
    ...(r.model_size ? { sizeBytes: r.model_size } : {}),
  }
}

/** `llama 7B Q4_K - Medium` → Q4_K_M; `llama ?B all F32` → F32; `llama 8B IQ2_XXS - 2.0625 bpw` → IQ2_XXS. */
export function quantLabelOf(modelType: string): string | undefined {
  const ftype = modelType
    .replace(/^\S+\s+\S+\s+/, '')
    .replace(/\s*\(guessed\)$/, '')
    .replace(/^all\s+/, '')
    .trim()
  if (ftype === '') return undefined
  const sized = /^(\S+) - (Small|Medium|Large)$/.exec(ftype)
  if (sized) return `${sized[1]}_${sized[2]?.[0]}`
  return /^(\S+) - [\d.]+ bpw$/.exec(ftype)?.[1] ?? ftype
}
