/**
 * Procurement figures of a scenario's targets, gathered from the database: the leaderboard's rows (latest
 * completed run per target and fingerprint) with their workload, the hourly prices of their environments
 * and their stored request rows, handed to the pure figures in db/figures (procurement.ts: cost, memory,
 * ranking; goodput.ts: goodput at an SLO the reader chooses, through the harness's own summarizeRun).
 *
 * A fingerprint includes the load step, so each target appears once per workload (scenario hash + load
 * spec): figures compare only within one workload, like with like.
 * @module
 */
import { asc, eq, inArray } from 'drizzle-orm'
import { canonicalJson } from '../../harness/canonical-json.ts'
import type { Slo } from '../../harness/metrics/types.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import type { Db } from '../client.ts'
import { declaredSlo, type GoodputAtSlo, goodputOf, type StoredOutcomes } from '../figures/goodput.ts'
import {
  deriveFigures,
  type FigureName,
  MEMORY_METRICS,
  type ProcurementFigures,
  peakMemoryOf,
} from '../figures/procurement.ts'
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

// The dashboard's parameters and OpenAPI document take the objectives from here.
export { PROCUREMENT_OBJECTIVES, type ProcurementObjective } from '../figures/procurement.ts'

const PROCUREMENT_METRICS = ['outputTokensPerS', ...MEMORY_METRICS, 'goodputRequestsPerS'] as const

/** A leaderboard row of the scenario with its workload; differsBy and metrics are as said below. */
export interface ProcurementCandidate extends LeaderboardRow {
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
        ...r,
        environmentId: d.environmentId,
        workload: workloadKey(d.scenarioHash, d.load),
        workloadLabel: scenarioHashes.size > 1 ? `${words} · scenario ${d.scenarioHash.slice(0, 8)}` : words,
        loadIndex: d.loadIndex,
        // Told apart within the workload below; the leaderboard's labels compare across workloads.
        differsBy: [],
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
  return declaredSlo(row?.scenario)
}

/** Reads a run's stored outcomes; the dashboard passes one that caches them (they never change). */
export type StoredOutcomesLoader = (runId: number) => Promise<StoredOutcomes>

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
    const price = c.environmentId === null ? undefined : prices.get(c.environmentId)
    const goodput = goodputs[i] as GoodputAtSlo
    const { figures, why } = deriveFigures({
      outputTokensPerS: c.metrics.outputTokensPerS?.value,
      memory: peakMemoryOf(c.metrics),
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
