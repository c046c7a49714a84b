/**
 * `bench alerts list|ack|dismiss`: the queries and state changes (db/gate/alerts.ts), and the table.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { acknowledgeAlert, dismissAlert, listAlerts } from '../../../db/gate/alerts.ts'
import type { AlertRow } from '../../../db/schema.ts'
import { HarnessError } from '../../errors.ts'
import { dbOptions } from '../commands/db.ts'

export interface AlertListFlags {
  state?: AlertRow['state']
  run?: number
  limit: number
  json?: boolean
  db?: string
}

export interface AlertActFlags {
  by?: string
  note?: string
  db?: string
}

export async function listCommand(o: AlertListFlags): Promise<undefined> {
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
}

/** `ack` or `dismiss` one alert; prints it as it is now. */
export async function actCommand(name: 'ack' | 'dismiss', id: number, o: AlertActFlags): Promise<undefined> {
  const db = await createDb(dbOptions(o.db))
  try {
    const by = o.by ?? process.env.USER
    const row = await (name === 'ack' ? acknowledgeAlert : dismissAlert)(db, id, {
      ...(by ? { by } : {}),
      ...(o.note ? { note: o.note } : {}),
    })
    if (!row) throw new HarnessError(`alert ${id} does not exist`)
    process.stdout.write(formatAlerts([row]))
  } finally {
    await db.close()
  }
  return undefined
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
