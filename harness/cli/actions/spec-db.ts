/**
 * `bench spec`'s and `bench spec-endpoints`' store: the study it ran into the results database (db/studies/store.ts), as `bench run`
 * keeps its runs — the embedded database by default, `--db` for another, `--no-db` for none. Imported only
 * when a study is stored, so `bench spec --no-db` loads no database code.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { type EndpointStudyRecord, saveEndpointStudy } from '../../../db/studies/endpoint-store.ts'
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

/** `bench spec-endpoints`' store: the endpoint study (db/studies/endpoint-store.ts); a line for stderr. */
export async function storeEndpointStudy(
  record: EndpointStudyRecord,
  o: { db?: string; source: string; label?: string },
): Promise<string> {
  const db = await createDb({ ...dbOptions(o.db), embeddedHost: 'worker' })
  try {
    const id = await saveEndpointStudy(db, record, {
      source: o.source,
      ...(o.label !== undefined ? { label: o.label } : {}),
    })
    return `study ${id} stored in ${db.location} (dashboard: /studies/${id})`
  } finally {
    await db.close()
  }
}
