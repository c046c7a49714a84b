/**
 * Hourly prices of environments (environment_prices): the one input procurement figures need beyond the
 * measurements. Entered by people (dashboard `PUT /api/environments/:id/price`), one current price per
 * environment; a write replaces it and records who and when.
 * @module
 */
import { asc, count, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from './client.ts'
import { type Environment, environmentPrices, environments, runs } from './schema.ts'

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
