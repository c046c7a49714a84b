/**
 * Statements of a `pglite-socket` client survive the directory changing owner. The owner a client talks to
 * may close at any moment (a `bench runs list` next to a `bench run`: CI stop 23 died at start on it);
 * the next socket goes to the new owner or takes the directory over (host.ts PgliteDirectoryClient), but
 * postgres.js fails the statements that were on the closed connection. Those are sent again here.
 *
 * Why repeating is safe: an owner ends a connection only between exchanges, answers every exchange it
 * started before ending (socket.end, not destroy), and starts none once closing (server.ts); an exchange
 * or transaction cut off by the grace timer is rolled back. So a statement whose connection ended with no
 * answer never ran. A transaction (`begin`) is repeated whole, callback included: its callbacks here only
 * issue statements.
 * @module
 */
import type postgres from 'postgres'

type Sql = postgres.Sql<Record<string, never>>

/** How long a statement waits for the directory's next owner (it opens PGlite: 1–3 s, more on a busy box). ms. */
export const OWNER_SWITCH_WAIT_MS = 30_000
/** Pause between attempts. ms. */
const RETRY_EVERY_MS = 50

/**
 * Socket and postgres.js codes for a connection the owner ended under a statement. Not CONNECTION_ENDED
 * or CONNECTION_DESTROYED: those mean this process called `sql.end()`, and nothing should wait then.
 */
const OWNER_GONE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'CONNECTION_CLOSED',
])

export function isOwnerGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && OWNER_GONE_CODES.has(code)
}

/**
 * postgres.js 3.4 looks up array types on every new connection from its ReadyForQuery handler and never
 * awaits that query (src/connection.js fetchArrayTypes). An owner that closes at that moment rejects it
 * with nobody to catch: an unhandled rejection, which ends the process (seen in CI, shared-dir.test.ts).
 * Nothing is lost: the statement that opened the connection is sent again by surviveOwnerSwitch, and the
 * next connection looks the types up again. This tells that one rejection apart from every other.
 */
export function isLostTypeLookup(reason: unknown): boolean {
  const query = (reason as { query?: unknown } | undefined)?.query
  return isOwnerGone(reason) && typeof query === 'string' && /from pg_catalog\.pg_type a\b/.test(query)
}

let typeLookupGuarded = false

/**
 * Lets a lost type lookup (isLostTypeLookup) pass in this process; any other unhandled rejection is thrown
 * again, so it ends the process as Node's default does (a listener alone would turn that default off).
 */
function guardTypeLookup(): void {
  if (typeLookupGuarded) return
  typeLookupGuarded = true
  process.on('unhandledRejection', (reason) => {
    if (isLostTypeLookup(reason)) return
    throw reason
  })
}

/** Runs `attempt` again while it fails because the owner went away, for up to OWNER_SWITCH_WAIT_MS. */
export async function untilOwnerAnswers<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + OWNER_SWITCH_WAIT_MS
  for (;;) {
    try {
      return await attempt()
    } catch (err) {
      if (!isOwnerGone(err) || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS))
    }
  }
}

/**
 * `sql` whose `unsafe` (every drizzle statement: awaited, or `.values()`) and `begin` (drizzle's
 * transaction) are repeated on an owner switch. Other members pass through.
 */
export function surviveOwnerSwitch(sql: Sql): Sql {
  guardTypeLookup()
  const unsafe = (...args: Parameters<Sql['unsafe']>) => ({
    // A thenable, as postgres.js's pending query is: each attempt builds (and so sends) a new statement.
    // biome-ignore lint/suspicious/noThenProperty: drizzle awaits what unsafe returns
    then: <R1, R2>(
      ok?: (rows: unknown) => R1 | PromiseLike<R1>,
      fail?: (err: unknown) => R2 | PromiseLike<R2>,
    ) => untilOwnerAnswers(async () => await sql.unsafe(...args)).then(ok, fail),
    values: () => untilOwnerAnswers(async () => await sql.unsafe(...args).values()),
  })
  const begin = (...args: unknown[]) =>
    untilOwnerAnswers(() => (sql.begin as (...a: unknown[]) => Promise<unknown>)(...args))
  return new Proxy(sql, {
    get(target, key, receiver) {
      if (key === 'unsafe') return unsafe
      if (key === 'begin') return begin
      return Reflect.get(target, key, receiver)
    },
  })
}
