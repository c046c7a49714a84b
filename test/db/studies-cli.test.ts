/**
 * `bench spec <study> --db <dir>` stores the study it ran (the real CLI in a child process, connecting to
 * this test's embedded database through its socket): the stored per-K rows are the ones the --out record
 * has, predicted vs measured speedup with the error. (`--no-db` is what test/e2e/spec-cli.test.ts runs.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStudy } from '../../db/studies/store.ts'
import type { SpecStudyResult } from '../../harness/speculative/study.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { fixtureStudyDir, type StudyDir } from '../helpers/study-dir.ts'

// scenarios/spec-fixture-study.ts with its models pointed at this run's fixtures (test/helpers/study-dir.ts):
// a fresh clone has no .bench/models, and a test that skips there never runs in CI.
let studies: StudyDir
let STUDY = ''
beforeAll(async () => {
  studies = await fixtureStudyDir()
  STUDY = join(studies.dir, 'spec-fixture-study.ts')
})
afterAll(() => studies?.dispose())

describe('bench spec stores its study', () => {
  let t: TestDatabase
  const dir = mkdtempSync(join(tmpdir(), 'spec-store-'))
  beforeAll(async () => {
    t = await createTestDatabase('pglite')
  })
  afterAll(async () => {
    await t?.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  it('--db stores what it printed', async () => {
    const out = join(dir, 'result.json')
    const dataDir = String(t.options.dataDir)
    const r = await runCli(['spec', STUDY, '--quiet', '--out', out, '--db', dataDir, '--label', 'cli'], {
      timeoutMs: 90_000,
    })
    expect(r.stderr).toMatch(/study \d+ stored in .* \(dashboard: \/studies\/\d+\)/)
    expect(r.code, r.stderr).toBe(0)
    const id = Number(/study (\d+) stored/.exec(r.stderr)?.[1])
    const printed = JSON.parse(readFileSync(out, 'utf8')) as SpecStudyResult
    const stored = await readStudy(t.db, id)
    expect(stored?.study).toMatchObject({
      state: 'completed',
      label: 'cli',
      source: STUDY,
      name: 'spec-fixture',
    })
    expect(stored?.study.costRatio).toBe(printed.costRatio)
    expect(
      stored?.perK.map((k) => [k.k, k.accepted, k.measuredSpeedup, k.predictedSpeedup, k.error]),
    ).toEqual(
      printed.perK.map((k) => [k.k, k.counts.accepted, k.measuredSpeedup, k.predictedSpeedup, k.error]),
    )
    // The table on stdout says the same figures (printed with 2 decimals).
    expect(r.stdout).toContain(printed.perK[0]!.measuredSpeedup.toFixed(2))
  }, 120_000)
})
