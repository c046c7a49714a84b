/**
 * `bench alerts list|ack|dismiss`: the regressions `bench gate` opened, and their lifecycle
 * (active → acknowledged or dismissed, with who and when). The state changes are db/gate/alerts.ts, which
 * the dashboard calls too. Flags here; the database work (actions/alerts.ts) is imported when a command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { AlertActFlags, AlertListFlags } from '../actions/alerts.ts'
import { ALERT_STATES } from '../choices.ts'

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export function registerAlertsCommands(program: Command): void {
  const alerts = program.command('alerts').description('regressions found by bench gate, and their state')

  alerts
    .command('list')
    .description('alerts, newest first')
    .addOption(new Option('--state <state>', 'only alerts in this state').choices(ALERT_STATES))
    .option('--run <id>', 'only alerts of this run', parseNumberFlag('--run', 'int', 1))
    .option('--limit <n>', 'rows to show', parseNumberFlag('--limit', 'int', 1), 100)
    .option('--json', 'print JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(action(async (o: AlertListFlags) => (await import('../actions/alerts.ts')).listCommand(o)))

  for (const [name, description] of [
    ['ack', 'acknowledge an alert (a real regression someone owns)'],
    ['dismiss', 'dismiss an alert (noise, or an intended change)'],
  ] as const) {
    alerts
      .command(name)
      .description(description)
      .argument('<id>', 'alert id', parseNumberFlag('<id>', 'int', 1))
      .option('--by <name>', 'who (default: $USER)')
      .option('--note <text>', 'why')
      .option('--db <path|url>', DB_FLAG_HELP)
      .action(
        action(async (id: number, o: AlertActFlags) =>
          (await import('../actions/alerts.ts')).actCommand(name, id, o),
        ),
      )
  }
}
