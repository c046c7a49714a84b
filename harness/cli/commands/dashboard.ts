/**
 * `bench dashboard`: serves the dashboard over the results database until SIGINT/SIGTERM, on 127.0.0.1
 * unless --host says otherwise. Writes need BENCH_TOKEN in the environment; without it the dashboard is
 * read-only. Flags here; the server (actions/dashboard.ts) is imported when the command runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import { DASHBOARD_HOST, DASHBOARD_PORT } from '../choices.ts'

export interface DashboardOptions {
  port: number
  host: string
  db?: string
  /** false (--no-worker): no job worker in this process. @default true (embedded database only) */
  worker?: boolean
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('serve the results dashboard (leaderboards, history, runs, compare, JSON API) until Ctrl-C')
    .option(
      '--port <n>',
      'TCP port (0 picks a free one)',
      parseNumberFlag('--port', 'int', 0),
      DASHBOARD_PORT,
    )
    .option('--host <host>', 'interface to bind; anything but loopback exposes the results', DASHBOARD_HOST)
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option(
      '--no-worker',
      'on the embedded database, run no job worker in this process (studies launched here then wait for `bench worker`)',
    )
    .action(
      action(async (opts: DashboardOptions) => {
        await (await import('../actions/dashboard.ts')).serveDashboard(opts)
        return undefined
      }),
    )
}
