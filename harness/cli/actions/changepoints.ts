/**
 * `bench changepoints`: recomputes and stores every series' change points, and says what it found.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { computeChangePoints } from '../../../db/gate/change-points.ts'
import { HarnessError } from '../../errors.ts'
import { dbOptions } from '../commands/db.ts'

export interface ChangePointsFlags {
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

export async function changePointsCommand(o: ChangePointsFlags): Promise<undefined> {
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
}
