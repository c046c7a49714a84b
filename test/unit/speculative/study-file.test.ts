import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseEndpointStudy } from '../../../harness/speculative/endpoints/study-file.ts'
import { loadStudy, parseStudy, StudyError } from '../../../harness/speculative/study-file.ts'

const dir = mkdtempSync(join(tmpdir(), 'spec-study-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('parseStudy', () => {
  it('fills the defaults: K 1..8, greedy, temperature 1, seed 0, 64 tokens, 1 thread, predictor on', () => {
    const s = parseStudy({ name: 'x', target: 't.gguf', draft: 'd.gguf', prompts: ['a'] })
    expect(s).toMatchObject({
      ks: [1, 2, 3, 4, 5, 6, 7, 8],
      mode: 'greedy',
      temperature: 1,
      seed: 0,
      maxTokens: 64,
      threads: 1,
      predictor: true,
      warmup: 1,
    })
  })
  it('lists every problem with its path and the fix', () => {
    let error: unknown
    try {
      parseStudy(
        { name: 'Bad', target: 't.bin', draft: 'd.gguf', prompts: [], ks: [0], mode: 'beam', extra: 1 },
        'my-study.json',
      )
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(StudyError)
    const message = (error as Error).message
    expect(message).toContain('Study my-study.json is invalid')
    expect(message).toContain("name: use lower-case letters, digits and '-'")
    expect(message).toContain('target: expected the path of a .gguf file')
    expect(message).toContain('prompts: needs ≥ 1 entries')
    expect(message).toContain('ks[0]: must be ≥ 1, got 0')
    expect(message).toMatch(/mode: .*"greedy"|mode: .*greedy/)
    expect(message).toContain('extra: unknown field "extra"; remove it or check its spelling')
  })
})

describe('loadStudy', () => {
  it('a JSON study whose model files exist', async () => {
    const model = join(dir, 'm.gguf')
    writeFileSync(model, '')
    const file = join(dir, 'ok.json')
    writeFileSync(file, JSON.stringify({ name: 'ok', target: model, draft: model, prompts: ['a'], ks: [2] }))
    expect((await loadStudy(file)).ks).toEqual([2])
  })
  it('a model file that is not there: named, with the command that makes the fixtures', async () => {
    const file = join(dir, 'missing.json')
    writeFileSync(
      file,
      JSON.stringify({
        name: 'm',
        target: join(dir, 'nope.gguf'),
        draft: join(dir, 'nope2.gguf'),
        prompts: ['a'],
      }),
    )
    await expect(loadStudy(file)).rejects.toThrow(
      /target: model file .*nope\.gguf not found \(fixtures: run `bench fixtures --size all`\)\n.*draft: model file .*nope2\.gguf/,
    )
  })
  it('no such study file; unparsable JSON', async () => {
    await expect(loadStudy(join(dir, 'absent.json'))).rejects.toThrow(
      /absent\.json is invalid:\n.*file not found/,
    )
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, '{"name": ')
    await expect(loadStudy(broken)).rejects.toThrow(/cannot read the study/)
  })
})

describe('a study file of the other kind', () => {
  const native = {
    name: 'n',
    target: 't.gguf',
    draft: 'd.gguf',
    prompts: ['a'],
  }
  const endpoint = {
    name: 'e',
    model: 'm',
    off: 'http://127.0.0.1:1/v1',
    on: [{ k: 2, url: 'http://127.0.0.1:2/v1' }],
    prompts: ['a'],
  }
  const only = (fn: () => unknown): string[] => {
    try {
      fn()
    } catch (err) {
      expect(err).toBeInstanceOf(StudyError)
      return (err as StudyError).issues.map((i) => `${i.path || '(root)'}: ${i.message}`)
    }
    throw new Error('no StudyError')
  }
  // Each was a list of every field as unknown or missing (10 lines for spec-fixture-study.ts): one line now.
  it('bench spec on an endpoint study: one line naming bench spec-endpoints', () => {
    expect(only(() => parseStudy(endpoint, 'e.ts'))).toEqual([
      '(root): an endpoint study (off and on, no target and draft): run it with `bench spec-endpoints e.ts`',
    ])
  })
  it('bench spec-endpoints on a native study or a set of them: one line naming bench spec', () => {
    expect(only(() => parseEndpointStudy(native, 'n.ts'))).toEqual([
      '(root): a native study (target and draft, no off and on): run it with `bench spec n.ts`',
    ])
    expect(only(() => parseEndpointStudy([native, native], 's.ts'))).toEqual([
      '(root): a set of 2 native studies (target and draft, no off and on): run it with `bench spec s.ts`',
    ])
  })
  it('an endpoint study without on: "required: add an array"', () => {
    const { on: _on, ...noOn } = endpoint
    expect(only(() => parseEndpointStudy(noOn, 'e.ts'))).toEqual(['on: required: add an array'])
  })
  it('a study with fields of both kinds is still checked field by field', () => {
    expect(only(() => parseStudy({ ...native, off: 'http://127.0.0.1:1/v1' }, 'x.ts'))).toContain(
      'off: unknown field "off"; remove it or check its spelling',
    )
  })
})
