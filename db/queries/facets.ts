/**
 * What a run is, beyond its target name: variant × engine × environment, as the leaderboard and the
 * procurement page show and filter on it.
 * @module
 */
import { eq, inArray } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { environments, runs, variants } from '../schema.ts'

export interface TargetFacets {
  engineKind: string
  engineVersion: string | null
  variantName: string | null
  /** The variant's family (a model and what derives from it), when stored. */
  family: string | null
  /** Bits per weight of the variant, when stored. */
  bits: number | null
  method: string | null
  quantLabel: string | null
  /** `GPU name · CPU model ×cores`, or `CPU model ×cores`; `unknown` without a stored environment. */
  hardware: string
  /** The environment's parts (null without one), for pages that word the machine their own way. */
  cpuModel: string | null
  /** Logical cores (os.availableParallelism at the run), not sockets. */
  cores: number | null
  gpus: { name: string }[] | null
}

/** run id → its facets, for the given runs (missing ids are left out). */
export async function targetFacets(db: Db, runIds: readonly number[]): Promise<Map<number, TargetFacets>> {
  if (runIds.length === 0) return new Map()
  const rows = await db
    .select({
      id: runs.id,
      engineKind: runs.engineKind,
      engineVersion: runs.engineVersion,
      variantName: variants.name,
      family: variants.family,
      bits: variants.bits,
      method: variants.method,
      quantLabel: variants.quantLabel,
      cpuModel: environments.cpuModel,
      cores: environments.cores,
      gpus: environments.gpus,
    })
    .from(runs)
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .where(inArray(runs.id, [...runIds]))
  return new Map(
    rows.map((r) => [
      r.id,
      {
        engineKind: r.engineKind,
        engineVersion: r.engineVersion,
        variantName: r.variantName,
        family: r.family,
        bits: r.bits,
        method: r.method,
        quantLabel: r.quantLabel,
        hardware: hardwareLabel(r.cpuModel, r.cores, r.gpus),
        cpuModel: r.cpuModel,
        cores: r.cores,
        gpus: r.gpus,
      },
    ]),
  )
}

/** An environment's hardware in words: `GPU name · CPU model ×cores`, `CPU model ×cores`, or `unknown`. */
export function hardwareLabel(
  cpuModel: string | null,
  cores: number | null,
  gpus: { name: string }[] | null,
): string {
  if (cpuModel === null) return 'unknown'
  const cpu = `${cpuModel} ×${cores ?? '?'}`
  return gpus && gpus.length > 0 ? `${gpus.map((g) => g.name).join(' + ')} · ${cpu}` : cpu
}
