/**
 * Query and path parameters of every page and API route, validated with zod. Empty strings (an unset
 * form field) count as absent; numbers must be plain decimal integers in range, so `1e309`, `0x10` or
 * `-0` are refused with a message rather than coerced.
 *
 * These schemas are also the API's documentation: dashboard/routes/openapi.ts derives every parameter's
 * name, type, bounds, enum, default and required-ness from them (z.toJSONSchema). `.meta()` here adds
 * what JSON Schema cannot read off a check (a refinement's rule, a time's range) and examples; it never
 * changes what a schema accepts.
 * @module
 */
import { z } from 'zod'
import { PROCUREMENT_OBJECTIVES } from '../db/queries/procurement.ts'
import { alertStates, runStates } from '../db/schema.ts'
import { BadRequestError } from './errors.ts'

const MAX_TEXT = 200

/** A free-text filter (scenario, target, branch …): any printable text up to 200 characters. */
export const textParam = z
  .string()
  .max(MAX_TEXT, `at most ${MAX_TEXT} characters`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters')
  .meta({ description: 'Printable text: no control characters.' })

export function intParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
}

/** Times a filter takes: PostgreSQL has no year 0 and JavaScript none past 275760; both sides agree here. */
const MIN_TIME = Date.UTC(1900, 0, 1)
const MAX_TIME = Date.UTC(10_000, 0, 1)

const isoTime = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'expected an ISO 8601 time')
  // On the string, not the transform: zod documents a transform's input without its metadata.
  .meta({
    description: `ISO 8601 time or date, from ${new Date(MIN_TIME).toISOString().slice(0, 10)} to ${new Date(MAX_TIME - 1).toISOString().slice(0, 10)}; anything else is a 400.`,
    examples: ['2026-11-25T10:00:00Z'],
  })
  .transform((s, ctx) => {
    const d = new Date(s)
    // V8 rolls impossible days over (2021-02-31 → 2021-03-03): the calendar date must read back the same.
    const [, year, month, day] = /^(\d{4})-(\d{2})-(\d{2})/.exec(s) ?? []
    const local = new Date(Number(year), Number(month) - 1, Number(day))
    if (
      Number.isNaN(d.getTime()) ||
      local.getFullYear() !== Number(year) ||
      local.getMonth() !== Number(month) - 1 ||
      local.getDate() !== Number(day)
    ) {
      ctx.addIssue({ code: 'custom', message: `not a valid time (${s}): expected e.g. 2026-11-25T10:00:00Z` })
      return z.NEVER
    }
    if (d.getTime() < MIN_TIME || d.getTime() >= MAX_TIME) {
      ctx.addIssue({
        code: 'custom',
        message: `out of range (${s}): expected a time from 1900-01-01 to 9999-12-31`,
      })
      return z.NEVER
    }
    return d
  })

/** Run ids are PostgreSQL integers. */
export const runId = intParam(1, 2 ** 31 - 1)

/**
 * `branch=*` on the leaderboard and history: every branch. `*` cannot appear in a git branch name
 * (git check-ref-format), so it never shadows a real branch.
 */
export const ANY_BRANCH = '*'

/** The branch the leaderboard and history show when none is asked for, without BENCH_DEFAULT_BRANCH. */
export const FALLBACK_DEFAULT_BRANCH = 'main'

/**
 * The default branch: BENCH_DEFAULT_BRANCH when set (e.g. `master`, `trunk`), else `main`. A value that
 * cannot be a branch name is an error naming the variable and the fix, not a silently empty page.
 */
export function defaultBranch(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.BENCH_DEFAULT_BRANCH
  if (raw === undefined || raw.trim() === '') return FALLBACK_DEFAULT_BRANCH
  const value = raw.trim()
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (value.length > MAX_TEXT || /[\u0000-\u001f\u007f*]/.test(value))
    throw new Error(
      `BENCH_DEFAULT_BRANCH: "${value.slice(0, 40)}" is not a git branch name (at most ${MAX_TEXT} characters, no '*' or control characters); set it to your default branch, e.g. BENCH_DEFAULT_BRANCH=master, or unset it for main`,
    )
  return value
}

/**
 * Which runs of a series count: `run` (default) leaves out confirmation re-runs of `bench gate --confirm`
 * (runs.role = 'confirm'), which are extra samples of a gated commit, not its own measurement; `confirm`
 * shows only them; `any` both.
 */
export const ROLE_FILTERS = ['run', 'confirm', 'any'] as const
export type RoleFilter = (typeof ROLE_FILTERS)[number]
const roleFilter = z.enum(ROLE_FILTERS).default('run')

/** A branch filter: a branch name, or `*` for every branch; absent = the default branch. */
const branchParam = textParam.meta({
  description: `A git branch name, or \`${ANY_BRANCH}\` for every branch; absent: the default branch (BENCH_DEFAULT_BRANCH, else ${FALLBACK_DEFAULT_BRANCH}) and runs that recorded no branch.`,
})

export const LEADERBOARD_SORTS = [
  'target',
  'outputTokensPerS',
  'requestsPerS',
  'ttftMsP50',
  'ttftMsP95',
  'tpotMsP50',
  'tpotMsP95',
  'errorRate',
  'goodputRequestsPerS',
  'peakRssBytes',
  'vramBytes',
  'acc',
] as const
export type LeaderboardSort = (typeof LEADERBOARD_SORTS)[number]

/** `load=*` on the leaderboard: every load step, ranked together (asked for, never the default). */
export const EVERY_LOAD = '*'

export const leaderboardQuery = z.object({
  scenario: textParam.optional(),
  /** A load step's key as `loads[].key` lists it, or `*` every step; absent: the scenario's first step. */
  load: z
    .string()
    .regex(
      /^(\*|[0-9a-f]{12})$/,
      'expected a load key (12 hex digits, as loads[].key lists them) or * for every step',
    )
    .optional(),
  branch: branchParam.optional(),
  role: roleFilter,
  engine: textParam.optional(),
  hardware: textParam.optional(),
  method: textParam.optional(),
  quant: textParam.optional(),
  sort: z.enum(LEADERBOARD_SORTS).optional(),
  dir: z.enum(['asc', 'desc']).optional(),
})
export type LeaderboardQuery = z.infer<typeof leaderboardQuery>

/**
 * Figures of the variant × engine table's cells (METRICS.md names), each sortable: per engine column with
 * `sortEngine`, else by the row's best over its engines.
 */
export const VARIANT_FIGURES = [
  'outputTokensPerS',
  'ttftMsP50',
  'peakRssBytes',
  'vramBytes',
  'acc',
  'klDivergence',
  'top1Agreement',
] as const
export type VariantFigure = (typeof VARIANT_FIGURES)[number]
/** Row sorts: a figure, or the variant's name, bits per weight or file size. */
export const VARIANT_SORTS = ['variant', 'bits', 'sizeBytes', ...VARIANT_FIGURES] as const
export type VariantSort = (typeof VARIANT_SORTS)[number]

export const variantsQuery = z.object({
  scenario: textParam.optional(),
  /** A load step's key (12 hex digits, as `loads[].key` lists them); absent: the scenario's first step. */
  load: z
    .string()
    .regex(/^[0-9a-f]{12}$/, 'expected a load key (12 hex digits) as the page lists them in loads[].key')
    .optional(),
  branch: branchParam.optional(),
  role: roleFilter,
  sort: z.enum(VARIANT_SORTS).optional(),
  /** The engine column a figure sort reads (an engine kind); absent: each row's best over its engines. */
  sortEngine: textParam.optional(),
  dir: z.enum(['asc', 'desc']).optional(),
})
export type VariantsQuery = z.infer<typeof variantsQuery>

const fingerprint = z
  .string()
  .regex(/^[0-9a-f]{8,128}$/, 'expected a fingerprint (hex)')
  .meta({ examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'] })
const metricName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, 'expected a metric name like ttftMsP95')
  .meta({ examples: ['ttftMsP95'] })

/** Most points a history chart draws before downsampling (LTTB). */
export const DEFAULT_POINT_BUDGET = 500

export const historyQuery = z.object({
  fingerprint,
  metric: metricName.default('outputTokensPerS'),
  branch: branchParam.optional(),
  role: roleFilter,
  since: isoTime.optional(),
  until: isoTime.optional(),
  points: intParam(10, 5000).default(DEFAULT_POINT_BUDGET),
  x: z.enum(['time', 'commit']).default('time'),
})
export type HistoryQuery = z.infer<typeof historyQuery>

/** The series list (/history without a fingerprint, /api/series). */
export const seriesQuery = z.object({
  scenario: textParam.optional(),
  target: textParam.optional(),
})

export const runsQuery = z.object({
  scenario: textParam.optional(),
  target: textParam.optional(),
  branch: textParam.optional(),
  state: z.enum(runStates).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: intParam(1, 500).default(50),
  offset: intParam(0, 10_000_000).default(0),
})
export type RunsQuery = z.infer<typeof runsQuery>

export const requestsQuery = z.object({
  limit: intParam(1, 10_000).default(100),
  offset: intParam(0, 100_000_000).default(0),
  state: z.enum(['ok', 'error']).optional(),
  chunkGaps: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
})

export const compareQuery = z.object({ a: runId, b: runId })

/** The compare page without both runs shows a picker instead of an error. */
export const comparePickerQuery = z.object({ a: runId.optional(), b: runId.optional() })

/** A run's new label; null or an empty string clears it. */
export const labelBody = z.object({
  label: z
    .union([textParam, z.null()])
    .meta({ description: 'The label; null or an empty string clears it.' })
    .transform((v) => (v === '' ? null : v)),
})

/** Most alerts one page of /alerts lists. */
export const MAX_ALERTS_LIMIT = 500

export const alertsQuery = z.object({
  state: z.enum([...alertStates, 'all']).default('active'),
  metric: metricName.optional(),
  limit: intParam(1, MAX_ALERTS_LIMIT).default(100),
})
export type AlertsQuery = z.infer<typeof alertsQuery>

/** Alert ids are PostgreSQL integers. */
export const alertId = intParam(1, 2 ** 31 - 1)

/** Who acknowledged or dismissed an alert, and why; both optional, no unknown keys. */
export const alertActionBody = z.strictObject({
  by: z
    .string()
    .min(1, 'must not be empty (leave it out instead)')
    .max(100, 'at most 100 characters')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters')
    .meta({ description: 'Who acted; no control characters.' })
    .optional(),
  note: z
    .string()
    .max(2000, 'at most 2000 characters')
    .refine(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters (but tab and newlines) are refused
      (s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s),
      'must not contain control characters',
    )
    .meta({ description: 'Why; no control characters but tab and newlines.' })
    .optional(),
})
export type AlertActionBody = z.infer<typeof alertActionBody>

/** An SLO bound, ms: a plain positive decimal up to one hour. */
const sloMs = z
  .string()
  .regex(/^\d{1,7}(\.\d{1,3})?$/, 'expected milliseconds, e.g. 500 or 12.5')
  .meta({ description: 'Milliseconds, a plain decimal with at most 3 decimals (500, 12.5).' })
  .transform(Number)
  .pipe(z.number().positive('must be > 0 ms').max(3_600_000, 'at most 3600000 ms (one hour)'))

/** Most targets one procurement comparison takes. */
export const MAX_PROCUREMENT_TARGETS = 50

/**
 * /procurement: `targets` repeats (one fingerprint each; none = every target of the workload); an SLO
 * bound left out is no bound, both left out = the scenario's SLO (else METRICS.md's example).
 */
export const procurementQuery = z.object({
  scenario: textParam.optional(),
  load: z
    .string()
    .regex(/^[0-9a-f]{12}$/, 'expected a workload key (12 hex digits, as listed in `loads`)')
    .meta({ examples: ['0123456789ab'] })
    .optional(),
  targets: z
    .array(fingerprint)
    .max(MAX_PROCUREMENT_TARGETS, `at most ${MAX_PROCUREMENT_TARGETS} targets`)
    .default([])
    .transform((list) => [...new Set(list)]),
  sloTtftMs: sloMs.optional(),
  sloTpotMs: sloMs.optional(),
  sloE2eMs: sloMs.optional(),
  rank: z.enum(PROCUREMENT_OBJECTIVES).default('cost-efficiency'),
  branch: branchParam.optional(),
  role: roleFilter,
  /** One model's targets (its family, else variant, else served model id); `*`: every model ranked together. */
  model: textParam.optional(),
})
export type ProcurementQuery = z.infer<typeof procurementQuery>

/** procurementQuery from a request's single-valued parameters and its repeated `targets`. */
export function parseProcurementQuery(
  query: Record<string, string>,
  targets: readonly string[] | undefined,
): ProcurementQuery {
  const { targets: _single, ...rest } = query
  const present = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== ''))
  const result = procurementQuery.safeParse({ ...present, targets: (targets ?? []).filter((t) => t !== '') })
  if (!result.success) throw BadRequestError.fromZod(result.error)
  return result.data
}

/** Environment ids are PostgreSQL integers. */
export const environmentId = intParam(1, 2 ** 31 - 1)

/** Highest hourly price a write accepts, US dollars (far above any machine; catches unit slips). */
export const MAX_USD_PER_HOUR = 100_000

/** An environment's hourly price; `note` and `by` are optional free text (null clears). */
export const priceBody = z.object({
  usdPerHour: z
    .number({ error: 'expected a number of US dollars per hour, e.g. 2.5' })
    .positive('must be > 0 (US dollars per hour)')
    .max(MAX_USD_PER_HOUR, `at most ${MAX_USD_PER_HOUR} (US dollars per hour)`)
    .meta({ description: 'US dollars per hour.' }),
  note: z.union([textParam, z.null()]).meta({ description: 'Free text; null clears it.' }).optional(),
  by: z.union([textParam, z.null()]).meta({ description: 'Who set it; null clears it.' }).optional(),
})
export type PriceBody = z.infer<typeof priceBody>

/** An endpoint target's serving machine and hourly price, set on the procurement page. */
export const servingBody = z
  .object({
    scenario: textParam.meta({ description: 'Scenario name.' }),
    target: textParam.meta({ description: 'Target name within the scenario.' }),
    hardware: textParam
      .refine((s) => s.trim() !== '', 'describe the serving machine, e.g. "AWS g6.xlarge"')
      .meta({ description: 'The serving machine in words.' }),
    gpu: z.union([textParam, z.null()]).meta({ description: 'GPU model; null: none.' }).optional(),
    gpuCount: z
      .union([z.number().int('a whole number of GPUs').positive('must be > 0').max(1024), z.null()])
      .meta({ description: 'GPUs serving the endpoint.' })
      .optional(),
    usdPerHour: priceBody.shape.usdPerHour,
    note: priceBody.shape.note,
    by: priceBody.shape.by,
  })
  .strict()
export type ServingBody = z.infer<typeof servingBody>

export function parseEnvironmentId(raw: string | undefined): number {
  const result = environmentId.safeParse(raw ?? '')
  if (!result.success)
    throw new BadRequestError([`environment id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}

/** Parses query parameters (empty values dropped) or throws a BadRequestError listing every problem. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  const present = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''))
  const result = schema.safeParse(present)
  if (!result.success) throw BadRequestError.fromZod(result.error)
  return result.data
}

export function parseAlertId(raw: string | undefined): number {
  const result = alertId.safeParse(raw ?? '')
  if (!result.success)
    throw new BadRequestError([`alert id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}

export function parseRunId(raw: string | undefined): number {
  const result = runId.safeParse(raw ?? '')
  if (!result.success) throw new BadRequestError([`run id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}
