/**
 * A folder of launchable study files for dashboard tests (BENCH_STUDIES_DIR, dashboard/data/studies.ts):
 * scenarios/spec-fixture-study.ts as it is, its model paths pointed at the test fixtures this process
 * generates (not at `.bench/models`, which only `bench fixtures` or the quickstart makes), so the tests
 * run in a fresh clone.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readStudyFile } from '../../harness/speculative/study-file.ts'
import { teacherModels } from './fixture-models.ts'

export interface StudyDir {
  dir: string
  /** Restores BENCH_STUDIES_DIR and removes the folder. */
  dispose(): void
}

export async function fixtureStudyDir(): Promise<StudyDir> {
  const models = await teacherModels()
  const study = (await readStudyFile('scenarios/spec-fixture-study.ts')) as Record<string, unknown>
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-studies-'))
  const file = path.join(dir, 'spec-fixture-study.ts')
  const pointed = { ...study, target: models.path('teacher-f32'), draft: models.path('teacher-q4_0') }
  writeFileSync(file, `export default ${JSON.stringify(pointed, null, 2)}\n`)
  const saved = process.env.BENCH_STUDIES_DIR
  process.env.BENCH_STUDIES_DIR = dir
  return {
    dir,
    dispose() {
      if (saved === undefined) delete process.env.BENCH_STUDIES_DIR
      else process.env.BENCH_STUDIES_DIR = saved
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
