/**
 * Study sets (harness/speculative/study-file.ts loadStudies): a study file whose default export is an array
 * runs one study per entry; each entry validated with its index in the path, names unique, model files
 * checked; the single-study loader (the dashboard's launcher) refuses a set, saying how to run it.
 * scenarios/spec-study.ts is such a set (checked here against the schema, its models aside).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadStudies, loadStudy, parseStudy, readStudyFile } from '../../../harness/speculative/study-file.ts'
import { teacherModels } from '../../helpers/fixture-models.ts'

describe('study sets', () => {
  let dir: string
  let target: string
  let draft: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-study-set-'))
    const models = await teacherModels()
    target = models.path('teacher-f32')
    draft = models.path('teacher-q4_0')
  })
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  const write = (name: string, content: unknown) => {
    const file = join(dir, name)
    writeFileSync(file, JSON.stringify(content))
    return file
  }
  const study = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    target,
    draft,
    prompts: ['The river'],
    ...extra,
  })

  it('an array is a set: every study, in order; a single study is a set of one', async () => {
    const set = write('set.json', [study('a'), study('b', { ks: [2] })])
    expect((await loadStudies(set)).map((s) => [s.name, s.ks])).toEqual([
      ['a', [1, 2, 3, 4, 5, 6, 7, 8]],
      ['b', [2]],
    ])
    expect((await loadStudies(write('one.json', study('c')))).map((s) => s.name)).toEqual(['c'])
    await expect(loadStudy(set)).rejects.toThrow(
      /holds a set of 2 studies .*`bench spec .*set\.json` runs them all/,
    )
  })

  it('errors name the entry and field; names must differ; a missing model is named', async () => {
    await expect(loadStudies(write('bad.json', [study('a'), { ...study('b'), ks: [0] }]))).rejects.toThrow(
      /bad\.json\[1\] is invalid:\n {2}- ks\[0\]: must be ≥ 1/,
    )
    await expect(loadStudies(write('twice.json', [study('a'), study('a')]))).rejects.toThrow(
      /study names must differ within a set: a/,
    )
    await expect(loadStudies(write('none.json', []))).rejects.toThrow(/an empty set of studies/)
    await expect(
      loadStudies(write('missing.json', [study('a', { draft: join(dir, 'nope.gguf') })])),
    ).rejects.toThrow(/- draft: model file .*nope\.gguf not found/)
  })

  it('scenarios/spec-study.ts: five valid studies of one target, five distinct drafts', async () => {
    const raw = await readStudyFile('scenarios/spec-study.ts')
    expect(Array.isArray(raw)).toBe(true)
    const studies = (raw as unknown[]).map((s, i) => parseStudy(s, `spec-study[${i}]`))
    expect(new Set(studies.map((s) => s.target)).size).toBe(1)
    expect(new Set(studies.map((s) => s.draft)).size).toBe(5)
  })
})
