/**
 * `bench study list|export|import` (commands/study.ts): db/studies/store.ts and document.ts.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises'
import { createDb, type Database } from '../../../db/client.ts'
import { exportStudy, importStudy, studyDocumentRows } from '../../../db/studies/document.ts'
import { listStudies, type StudySummary } from '../../../db/studies/store.ts'
import { HarnessError } from '../../errors.ts'
import { EXIT_OK } from '../action.ts'
import { dbOptions } from '../commands/db.ts'

async function withDb<T>(where: string | undefined, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await createDb({ ...dbOptions(where), embeddedHost: 'worker' })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

const two = (v: number | null) => (v === null ? '–' : v.toFixed(2))

/** K and speedup, or – alone when there is none (it printed "– (–×)"). */
const best = (k: number | null | undefined, speedup: number | null | undefined) =>
  k === null || k === undefined ? '–' : `${k} (${two(speedup ?? null)}×)`

/** One study of `bench study list`, tab-separated. */
export function studyListLine(s: StudySummary): string {
  return `${s.id}\t${s.name}\t${s.kind}\t${s.state}${s.state === 'running' ? ` ${Math.round(s.progress * 100)} %` : ''}\tK ${s.ks.join(',')}\tα ${two(s.alphaUsed)}\tc ${two(s.costRatio)}\tbest K predicted ${best(s.optimalK, s.optimalSpeedup)}, measured ${best(s.bestMeasured?.k, s.bestMeasured?.speedup)}${s.error ? `\t${s.error}` : ''}`
}

export async function studyListCommand(opts: { json?: boolean; db?: string }): Promise<number> {
  return withDb(opts.db, async (db) => {
    const list = await listStudies(db)
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      return EXIT_OK
    }
    if (list.length === 0)
      process.stdout.write(
        `no study in ${db.location} (bench spec or bench spec-endpoints <study file> runs one)\n`,
      )
    for (const s of list) process.stdout.write(`${studyListLine(s)}\n`)
    return EXIT_OK
  })
}

export async function studyExportCommand(id: number, opts: { out?: string; db?: string }): Promise<number> {
  return withDb(opts.db, async (db) => {
    const doc = await exportStudy(db, id)
    if (!doc) throw new HarnessError(`study ${id} does not exist in ${db.location}`)
    const json = `${JSON.stringify(doc, null, 2)}\n`
    if (opts.out) {
      await writeFile(opts.out, json, { mode: 0o600 })
      process.stderr.write(`study ${id} (${studyDocumentRows(doc)}) written to ${opts.out}\n`)
    } else process.stdout.write(json)
    return EXIT_OK
  })
}

export async function studyImportCommand(file: string, opts: { db?: string }): Promise<number> {
  let input: unknown
  try {
    input = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new HarnessError(`cannot read ${file} as JSON: ${(err as Error).message}`)
  }
  return withDb(opts.db, async (db) => {
    const id = await importStudy(db, input, file)
    process.stdout.write(`study ${id} imported into ${db.location} (dashboard: /studies/${id})\n`)
    return EXIT_OK
  })
}
