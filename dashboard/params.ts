/**
 * Query and path parameters of every page and API route, validated with zod. Empty strings (an unset
 * form field) count as absent; numbers must be plain decimal integers in range, so `1e309`, `0x10` or
 * `-0` are refused with a message rather than coerced.
 * @module
 */
import { z } from 'zod'
import { runStates } from '../db/schema.ts'
import { BadRequestError } from './errors.ts'

const MAX_TEXT = 200

/** A free-text filter (scenario, target, branch …): any printable text up to 200 characters. */
export const textParam = z
  .string()
  .max(MAX_TEXT, `at most ${MAX_TEXT} characters`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters')

export function intParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
}

const isoTime = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'expected an ISO 8601 time')
  .transform((s, ctx) => {
    const d = new Date(s)
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not a valid time' })
      return z.NEVER
    }
    return d
  })

/** Run ids are PostgreSQL integers. */
export const runId = intParam(1, 2 ** 31 - 1)

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

export const leaderboardQuery = z.object({
  scenario: textParam.optional(),
  branch: textParam.optional(),
  engine: textParam.optional(),
  hardware: textParam.optional(),
  method: textParam.optional(),
  quant: textParam.optional(),
  sort: z.enum(LEADERBOARD_SORTS).optional(),
  dir: z.enum(['asc', 'desc']).optional(),
})
export type LeaderboardQuery = z.infer<typeof leaderboardQuery>

const fingerprint = z.string().regex(/^[0-9a-f]{8,128}$/, 'expected a fingerprint (hex)')
const metricName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, 'expected a metric name like ttftMsP95')

/** Most points a history chart draws before downsampling (LTTB). */
export const DEFAULT_POINT_BUDGET = 500

export const historyQuery = z.object({
  fingerprint,
  metric: metricName.default('outputTokensPerS'),
  branch: textParam.optional(),
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
  label: z.union([textParam, z.null()]).transform((v) => (v === '' ? null : v)),
})

/** Parses query parameters (empty values dropped) or throws a BadRequestError listing every problem. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  const present = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''))
  const result = schema.safeParse(present)
  if (!result.success) throw BadRequestError.fromZod(result.error)
  return result.data
}

export function parseRunId(raw: string | undefined): number {
  const result = runId.safeParse(raw ?? '')
  if (!result.success) throw new BadRequestError([`run id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}
