/**
 * Procurement figures of a scenario's targets, gathered from the database: the leaderboard's rows (latest
 * completed run per target and fingerprint) with their workload, the hourly prices of their environments
 * and their stored request rows, handed to the pure figures in db/figures (procurement.ts: cost, memory,
 * ranking; goodput.ts: goodput at an SLO the reader chooses, through the harness's own summarizeRun).
 *
 * A fingerprint includes the load step, so each target appears once per workload (scenario hash + load
 * spec): figures compare only within one workload, like with like.
 *
 * What is priced is the machine that serves a target: for a native engine (llama-cpp, onnx) the run's
 * environment, which ran it; for an endpoint (an engine whose variant format is 'remote': openai) its
 * serving identity — set on the dashboard (serving_identities), else declared in the scenario
 * (`targets[].serving`, stored with the run) — never the run's environment, which is only the client.
 * @module
 */
import { asc, eq, inArray, sql } from 'drizzle-orm'
import { canonicalJson } from '../../harness/canonical-json.ts'
import { servingSchema } from '../../harness/config/schema.ts'
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
import {
  type EnvironmentPrice,
  isEndpoint,
  pricesOf,
  type ServingIdentityRow,
  servingIdentitiesOf,
} from '../prices.ts'
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
import type { BranchScope, RunRole } from './scope.ts'

// The dashboard's parameters and OpenAPI document take the objectives from here.
export { PROCUREMENT_OBJECTIVES, type ProcurementObjective } from '../figures/procurement.ts'

const PROCUREMENT_METRICS = ['outputTokensPerS', ...MEMORY_METRICS, 'goodputRequestsPerS'] as const

/** The serving identity of an endpoint target, from the dashboard or the scenario. */
export interface EndpointServing {
  source: 'dashboard' | 'scenario'
  hardware: string
  gpu: string | null
  gpuCount: number | null
  /** US dollars per hour; null when the scenario's identity gives none. */
  usdPerHour: number | null
  /** The dashboard entry's note, author and time (null for the scenario's). */
  note: string | null
  updatedBy: string | null
  updatedAt: Date | null
  /** The scenario's own identity when a dashboard entry overrides it. */
  overrides: ServingIdentityFromScenario | null
}

/** `targets[].serving` as stored with the run's scenario. */
export interface ServingIdentityFromScenario {
  hardware: string
  gpu: string | null
  gpuCount: number | null
  usdPerHour: number | null
}

/**
 * The machine whose hour a target's figures are priced by: a native engine's run environment, or an
 * endpoint's serving identity (null: unpriced, the client that ran bench is never priced for it).
 */
export type ServingMachine =
  | { kind: 'environment'; environmentId: number | null }
  | { kind: 'endpoint'; identity: EndpointServing | null }

/** What model a target serves, for ranking like with like: targets compare within one model. */
export interface ModelIdentity {
  /** `family:fixture-tiny`, `variant:…`, `model:qwen2.5-7b`. */
  key: string
  /** The family, root variant or served model id. */
  name: string
  /** Where the name comes from: the variant's family, its root variant (parent chain), the engine's model id. */
  source: 'family' | 'variant' | 'served model'
}

/** A leaderboard row of the scenario with its workload; differsBy and metrics are as said below. */
export interface ProcurementCandidate extends LeaderboardRow {
  /** The run's environment: the machine that ran bench (for an endpoint, only the client). */
  environmentId: number | null
  /** What is priced: the environment (native engines) or the endpoint's serving identity. */
  serving: ServingMachine
  model: ModelIdentity
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

/** Which runs count, as the leaderboard reads them (dashboard/data/scope.ts scopeOptions). */
export interface ProcurementScope {
  branches?: BranchScope
  roles?: readonly RunRole[]
}

/**
 * Every target × fingerprint of the scenario (latest completed run each, of the branches and roles in
 * `scope`), with its workload, serving machine and model.
 */
export async function procurementCandidates(
  db: Db,
  scenario: string,
  scope: ProcurementScope = {},
): Promise<ProcurementCandidate[]> {
  const rows = await leaderboard(db, { scenario, metrics: PROCUREMENT_METRICS, ...scope })
  if (rows.length === 0) return []
  const [details, dashboardServing, lineage] = await Promise.all([
    db
      .select({
        id: runs.id,
        environmentId: runs.environmentId,
        loadIndex: runs.loadIndex,
        // Only the targets' part of the stored scenario: where a target's `serving` is.
        scenarioTargets: sql<unknown>`${runs.scenario} -> 'targets'`,
        variantId: runs.variantId,
        variantFormat: variants.format,
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
      ),
    servingIdentitiesOf(db, scenario),
    // Every variant's name, family and parent (one row per distinct variant: a small table).
    db
      .select({ id: variants.id, name: variants.name, family: variants.family, parentId: variants.parentId })
      .from(variants),
  ])
  const variantsById = new Map(lineage.map((v) => [v.id, v]))
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
        serving: isEndpoint(d.engineKind, d.variantFormat)
          ? {
              kind: 'endpoint',
              identity: endpointServing(
                dashboardServing.get(r.targetName),
                servingFromScenario(d.scenarioTargets, r.targetName),
              ),
            }
          : { kind: 'environment', environmentId: d.environmentId },
        model: modelIdentity(d.variantId, variantsById, d.engineModel),
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

/** The target's `serving` in the scenario stored with its run; null when absent or not valid. */
export function servingFromScenario(
  scenarioTargets: unknown,
  targetName: string,
): ServingIdentityFromScenario | null {
  if (!Array.isArray(scenarioTargets)) return null
  const target = scenarioTargets.find(
    (t): t is { serving?: unknown } =>
      t !== null && typeof t === 'object' && (t as { name?: unknown }).name === targetName,
  )
  // Validated by the harness's own schema: a stored scenario (an import, an older run) may hold anything.
  const parsed = servingSchema.safeParse(target?.serving)
  if (!parsed.success) return null
  return {
    hardware: parsed.data.hardware,
    gpu: parsed.data.gpu ?? null,
    gpuCount: parsed.data.gpuCount ?? null,
    usdPerHour: parsed.data.pricePerHour ?? null,
  }
}

/** The dashboard's entry when there is one (it overrides the scenario's), else the scenario's, else null. */
function endpointServing(
  entered: ServingIdentityRow | undefined,
  declared: ServingIdentityFromScenario | null,
): EndpointServing | null {
  if (entered)
    return {
      source: 'dashboard',
      hardware: entered.hardware,
      gpu: entered.gpu,
      gpuCount: entered.gpuCount,
      usdPerHour: entered.usdPerHour,
      note: entered.note,
      updatedBy: entered.updatedBy,
      updatedAt: entered.updatedAt,
      overrides: declared,
    }
  if (declared)
    return { source: 'scenario', ...declared, note: null, updatedBy: null, updatedAt: null, overrides: null }
  return null
}

/**
 * The model a run served: its variant's family (fixture manifests and scenarios set one: a random-weights
 * fixture's family differs from a trained one's), else the root of its parent chain, else the engine's
 * model id (an endpoint's served model name).
 */
export function modelIdentity(
  variantId: number | null,
  variantsById: ReadonlyMap<number, { name: string; family: string | null; parentId: number | null }>,
  engineModel: string,
): ModelIdentity {
  let v = variantId === null ? undefined : variantsById.get(variantId)
  if (v?.family) return { key: `family:${v.family}`, name: v.family, source: 'family' }
  if (v) {
    const seen = new Set<number>()
    while (v.parentId !== null && !seen.has(v.parentId)) {
      seen.add(v.parentId)
      const parent = variantsById.get(v.parentId)
      if (!parent) break
      if (parent.family) return { key: `family:${parent.family}`, name: parent.family, source: 'family' }
      v = parent
    }
    return { key: `variant:${v.name}`, name: v.name, source: 'variant' }
  }
  return { key: `model:${engineModel}`, name: engineModel, source: 'served model' }
}

/** Identity of what a run's requests asked for: the scenario's workload hash and the load step. */
export function workloadKey(scenarioHash: string, load: unknown): string {
  return sha256Hex(canonicalJson({ scenario: scenarioHash, load })).slice(0, 12)
}

/** Every SLO bound (ttftMs, tpotMs, e2eMs) the scenario of this run declared; empty when it declared none. */
export async function scenarioSlo(db: Db, runId: number): Promise<Slo> {
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
  // Only native targets' environments are priced: an endpoint's environment is the client machine.
  const prices = await pricesOf(
    db,
    candidates.flatMap((c) =>
      c.serving.kind === 'environment' && c.serving.environmentId !== null ? [c.serving.environmentId] : [],
    ),
  )
  const goodputs = await Promise.all(candidates.map(async (c) => goodputOf(await loadOutcomes(c.runId), slo)))
  return candidates.map((c, i) => {
    const { usdPerHour, noPriceReason } = priceOf(c.serving, prices)
    const goodput = goodputs[i] as GoodputAtSlo
    const { figures, why } = deriveFigures({
      outputTokensPerS: c.metrics.outputTokensPerS?.value,
      memory: peakMemoryOf(c.metrics),
      usdPerHour,
      goodput,
      noPriceReason,
    })
    return { ...c, figures, why, goodput }
  })
}

/** How to give an unpriced endpoint a serving identity (said wherever one is listed unpriced). */
export const SET_SERVING_HINT =
  "add serving: { hardware, gpu, gpuCount, pricePerHour } to the target in the scenario, or set it under 'Endpoint serving machines' on this page"

/** The hourly price of a serving machine, or why there is none. */
export function priceOf(
  serving: ServingMachine,
  prices: ReadonlyMap<number, EnvironmentPrice>,
): { usdPerHour: number | undefined; noPriceReason: string } {
  if (serving.kind === 'environment') {
    const price = serving.environmentId === null ? undefined : prices.get(serving.environmentId)
    return {
      usdPerHour: price?.usdPerHour,
      noPriceReason:
        serving.environmentId === null
          ? 'the run recorded no environment to price'
          : `no hourly price is entered for its environment #${serving.environmentId}`,
    }
  }
  if (serving.identity === null)
    return {
      usdPerHour: undefined,
      noPriceReason: `unpriced endpoint: the run's environment is the client that ran bench, never priced for a remote endpoint; ${SET_SERVING_HINT}`,
    }
  return {
    usdPerHour: serving.identity.usdPerHour ?? undefined,
    noPriceReason: `the endpoint's serving identity (${serving.identity.hardware}, from the scenario) gives no pricePerHour; add it there, or set a price under 'Endpoint serving machines' on this page`,
  }
}
