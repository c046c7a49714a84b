/**
 * `bench spec`'s store: the study it ran into the results database (db/studies/store.ts), as `bench run`
 * keeps its runs — the embedded database by default, `--db` for another, `--no-db` for none. Imported only
 * when a study is stored, so `bench spec --no-db` loads no database code.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { storeStudyResult } from '../../../db/studies/store.ts'
import type { SpecStudyResult } from '../../speculative/study.ts'
import { dbOptions } from '../commands/db.ts'

/** Stores the result; returns a line for stderr saying where and how to see it. */
export async function storeSpecStudy(
  result: SpecStudyResult,
  o: { db?: string; source: string; label?: string },
): Promise<string> {
  const db = await createDb({ ...dbOptions(o.db), embeddedHost: 'worker' })
  try {
    const id = await storeStudyResult(db, result, {
      source: o.source,
      ...(o.label !== undefined ? { label: o.label } : {}),
    })
    return `study ${id} stored in ${db.location} (dashboard: /studies/${id})`
  } finally {
    await db.close()
  }
}
