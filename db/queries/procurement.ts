/**
 * Procurement figures of a scenario's targets: what a target's throughput costs (tokens/s per $·hour of
 * its environment, output tokens per dollar), how much it gets from its memory (tokens/s per GB of peak
 * memory) and its goodput at an SLO the reader chooses, recomputed from the stored per-request rows with
 * the harness's own summarizeRun (METRICS.md goodputRequestsPerS, goodFraction) — then ranked by one of
 * those objectives.
 *
 * Targets are the leaderboard's rows (latest completed run per target and fingerprint). A fingerprint
 * includes the load step, so each target appears once per workload (scenario hash + load spec): figures
 * compare only within one workload, like with like.
 * @module
 */
import { asc, eq, inArray } from 'drizzle-orm'
import { canonicalJson } from '../../harness/canonical-json.ts'
import { meetsSlo, summarizeRun } from '../../harness/metrics/run.ts'
import type { Slo } from '../../harness/metrics/types.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import type { Db } from '../client.ts'
import { sha256Hex } from '../identity.ts'
import { pricesOf } from '../prices.ts'
import { fromRequestRow } from '../request-rows.ts'
import { environments, requests, runs, variants } from '../schema.ts'
import {
  type DimensionSource,
  describeStoredLoad,
  differingDimensions,
  dimensionColumns,
} from './dimensions.ts'
import { type LeaderboardRow, leaderboard } from './leaderboard.ts'
import type { MetricValues } from './metrics-of.ts'

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
const PROCUREMENT_METRICS = ['outputTokensPerS', ...MEMORY_METRICS, 'goodputRequestsPerS'] as const
/** Decimal gigabyte, as memory is priced and sold. */
export const BYTES_PER_GB = 1e9
const SECONDS_PER_HOUR = 3600

export interface ProcurementCandidate {
  runId: number
  targetName: string
  fingerprint: string
  startedAt: Date
  gitCommit: string | null
  gitBranch: string | null
  engineKind: string
  engineModel: string
  runsInSeries: number
  /** The run's environment (what a price is attached to); null for runs recorded without one. */
  environmentId: number | null
  /** 12 hex digits identifying scenario hash + load spec: rows compare only within one workload. */
  workload: string
  /** The load in words (`concurrent 4`), plus the scenario hash when the scenario has had several. */
  workloadLabel: string
  /** 0-based sweep step of the run. */
  loadIndex: number
  /** Dimensions in which this row differs from the target's other rows of the same workload. */
  differsBy: string[]
  /** Stored run figures among outputTokensPerS, peakRssBytes, vramBytes, goodputRequestsPerS. */
  metrics: MetricValues
}

/** Every target × fingerprint of the scenario (latest completed run each), with its workload. */
export async function procurementCandidates(db: Db, scenario: string): Promise<ProcurementCandidate[]> {
  const rows = await leaderboard(db, { scenario, metrics: PROCUREMENT_METRICS })
  if (rows.length === 0) return []
  const details = await db
    .select({
      id: runs.id,
      environmentId: runs.environmentId,
      loadIndex: runs.loadIndex,
      ...dimensionColumns,
    })
    .from(runs)
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .where(
      inArray(
        runs.id,
        rows.map((r) => r.runId),
      ),
    )
  const byId = new Map(details.map((d) => [d.id, d]))
  const scenarioHashes = new Set(details.map((d) => d.scenarioHash))
  const candidates = rows.flatMap((r: LeaderboardRow): ProcurementCandidate[] => {
    const d = byId.get(r.runId)
    if (!d) return []
    const words = describeStoredLoad(d.load)
    return [
      {
        runId: r.runId,
        targetName: r.targetName,
        fingerprint: r.fingerprint,
        startedAt: r.startedAt,
        gitCommit: r.gitCommit,
        gitBranch: r.gitBranch,
        engineKind: r.engineKind,
        engineModel: r.engineModel,
        runsInSeries: r.runsInSeries,
        environmentId: d.environmentId,
        workload: workloadKey(d.scenarioHash, d.load),
        workloadLabel: scenarioHashes.size > 1 ? `${words} · scenario ${d.scenarioHash.slice(0, 8)}` : words,
        loadIndex: d.loadIndex,
        differsBy: [],
        metrics: r.metrics,
      },
    ]
  })
  // A target with several fingerprints in one workload (another engine version, machine …) is told apart
  // by what differs among those rows only; the load, shared by all of them, is never the label.
  const groups = new Map<string, ProcurementCandidate[]>()
  for (const c of candidates) {
    const key = `${c.workload}\u0000${c.targetName}`
    groups.set(key, [...(groups.get(key) ?? []), c])
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue
    const labels = differingDimensions(group.map((c) => byId.get(c.runId) as DimensionSource))
    group.forEach((c, i) => {
      const label = labels[i] ?? []
      c.differsBy = label.length > 0 ? label : [`fingerprint: ${c.fingerprint.slice(0, 12)}`]
    })
  }
  return candidates
}

/** Identity of what a run's requests asked for: the scenario's workload hash and the load step. */
export function workloadKey(scenarioHash: string, load: unknown): string {
  return sha256Hex(canonicalJson({ scenario: scenarioHash, load })).slice(0, 12)
}

/** The SLO bounds (ttftMs, tpotMs) the scenario of this run declared; empty when it declared none. */
export async function scenarioSlo(db: Db, runId: number): Promise<Pick<Slo, 'ttftMs' | 'tpotMs'>> {
  const [row] = await db.select({ scenario: runs.scenario }).from(runs).where(eq(runs.id, runId))
  const slo = (row?.scenario as { slo?: Record<string, unknown> } | null)?.slo
  const bound = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined)
  const ttftMs = bound(slo?.ttftMs)
  const tpotMs = bound(slo?.tpotMs)
  return { ...(ttftMs !== undefined ? { ttftMs } : {}), ...(tpotMs !== undefined ? { tpotMs } : {}) }
}

export type GoodputAtSlo =
  | {
      state: 'computed'
      goodputRequestsPerS: number
      goodFraction: number
      /** Ok requests meeting every bound. */
      good: number
      /** Measured requests (ok + errors). */
      attempted: number
      /** The run's window (first tSend → last tLast), ms. */
      windowMs: number
    }
  | { state: 'unavailable'; reason: string }

/** METRICS.md goodput of stored outcomes at `slo`, through summarizeRun (the same window and rule). */
export function goodputOfOutcomes(outcomes: readonly RequestOutcome[], slo: Slo): GoodputAtSlo {
  if (outcomes.length === 0) return { state: 'unavailable', reason: 'no per-request rows are stored' }
  const summary = summarizeRun(outcomes, { slo })
  let good = 0
  for (const o of outcomes) if (o.state === 'ok' && meetsSlo(o, slo)) good++
  return {
    state: 'computed',
    goodputRequestsPerS: summary.goodputRequestsPerS ?? 0,
    goodFraction: summary.goodFraction ?? 0,
    good,
    attempted: summary.attempted,
    windowMs: summary.windowMs,
  }
}

/** A run's stored request rows as outcomes (seq order), or why they cannot be. */
export type StoredOutcomes = RequestOutcome[] | string

/** Reads a run's stored outcomes; the dashboard passes one that caches them (they never change). */
export type StoredOutcomesLoader = (runId: number) => Promise<StoredOutcomes>

/** Goodput of one run at `slo`, from its stored request rows. */
export async function goodputAtSlo(db: Db, runId: number, slo: Slo): Promise<GoodputAtSlo> {
  return goodputOf(await storedOutcomes(db, runId), slo)
}

function goodputOf(outcomes: StoredOutcomes, slo: Slo): GoodputAtSlo {
  return typeof outcomes === 'string'
    ? { state: 'unavailable', reason: outcomes }
    : goodputOfOutcomes(outcomes, slo)
}

/** Only what goodput needs is read: chunk gaps, messages and the like read as absent (fromRequestRow). */
export async function storedOutcomes(db: Db, runId: number): Promise<StoredOutcomes> {
  const rows = await db
    .select({
      seq: requests.seq,
      state: requests.state,
      promptIndex: requests.promptIndex,
      errorKind: requests.errorKind,
      httpStatus: requests.httpStatus,
      scheduledAtMs: requests.scheduledAtMs,
      startedAtMs: requests.startedAtMs,
      ttftMs: requests.ttftMs,
      e2eMs: requests.e2eMs,
      chunks: requests.chunks,
      promptTokens: requests.promptTokens,
      outputTokens: requests.outputTokens,
      tokensSource: requests.tokensSource,
    })
    .from(requests)
    .where(eq(requests.runId, runId))
    .orderBy(asc(requests.seq))
  const outcomes: RequestOutcome[] = []
  for (const r of rows) {
    const o = fromRequestRow(r)
    if (typeof o === 'string') return o
    outcomes.push(o)
  }
  return outcomes
}

/** A target's procurement figures; null where an input is missing (`why` says which). */
export interface ProcurementFigures {
  outputTokensPerS: number | null
  /** Peak memory, bytes: peakRssBytes, else vramBytes (`memoryMetric`). */
  memoryBytes: number | null
  memoryMetric: (typeof MEMORY_METRICS)[number] | null
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
  outputTokensPerS?: number | undefined
  memory?: { metric: (typeof MEMORY_METRICS)[number]; bytes: number } | undefined
  usdPerHour?: number | undefined
  goodput: GoodputAtSlo
  /** Why there is no price (no environment recorded, or none entered). */
  noPriceReason: string
}

/** Pure: the derived figures and, for each missing one, why. */
export function deriveFigures(input: FigureInputs): {
  figures: ProcurementFigures
  why: Partial<Record<FigureName, string>>
} {
  const tps = input.outputTokensPerS ?? null
  const price = input.usdPerHour ?? null
  const memory = input.memory && input.memory.bytes > 0 ? input.memory : undefined
  const goodput = input.goodput.state === 'computed' ? input.goodput : undefined
  const perHour = (v: number | null) => (v !== null && price !== null ? v / price : null)
  const figures: ProcurementFigures = {
    outputTokensPerS: tps,
    memoryBytes: memory?.bytes ?? null,
    memoryMetric: memory?.metric ?? null,
    usdPerHour: price,
    outputTokensPerSPerUsdHour: perHour(tps),
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
  explain('usdPerHour', [input.noPriceReason])
  explain('outputTokensPerSPerUsdHour', [tps === null && noThroughput, price === null && input.noPriceReason])
  explain('outputTokensPerUsd', [tps === null && noThroughput, price === null && input.noPriceReason])
  explain('outputTokensPerSPerGB', [tps === null && noThroughput, !memory && noMemory])
  explain('goodputRequestsPerS', [noGoodput])
  explain('goodFraction', [noGoodput])
  explain('goodRequestsPerUsd', [!goodput && noGoodput, price === null && input.noPriceReason])
  return { figures, why }
}

export interface ProcurementRow extends ProcurementCandidate {
  figures: ProcurementFigures
  /** For each null figure, why (no price entered, no memory measured …). */
  why: Partial<Record<FigureName, string>>
  goodput: GoodputAtSlo
}

/** Figures of the given candidates at `slo`: prices of their environments, goodput from their requests. */
export async function procurementRows(
  db: Db,
  candidates: readonly ProcurementCandidate[],
  slo: Slo,
  loadOutcomes: StoredOutcomesLoader = (runId) => storedOutcomes(db, runId),
): Promise<ProcurementRow[]> {
  const prices = await pricesOf(
    db,
    candidates.flatMap((c) => (c.environmentId === null ? [] : [c.environmentId])),
  )
  const goodputs = await Promise.all(candidates.map(async (c) => goodputOf(await loadOutcomes(c.runId), slo)))
  return candidates.map((c, i) => {
    const memoryMetric = MEMORY_METRICS.find((m) => c.metrics[m] !== undefined)
    const price = c.environmentId === null ? undefined : prices.get(c.environmentId)
    const goodput = goodputs[i] as GoodputAtSlo
    const { figures, why } = deriveFigures({
      outputTokensPerS: c.metrics.outputTokensPerS?.value,
      memory: memoryMetric && { metric: memoryMetric, bytes: c.metrics[memoryMetric]!.value },
      usdPerHour: price?.usdPerHour,
      goodput,
      noPriceReason:
        c.environmentId === null
          ? 'the run recorded no environment to price'
          : `no hourly price is entered for its environment #${c.environmentId}`,
    })
    return { ...c, figures, why, goodput }
  })
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
 * Pure: rows having the objective's figure first, best (highest) first, ties by label then run id; the
 * rest last in label order, each with the reason it could not be ranked.
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
