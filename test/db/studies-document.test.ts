/**
 * A study out of one database and into another (db/studies/document.ts, `bench study export|import`): the
 * bench-study document of a stored study imports as a new study whose every row reads back the same
 * (PGlite → PGlite, and → PostgreSQL when DATABASE_URL is set); a document that is not one, or a study
 * that has not finished, is refused with each problem's path; through the real CLI, export then import.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportStudy, importStudy, StudyDocumentError } from '../../db/studies/document.ts'
import { readStudy, storeStudyResult } from '../../db/studies/store.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { knownStudy } from './studies-fixture.ts'

describe('bench-study documents', () => {
  const dbs: TestDatabase[] = []
  let source: TestDatabase
  let id: number
  const dir = mkdtempSync(join(tmpdir(), 'study-doc-'))
  beforeAll(async () => {
    dbs.push(...(await Promise.all(['pglite' as const, ...dbBackends()].map((b) => createTestDatabase(b)))))
    source = dbs[0]!
    id = await storeStudyResult(source.db, knownStudy(3), { source: 'a.ts', label: 'exported' })
  })
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.dispose()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('imports into another database with every row the same', async () => {
    const doc = await exportStudy(source.db, id)
    expect(doc).toMatchObject({
      format: 'bench-study',
      version: 2,
      study: { state: 'completed', label: 'exported' },
    })
    const original = await readStudy(source.db, id)
    for (const target of dbs.slice(1)) {
      // Through JSON text, as the CLI writes and reads it.
      const imported = await importStudy(target.db, JSON.parse(JSON.stringify(doc)))
      const back = await readStudy(target.db, imported)
      expect(back?.perK).toEqual(original?.perK)
      expect(back?.perPrompt).toEqual(original?.perPrompt)
      const { id: _a, matrixId: _m, matrixJobId: _j, baseDir: _b, ...was } = original!.study
      const { id: _c, matrixId: _n, matrixJobId: _k, baseDir: _d, ...is } = back!.study
      expect(is).toEqual(was)
    }
  })

  it('refuses what is not a finished study document, naming each problem', async () => {
    const doc = (await exportStudy(source.db, id))!
    const bad = {
      ...doc,
      study: { ...doc.study, state: 'running' },
      perK: [{ ...doc.perK[0], drafted: -1 }],
    }
    const err = await importStudy(source.db, bad, 'bad.json').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StudyDocumentError)
    expect((err as Error).message).toMatch(/study\.state: only a finished study/)
    expect((err as Error).message).toMatch(/perK\[0\]\.drafted: must be ≥ 0, got -1/)
    await expect(importStudy(source.db, { format: 'bench-run' })).rejects.toThrow(/format/)
  })

  it('bench study export, then bench study import', async () => {
    const file = join(dir, 'study.json')
    const out = await runCli([
      'study',
      'export',
      String(id),
      '--out',
      file,
      '--db',
      String(source.options.dataDir),
    ])
    expect(out.code, out.stderr).toBe(0)
    const target = dbs[1]!
    if (target.backend !== 'pglite') return
    const back = await runCli(['study', 'import', file, '--db', String(target.options.dataDir)])
    expect(back.code, back.stderr).toBe(0)
    const imported = Number(/study (\d+) imported/.exec(back.stdout)?.[1])
    expect((await readStudy(target.db, imported))?.study.label).toBe('exported')
  }, 60_000)
})
