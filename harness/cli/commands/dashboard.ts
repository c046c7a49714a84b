/**
 * `bench dashboard`: serves the dashboard over the results database until SIGINT/SIGTERM, on 127.0.0.1
 * unless --host says otherwise. Writes need BENCH_TOKEN in the environment; without it the dashboard is
 * read-only.
 * @module
 */
import type { Command } from 'commander'
import { DEFAULT_QUERY_TIMEOUT_MS } from '../../../dashboard/app.ts'
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, startDashboard } from '../../../dashboard/server.ts'
import { createDb } from '../../../db/client.ts'
import { HarnessError } from '../../errors.ts'
import { action, parseNumberFlag } from '../action.ts'
import { dbOptions } from './db.ts'

export interface DashboardOptions {
  port: number
  host: string
  db?: string
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('serve the results dashboard (leaderboards, history, runs, compare, JSON API) until Ctrl-C')
    .option(
      '--port <n>',
      'TCP port (0 picks a free one)',
      parseNumberFlag('--port', 'int', 0),
      DEFAULT_DASHBOARD_PORT,
    )
    .option(
      '--host <host>',
      'interface to bind; anything but loopback exposes the results',
      DEFAULT_DASHBOARD_HOST,
    )
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (opts: DashboardOptions) => {
        await serveDashboard(opts)
        return undefined
      }),
    )
}

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
