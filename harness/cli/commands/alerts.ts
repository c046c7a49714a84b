/**
 * `bench alerts list|ack|dismiss`: the regressions `bench gate` opened, and their lifecycle
 * (active → acknowledged or dismissed, with who and when). The state changes are db/gate/alerts.ts, which
 * the dashboard calls too.
 * @module
 */
import { type Command, Option } from 'commander'
import { createDb } from '../../../db/client.ts'
import { acknowledgeAlert, alertStates, dismissAlert, listAlerts } from '../../../db/gate/alerts.ts'
import type { AlertRow } from '../../../db/schema.ts'
import { HarnessError } from '../../errors.ts'
import { action, parseNumberFlag } from '../action.ts'
import { dbOptions } from './db.ts'

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export function registerAlertsCommands(program: Command): void {
  const alerts = program.command('alerts').description('regressions found by bench gate, and their state')

  alerts
    .command('list')
    .description('alerts, newest first')
    .addOption(new Option('--state <state>', 'only alerts in this state').choices(alertStates))
    .option('--run <id>', 'only alerts of this run', parseNumberFlag('--run', 'int', 1))
    .option('--limit <n>', 'rows to show', parseNumberFlag('--limit', 'int', 1), 100)
    .option('--json', 'print JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(
        async (o: {
          state?: AlertRow['state']
          run?: number
          limit: number
          json?: boolean
          db?: string
        }) => {
          const db = await createDb(dbOptions(o.db))
          try {
            const rows = await listAlerts(db, {
              limit: o.limit,
              ...(o.state ? { state: o.state } : {}),
              ...(o.run !== undefined ? { runId: o.run } : {}),
            })
            process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : formatAlerts(rows))
          } finally {
            await db.close()
          }
          return undefined
        },
      ),
    )

  for (const [name, fn, description] of [
    ['ack', acknowledgeAlert, 'acknowledge an alert (a real regression someone owns)'],
    ['dismiss', dismissAlert, 'dismiss an alert (noise, or an intended change)'],
  ] as const) {
    alerts
      .command(name)
      .description(description)
      .argument('<id>', 'alert id', parseNumberFlag('<id>', 'int', 1))
      .option('--by <name>', 'who (default: $USER)')
      .option('--note <text>', 'why')
      .option('--db <path|url>', DB_FLAG_HELP)
      .action(
        action(async (id: number, o: { by?: string; note?: string; db?: string }) => {
          const db = await createDb(dbOptions(o.db))
          try {
            const by = o.by ?? process.env.USER
            const row = await fn(db, id, { ...(by ? { by } : {}), ...(o.note ? { note: o.note } : {}) })
            if (!row) throw new HarnessError(`alert ${id} does not exist`)
            process.stdout.write(formatAlerts([row]))
          } finally {
            await db.close()
          }
          return undefined
        }),
      )
  }
}

function formatAlerts(rows: readonly AlertRow[]): string {
  if (rows.length === 0) return 'no alerts\n'
  const head = ['id', 'state', 'run', 'metric', 'candidate', 'baseline', 'Δ%', 'created', 'by']
  const cells = rows.map((a) => [
    String(a.id),
    a.state,
    String(a.runId),
    a.metric,
    a.candidate?.toFixed(2) ?? '–',
    a.baseline?.toFixed(2) ?? '–',
    a.deltaPct !== null ? `${a.deltaPct >= 0 ? '+' : ''}${a.deltaPct.toFixed(1)}` : '–',
    a.createdAt.toISOString(),
    a.actedBy ?? '',
  ])
  const all = [head, ...cells]
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]?.length ?? 0)))
  return `${all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`
}
