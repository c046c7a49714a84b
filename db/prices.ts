/**
 * What procurement prices, entered by people: the hourly price of an environment (environment_prices: the
 * machine a native engine ran on, dashboard `PUT /api/environments/:id/price`), and the serving identity of
 * an endpoint target (serving_identities: hardware, GPUs and hourly price of the server behind an openai
 * target, whose run environment is only the client; `PUT /api/serving`). One current entry each; a write
 * replaces it and records who and when.
 * @module
 */
import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm'
import { engineDefinition } from '../harness/engines/registry.ts'
import type { Db } from './client.ts'
import {
  type Environment,
  environmentPrices,
  environments,
  runs,
  servingIdentities,
  variants,
} from './schema.ts'

/**
 * Whether a run's target is a remote endpoint: its engine's variant format is 'remote' (openai), or the
 * stored variant says so (a kind this process has not registered). Its environment is then only the
 * client that ran bench.
 */
export function isEndpoint(engineKind: string, variantFormat: string | null): boolean {
  return engineDefinition(engineKind)?.variantFormat === 'remote' || variantFormat === 'remote'
}

export interface EnvironmentPrice {
  environmentId: number
  /** US dollars per hour, finite and > 0. */
  usdPerHour: number
  note: string | null
  updatedBy: string | null
  updatedAt: Date
}

export interface EnvironmentWithPrice extends Environment {
  /** Runs recorded on this environment (any state). */
  runs: number
  /** null until someone enters one. */
  price: EnvironmentPrice | null
}

export interface PriceInput {
  /** US dollars per hour; the database refuses ≤ 0, NaN and ±Infinity. */
  usdPerHour: number
  note?: string | null
  updatedBy?: string | null
}

/** Every environment (or those of `ids`), oldest first, with its price and how many runs it carries. */
export async function listEnvironmentsWithPrices(
  db: Db,
  ids?: readonly number[],
): Promise<EnvironmentWithPrice[]> {
  if (ids?.length === 0) return []
  const only = ids ? [...new Set(ids)] : undefined
  const [rows, counts] = await Promise.all([
    db
      .select({ environment: environments, price: environmentPrices })
      .from(environments)
      .leftJoin(environmentPrices, eq(environmentPrices.environmentId, environments.id))
      .where(only ? inArray(environments.id, only) : undefined)
      .orderBy(asc(environments.id)),
    db
      .select({ environmentId: runs.environmentId, n: count() })
      .from(runs)
      .where(only ? inArray(runs.environmentId, only) : undefined)
      .groupBy(runs.environmentId),
  ])
  const runsOf = new Map(counts.map((c) => [c.environmentId, c.n]))
  return rows.map((r) => ({ ...r.environment, runs: runsOf.get(r.environment.id) ?? 0, price: r.price }))
}

/** environment id → price, for the ids that have one. */
export async function pricesOf(
  db: Db,
  environmentIds: readonly number[],
): Promise<Map<number, EnvironmentPrice>> {
  if (environmentIds.length === 0) return new Map()
  const rows = await db
    .select()
    .from(environmentPrices)
    .where(inArray(environmentPrices.environmentId, [...new Set(environmentIds)]))
  return new Map(rows.map((r) => [r.environmentId, r]))
}

/** Sets (replaces) an environment's price; undefined when there is no such environment. */
export async function setEnvironmentPrice(
  db: Db,
  environmentId: number,
  input: PriceInput,
): Promise<EnvironmentPrice | undefined> {
  const [exists] = await db
    .select({ id: environments.id })
    .from(environments)
    .where(eq(environments.id, environmentId))
  if (!exists) return undefined
  const values = {
    usdPerHour: input.usdPerHour,
    note: input.note ?? null,
    updatedBy: input.updatedBy ?? null,
    // The database's clock (µs), also on a replace: the dashboard's cached reads key on the newest one.
    updatedAt: sql<Date>`now()`,
  }
  const [row] = await db
    .insert(environmentPrices)
    .values({ environmentId, ...values })
    .onConflictDoUpdate({ target: environmentPrices.environmentId, set: values })
    .returning()
  return row
}

/** An endpoint target's serving machine as entered on the dashboard. */
export interface ServingIdentityRow {
  scenarioName: string
  targetName: string
  hardware: string
  gpu: string | null
  gpuCount: number | null
  /** US dollars per hour, finite and > 0. */
  usdPerHour: number
  note: string | null
  updatedBy: string | null
  updatedAt: Date
}

export interface ServingInput {
  hardware: string
  gpu?: string | null
  gpuCount?: number | null
  /** US dollars per hour; the database refuses ≤ 0, NaN and ±Infinity. */
  usdPerHour: number
  note?: string | null
  updatedBy?: string | null
}

/** target name → its dashboard-entered serving identity, for the scenario's targets that have one. */
export async function servingIdentitiesOf(
  db: Db,
  scenarioName: string,
): Promise<Map<string, ServingIdentityRow>> {
  const rows = await db
    .select()
    .from(servingIdentities)
    .where(eq(servingIdentities.scenarioName, scenarioName))
  return new Map(rows.map((r) => [r.targetName, r]))
}

/** Why a serving identity was not stored: no run of the target, or the target is not an endpoint. */
export type ServingRefusal =
  | { refused: 'no-run' }
  | { refused: 'native'; engineKind: string; environmentId: number | null }

/**
 * Sets (replaces) the serving identity of a scenario's endpoint target. Refused when the scenario has no
 * run of that target (nothing to price), or when its latest run is a native engine's (served by the
 * machine that ran it: its environment is what to price).
 */
export async function setServingIdentity(
  db: Db,
  scenarioName: string,
  targetName: string,
  input: ServingInput,
): Promise<ServingIdentityRow | ServingRefusal> {
  const [latest] = await db
    .select({ engineKind: runs.engineKind, environmentId: runs.environmentId, format: variants.format })
    .from(runs)
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .where(and(eq(runs.scenarioName, scenarioName), eq(runs.targetName, targetName)))
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(1)
  if (!latest) return { refused: 'no-run' }
  if (!isEndpoint(latest.engineKind, latest.format))
    return { refused: 'native', engineKind: latest.engineKind, environmentId: latest.environmentId }
  const values = {
    hardware: input.hardware.trim(),
    gpu: input.gpu?.trim() || null,
    gpuCount: input.gpuCount ?? null,
    usdPerHour: input.usdPerHour,
    note: input.note ?? null,
    updatedBy: input.updatedBy ?? null,
    // The database's clock, also on a replace: the dashboard's cached reads key on the newest one.
    updatedAt: sql<Date>`now()`,
  }
  const [row] = await db
    .insert(servingIdentities)
    .values({ scenarioName, targetName, ...values })
    .onConflictDoUpdate({
      target: [servingIdentities.scenarioName, servingIdentities.targetName],
      set: values,
    })
    .returning()
  // An upsert returning a row returns exactly one.
  return row as ServingIdentityRow
}
