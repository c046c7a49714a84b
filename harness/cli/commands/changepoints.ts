/**
 * `bench changepoints`: the nightly job. Recomputes the change points of every series (fingerprint ×
 * metric with enough runs) and replaces the stored ones; the dashboard draws them.
 * @module
 */
import type { Command } from 'commander'
import { createDb } from '../../../db/client.ts'
import { computeChangePoints } from '../../../db/gate/change-points.ts'
import { HarnessError } from '../../errors.ts'
import { action, parseNumberFlag } from '../action.ts'
import { dbOptions } from './db.ts'

interface ChangePointsFlags {
  since?: string
  metric?: string[]
  branch?: string
  minPoints: number
  window: number
  maxPValue: number
  minMagnitude: number
  json?: boolean
  db?: string
}

export function registerChangePointsCommand(program: Command): void {
  program
    .command('changepoints')
    .description('detect and store change points of every series (a nightly job)')
    .option('--since <date>', 'only runs started at or after this date (ISO 8601)')
    .option(
      '--metric <name>',
      'only this metric, repeatable (default: every gated metric)',
      (v: string, p?: string[]) => [...(p ?? []), v],
    )
    .option('--branch <name>', 'only runs of this branch (default: all)')
    .option('--min-points <n>', 'skip series with fewer runs', parseNumberFlag('--min-points', 'int', 2), 8)
    .option(
      '--window <n>',
      'points per detection window (Otava window_len)',
      parseNumberFlag('--window', 'int', 4),
      50,
    )
    .option(
      '--max-p-value <p>',
      'significance of a split',
      parseNumberFlag('--max-p-value', 'number', 0),
      0.0001,
    )
    .option(
      '--min-magnitude <fraction>',
      'smallest change kept',
      parseNumberFlag('--min-magnitude', 'number', 0),
      0,
    )
    .option('--json', 'print JSON')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (o: ChangePointsFlags) => {
        const since = o.since !== undefined ? new Date(o.since) : undefined
        if (since && Number.isNaN(since.getTime()))
          throw new HarnessError(`--since expects a date, got "${o.since}"`)
        const db = await createDb(dbOptions(o.db))
        try {
          const results = await computeChangePoints(db, {
            minPoints: o.minPoints,
            detector: { windowLen: o.window, maxPValue: o.maxPValue, minMagnitude: o.minMagnitude },
            ...(since ? { since } : {}),
            ...(o.metric ? { metrics: o.metric } : {}),
            ...(o.branch ? { branch: o.branch } : {}),
          })
          if (o.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
          else {
            const found = results.flatMap((s) =>
              s.changePoints.map(
                (c) =>
                  `${s.metric} ${s.fingerprint.slice(0, 12)}: run ${c.runId} (point ${c.index} of ${s.points}) ` +
                  `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)} % p=${c.pValue.toExponential(1)}\n`,
              ),
            )
            process.stdout.write(
              `${results.length} series analysed, ${found.length} change point(s)\n${found.join('')}`,
            )
          }
        } finally {
          await db.close()
        }
        return undefined
      }),
    )
}
