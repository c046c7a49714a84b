/**
 * `bench dashboard` (and the end of `bench quickstart`): the dashboard served over the results database.
 * @module
 */
import { DEFAULT_QUERY_TIMEOUT_MS } from '../../../dashboard/app.ts'
import { startDashboard } from '../../../dashboard/server.ts'
import { createDb } from '../../../db/client.ts'
import { HarnessError } from '../../errors.ts'
import type { DashboardOptions } from '../commands/dashboard.ts'
import { dbOptions } from '../commands/db.ts'

/** Serves the dashboard until SIGINT/SIGTERM (also the end of `bench quickstart`). */
export async function serveDashboard(opts: DashboardOptions): Promise<void> {
  if (opts.port > 65_535) throw new HarnessError(`--port expects a port number ≤ 65535, got ${opts.port}`)
  const token = process.env.BENCH_TOKEN || undefined
  // An embedded database in a worker thread: a slow query cannot freeze the server (dashboard/app.ts queryTimeoutMs).
  // On PostgreSQL the server itself cancels a statement past the same deadline, freeing its pooled connection.
  const db = await createDb({
    ...dbOptions(opts.db),
    embeddedHost: 'worker',
    statementTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
  })
  let dashboard: Awaited<ReturnType<typeof startDashboard>>
  try {
    dashboard = await startDashboard({
      db,
      auth: token ? { token } : {},
      port: opts.port,
      host: opts.host,
    })
  } catch (err) {
    await db.close()
    throw err
  }
  const writes = token
    ? 'writes enabled (Authorization: Bearer $BENCH_TOKEN)'
    : 'read-only: set BENCH_TOKEN to enable writes'
  process.stdout.write(`bench dashboard: ${dashboard.url}\n${writes}\n`)
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  try {
    await dashboard.close()
  } finally {
    await db.close()
  }
}
