/**
 * Procurement figures of one target and the ranking of targets by them, pure: what a target's throughput
 * costs (tokens/s per $·hour of its environment, output tokens per dollar), how much it gets from its
 * memory (tokens/s per GB of peak memory), its goodput at the reader's SLO (./goodput.ts) and requests
 * meeting the SLO per dollar. db/queries/procurement.ts gathers the inputs (stored figures, prices,
 * request rows); the dashboard words and draws the result.
 * @module
 */
import type { GoodputAtSlo } from './goodput.ts'

/** What a ranking optimizes; every one is better higher. */
export const PROCUREMENT_OBJECTIVES = [
  'cost-efficiency',
  'throughput-per-gb',
  'goodput',
  'goodput-per-dollar',
] as const
export type ProcurementObjective = (typeof PROCUREMENT_OBJECTIVES)[number]

/** Peak memory figures in order of preference: RSS of a native engine's process, else device memory. */
export const MEMORY_METRICS = ['peakRssBytes', 'vramBytes'] as const
export type MemoryMetric = (typeof MEMORY_METRICS)[number]
/** Decimal gigabyte, as memory is priced and sold. */
const BYTES_PER_GB = 1e9
const SECONDS_PER_HOUR = 3600

/** A target's procurement figures; null where an input is missing (`why` says which). */
export interface ProcurementFigures {
  outputTokensPerS: number | null
  /** Peak memory, bytes: peakRssBytes, else vramBytes (`memoryMetric`). */
  memoryBytes: number | null
  memoryMetric: MemoryMetric | null
  /** Price of the run's environment, US dollars per hour. */
  usdPerHour: number | null
  /** outputTokensPerS / usdPerHour: tokens/s per $·hour. */
  outputTokensPerSPerUsdHour: number | null
  /** outputTokensPerS × 3600 / usdPerHour: output tokens a dollar buys. */
  outputTokensPerUsd: number | null
  /** outputTokensPerS / (memoryBytes / 10⁹): tokens/s per GB of peak memory. */
  outputTokensPerSPerGB: number | null
  /** At the SLO asked for, from the stored requests. */
  goodputRequestsPerS: number | null
  goodFraction: number | null
  /** goodputRequestsPerS × 3600 / usdPerHour: requests meeting the SLO a dollar buys. */
  goodRequestsPerUsd: number | null
}
export type FigureName = keyof ProcurementFigures
/** The figures that are numbers (all but memoryMetric). */
export type NumericFigure = Exclude<FigureName, 'memoryMetric'>

export interface FigureInputs {
  /** The run's stored outputTokensPerS, tokens/s; absent when it has none. */
  outputTokensPerS?: number | undefined
  /** Peak memory (peakMemoryOf); zero bytes counts as not measured. */
  memory?: { metric: MemoryMetric; bytes: number } | undefined
  /** Hourly price of the run's environment, $/h; absent when none is entered. */
  usdPerHour?: number | undefined
  goodput: GoodputAtSlo
  /** Why there is no price (no environment recorded, or none entered). */
  noPriceReason: string
}

/**
 * The peak memory figure of a run's stored metrics: peakRssBytes when stored, else vramBytes; undefined
 * when neither is. (A stored peakRssBytes of 0 is still the one chosen; deriveFigures then reads it as
 * not measured.)
 */
export function peakMemoryOf(
  metrics: Readonly<Record<string, { value: number } | undefined>>,
): FigureInputs['memory'] {
  const metric = MEMORY_METRICS.find((m) => metrics[m] !== undefined)
  return metric && { metric, bytes: metrics[metric]!.value }
}

/**
 * The derived figures and, for each missing one, why. A price that is not a finite number > 0 is no
 * price (the database refuses one: environment_prices_usd_per_hour_check), so no figure divides by zero.
 */
export function deriveFigures(input: FigureInputs): {
  figures: ProcurementFigures
  why: Partial<Record<FigureName, string>>
} {
  const tps = input.outputTokensPerS ?? null
  const priced = input.usdPerHour !== undefined && Number.isFinite(input.usdPerHour) && input.usdPerHour > 0
  const price = priced ? (input.usdPerHour as number) : null
  const noPrice =
    input.usdPerHour === undefined
      ? input.noPriceReason
      : `the hourly price must be a number > 0 $/h, got ${input.usdPerHour}`
  const memory = input.memory && input.memory.bytes > 0 ? input.memory : undefined
  const goodput = input.goodput.state === 'computed' ? input.goodput : undefined
  const figures: ProcurementFigures = {
    outputTokensPerS: tps,
    memoryBytes: memory?.bytes ?? null,
    memoryMetric: memory?.metric ?? null,
    usdPerHour: price,
    outputTokensPerSPerUsdHour: tps !== null && price !== null ? tps / price : null,
    outputTokensPerUsd: tps !== null && price !== null ? (tps * SECONDS_PER_HOUR) / price : null,
    outputTokensPerSPerGB: tps !== null && memory ? tps / (memory.bytes / BYTES_PER_GB) : null,
    goodputRequestsPerS: goodput?.goodputRequestsPerS ?? null,
    goodFraction: goodput?.goodFraction ?? null,
    goodRequestsPerUsd:
      goodput && price !== null ? (goodput.goodputRequestsPerS * SECONDS_PER_HOUR) / price : null,
  }
  const noThroughput = 'the run has no outputTokensPerS'
  const noMemory = 'no peak memory was measured (peakRssBytes or vramBytes)'
  const noGoodput = input.goodput.state === 'unavailable' ? input.goodput.reason : ''
  const why: Partial<Record<FigureName, string>> = {}
  const explain = (name: FigureName, reasons: (string | false)[]) => {
    if (figures[name] === null) why[name] = reasons.filter((r): r is string => r !== false).join('; ')
  }
  explain('outputTokensPerS', [noThroughput])
  explain('memoryBytes', [noMemory])
  explain('memoryMetric', [noMemory])
  explain('usdPerHour', [noPrice])
  explain('outputTokensPerSPerUsdHour', [tps === null && noThroughput, price === null && noPrice])
  explain('outputTokensPerUsd', [tps === null && noThroughput, price === null && noPrice])
  explain('outputTokensPerSPerGB', [tps === null && noThroughput, !memory && noMemory])
  explain('goodputRequestsPerS', [noGoodput])
  explain('goodFraction', [noGoodput])
  explain('goodRequestsPerUsd', [!goodput && noGoodput, price === null && noPrice])
  return { figures, why }
}

/** The figure each objective ranks by (higher is better for all). */
export const OBJECTIVE_FIGURE: Readonly<Record<ProcurementObjective, NumericFigure>> = {
  'cost-efficiency': 'outputTokensPerSPerUsdHour',
  'throughput-per-gb': 'outputTokensPerSPerGB',
  goodput: 'goodputRequestsPerS',
  'goodput-per-dollar': 'goodRequestsPerUsd',
}

export interface Rankable {
  runId: number
  /** Tie-breaker and what the recommendation names. */
  label: string
  figures: ProcurementFigures
  why: Partial<Record<FigureName, string>>
}

export type Ranked<T extends Rankable> = T & {
  /** 1-based among rows having the figure; null for the rest, which come last. */
  rank: number | null
  /** The objective's figure, null when missing. */
  value: number | null
  /** Why a row is not ranked (no price entered, no memory measured …). */
  unrankedReason: string | null
}

/**
 * Rows having the objective's figure first, best (highest) first, ties by label (UTF-16 order) then run
 * id; the rest last in the same order, each with the reason it could not be ranked. The input is not
 * reordered.
 */
export function rankProcurement<T extends Rankable>(
  rows: readonly T[],
  objective: ProcurementObjective,
): Ranked<T>[] {
  const figure = OBJECTIVE_FIGURE[objective]
  const byLabel = (a: T, b: T) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.runId - b.runId)
  const having = rows.filter((r) => r.figures[figure] !== null)
  const missing = rows.filter((r) => r.figures[figure] === null)
  having.sort((a, b) => b.figures[figure]! - a.figures[figure]! || byLabel(a, b))
  missing.sort(byLabel)
  return [
    ...having.map((r, i) => ({
      ...r,
      rank: i + 1,
      value: r.figures[figure]!,
      unrankedReason: null,
    })),
    ...missing.map((r) => ({
      ...r,
      rank: null,
      value: null,
      unrankedReason: r.why[figure] ?? `no ${figure}`,
    })),
  ]
}
