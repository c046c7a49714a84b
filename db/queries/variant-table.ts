/**
 * What the variant × engine table (dashboard/data/variants.ts) is built from: the leaderboard's rows of a
 * scenario (latest completed run per target and fingerprint, in the branch and role scope asked for), each
 * with what kind of run it is (a load step, or the accuracy or quality run of its target), its workload
 * and its variant's identity (family, method, quant, bits, size, parent). Accuracy and quality runs are
 * runs of their own (their scenario hash is that of their spec), so they come back as rows of their own and
 * are joined to the load runs by target and variant in dashboard/data/variants.ts.
 * @module
 */
import { eq, inArray } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Db } from '../client.ts'
import { environments, runs, variants } from '../schema.ts'
import { describeStoredLoad } from './dimensions.ts'
import { hardwareLabel } from './facets.ts'
import { type LeaderboardRow, leaderboard } from './leaderboard.ts'
import { workloadKey } from './procurement.ts'
import type { BranchScope, RunRole } from './scope.ts'

/** Figures the table reads per run: its cells, what the flags need and the fallbacks. */
export const VARIANT_TABLE_METRICS = [
  'outputTokensPerS',
  'ttftMsP50',
  'peakRssBytes',
  'vramBytes',
  'modelBytes',
  'acc',
  'accStderr',
  'klDivergence',
  'klDivergenceSe',
  'top1Agreement',
  // Present on quality runs of endpoints: the KLD came from top-k lists (approximate, harness/quality).
  'qualityTopK',
  'errorRate',
  'clientSaturated',
] as const

export interface VariantIdentityRow {
  id: number
  name: string
  family: string | null
  method: string
  format: string
  quantLabel: string | null
  bits: number | null
  sizeBytes: number | null
  /** The parent variant's name, when the variant records one. */
  parent: string | null
}

export interface VariantTableRun extends LeaderboardRow {
  /** runs.load_kind: `accuracy` and `quality` runs are not load steps. */
  loadKind: string
  /** The load step's position in the scenario (0-based); accuracy and quality runs come after the steps. */
  loadIndex: number
  /** 12 hex digits of scenario hash + load spec (db/queries/procurement.ts workloadKey): one load step. */
  workload: string
  /** The load in words (`sequential`, `concurrent 4`). */
  loadLabel: string
  engineVersion: string | null
  hardware: string
  variant: VariantIdentityRow | null
}

export interface VariantTableOptions {
  scenario: string
  branches?: BranchScope
  roles?: readonly RunRole[]
}

/** Every target × fingerprint of the scenario in scope (latest completed run each), with its identity. */
export async function variantTableRuns(db: Db, options: VariantTableOptions): Promise<VariantTableRun[]> {
  const rows = await leaderboard(db, {
    scenario: options.scenario,
    metrics: VARIANT_TABLE_METRICS,
    ...(options.branches ? { branches: options.branches } : {}),
    ...(options.roles ? { roles: options.roles } : {}),
  })
  if (rows.length === 0) return []
  const parents = alias(variants, 'parent_variants')
  const details = await db
    .select({
      id: runs.id,
      loadKind: runs.loadKind,
      loadIndex: runs.loadIndex,
      load: runs.load,
      scenarioHash: runs.scenarioHash,
      engineVersion: runs.engineVersion,
      cpuModel: environments.cpuModel,
      cores: environments.cores,
      gpus: environments.gpus,
      variantId: variants.id,
      variantName: variants.name,
      family: variants.family,
      method: variants.method,
      format: variants.format,
      quantLabel: variants.quantLabel,
      bits: variants.bits,
      sizeBytes: variants.sizeBytes,
      parent: parents.name,
    })
    .from(runs)
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .leftJoin(parents, eq(parents.id, variants.parentId))
    .where(
      inArray(
        runs.id,
        rows.map((r) => r.runId),
      ),
    )
  const byId = new Map(details.map((d) => [d.id, d]))
  return rows.flatMap((r): VariantTableRun[] => {
    const d = byId.get(r.runId)
    if (!d) return []
    return [
      {
        ...r,
        loadKind: d.loadKind,
        loadIndex: d.loadIndex,
        workload: workloadKey(d.scenarioHash, d.load),
        loadLabel: describeStoredLoad(d.load),
        engineVersion: d.engineVersion,
        hardware: hardwareLabel(d.cpuModel, d.cores, d.gpus),
        variant:
          d.variantId === null || d.variantName === null || d.method === null || d.format === null
            ? null
            : {
                id: d.variantId,
                name: d.variantName,
                family: d.family,
                method: d.method,
                format: d.format,
                quantLabel: d.quantLabel,
                bits: d.bits,
                sizeBytes: d.sizeBytes,
                parent: d.parent,
              },
      },
    ]
  })
}

/** What a run says of its load: kind, step, workload key and words. */
export interface RunLoad {
  loadKind: string
  loadIndex: number
  workload: string
  loadLabel: string
}

/** run id → its load (the leaderboard's load filter); missing ids are left out. */
export async function runLoads(db: Db, runIds: readonly number[]): Promise<Map<number, RunLoad>> {
  if (runIds.length === 0) return new Map()
  const rows = await db
    .select({
      id: runs.id,
      loadKind: runs.loadKind,
      loadIndex: runs.loadIndex,
      load: runs.load,
      scenarioHash: runs.scenarioHash,
    })
    .from(runs)
    .where(inArray(runs.id, [...runIds]))
  return new Map(
    rows.map((r) => [
      r.id,
      {
        loadKind: r.loadKind,
        loadIndex: r.loadIndex,
        workload: workloadKey(r.scenarioHash, r.load),
        loadLabel: describeStoredLoad(r.load),
      },
    ]),
  )
}
