/**
 * One cheap read that changes whenever what the dashboard caches could: a reader caches its models under
 * this version and drops them when it changes (dashboard/data/cache.ts).
 * @module
 */
import { sql } from 'drizzle-orm'
import { type Db, selectRows } from '../client.ts'

/**
 * What the cached reads depend on: the newest run id (a run was started or imported) and how many runs
 * are running (one finished, or was marked interrupted), both index lookups; and the newest alert id and
 * latest alert action (`bench gate` opened one, someone acknowledged or dismissed one, from any process),
 * over the alerts table, which holds regressions only and stays small; and the number of environment
 * prices and endpoint serving identities with the newest write of each (one row per environment or
 * target: small too).
 */
export async function dataVersion(db: Db): Promise<string> {
  const [row] = await selectRows<{
    max_id: number | null
    running: number
    max_alert_id: number | null
    acted_at: string | null
    prices: string | null
    serving: string | null
  }>(
    db,
    sql`select (select max(id) from runs) as max_id, (select count(*) from runs where state = 'running')::int as running,
      (select max(id) from alerts) as max_alert_id, (select max(acted_at)::text from alerts) as acted_at,
      (select count(*) || '@' || max(updated_at)::text from environment_prices) as prices,
      (select count(*) || '@' || max(updated_at)::text from serving_identities) as serving`,
  )
  return `${row?.max_id ?? 0}:${row?.running ?? 0}:${row?.max_alert_id ?? 0}:${row?.acted_at ?? ''}:${row?.prices ?? ''}:${row?.serving ?? ''}`
}
