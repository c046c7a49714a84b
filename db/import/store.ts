/**
 * Writing imported runs: in one transaction, as completed runs with their metrics and request rows and
 * the original document in runs.imported. The invocation id `import:<sha256 of the file>` groups a file's
 * runs and makes a second import of the same file a no-op that reports the runs already there.
 * @module
 */
import { asc, eq, sql } from 'drizzle-orm'
import { analyzeAfterBulkWrite } from '../analyze.ts'
import type { Db } from '../client.ts'
import { upsertVariant } from '../identity.ts'
import { insertRequests } from '../insert-requests.ts'
import { createRedactor } from '../redact.ts'
import { requestRow } from '../request-rows.ts'
import { type ImportFormat, runMetrics, runs } from '../schema.ts'
import { type ImportedRun, importedRunColumns } from './types.ts'

export interface StoredImport {
  state: 'imported' | 'already-imported'
  /** The file's runs, in the order of `imported` (or as first stored). */
  runs: { id: number; scenarioName: string; targetName: string; fingerprint: string }[]
}

/** Request rows per INSERT: one statement whatever the size (db/insert-requests.ts), bounded for memory. */
export const REQUEST_BATCH = 5_000

export async function storeImportedRuns(
  db: Db,
  source: { format: ImportFormat; file: string; sha256: string; importedAt: Date },
  imported: readonly ImportedRun[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoredImport> {
  const invocationId = `import:${source.sha256}`
  const redact = createRedactor(env)
  const stored = await db.transaction(async (tx): Promise<StoredImport> => {
    // Two imports of one file at once: the second waits, then finds the first one's runs.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${invocationId}))`)
    const existing = await tx
      .select({
        id: runs.id,
        scenarioName: runs.scenarioName,
        targetName: runs.targetName,
        fingerprint: runs.fingerprint,
      })
      .from(runs)
      .where(eq(runs.invocationId, invocationId))
      .orderBy(asc(runs.id))
    if (existing.length > 0) return { state: 'already-imported', runs: existing }
    const stored: StoredImport['runs'] = []
    for (const run of imported) {
      const variantId = run.variant ? await upsertVariant(tx, redact.value(run.variant)) : null
      const [row] = await tx
        .insert(runs)
        .values({
          invocationId,
          ...importedRunColumns(run, redact),
          variantId,
          environmentId: null,
          loadIndex: 0,
          state: 'completed',
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          heartbeatAt: run.finishedAt ?? run.startedAt,
          imported: {
            format: source.format,
            file: source.file,
            sha256: source.sha256,
            importedAt: source.importedAt.toISOString(),
            document: redact.value(run.document),
            notes: run.notes,
          },
        })
        .returning({ id: runs.id })
      if (!row) throw new Error('inserting an imported run returned no id')
      stored.push({
        id: row.id,
        scenarioName: run.scenarioName,
        targetName: run.targetName,
        fingerprint: run.fingerprint,
      })
      if (run.metrics.length > 0)
        await tx
          .insert(runMetrics)
          .values(run.metrics.map((m) => ({ runId: row.id, ...m, n: Math.round(m.n) })))
      for (let i = 0; i < run.requests.length; i += REQUEST_BATCH) {
        await insertRequests(
          tx,
          run.requests.slice(i, i + REQUEST_BATCH).map((r) => requestRow(row.id, r, redact)),
        )
      }
    }
    return { state: 'imported', runs: stored }
  })
  // PGlite never analyzes on its own: a large import would otherwise meet plans made for an empty table.
  if (stored.state === 'imported')
    await analyzeAfterBulkWrite(
      db,
      imported.reduce((n, r) => n + r.requests.length, 0),
    )
  return stored
}
