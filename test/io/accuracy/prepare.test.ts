/**
 * prepareAccuracy: what a scenario's `accuracy` field selects and the errors that stop a run before it
 * starts, each naming the field, the path and the fix; and `bench run`'s check of every scenario's dataset
 * before the first run (checkAccuracyDatasets).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepareAccuracy } from '../../../harness/accuracy/prepare.ts'
import { checkAccuracyDatasets } from '../../../harness/cli/actions/run.ts'
import { type AccuracyConfig, parseScenario } from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'

let dir: string
const row = (q: string, answer: string) => `${q},one,two,three,four,${answer}\n`

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-prepare-'))
  for (const split of ['dev', 'test']) mkdirSync(join(dir, 'mmlu', split), { recursive: true })
  writeFileSync(join(dir, 'mmlu/dev/algebra_dev.csv'), row('d1', 'A') + row('d2', 'B'))
  writeFileSync(join(dir, 'mmlu/test/algebra_test.csv'), row('t1', 'C') + row('t2', 'D') + row('t3', 'A'))
  writeFileSync(join(dir, 'mmlu/dev/botany_dev.csv'), row('e1', 'A') + row('e2', 'B'))
  writeFileSync(join(dir, 'mmlu/test/botany_test.csv'), row('u1', 'B'))
  writeFileSync(
    join(dir, 'bad.jsonl'),
    '{"subject":"x","question":"q","choices":["a","b"],"answer":1}\n{"subject":"x"}\n',
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const config = (extra: Partial<AccuracyConfig> = {}): AccuracyConfig => ({
  dataset: 'mmlu',
  split: 'test',
  shots: 2,
  prompt: 'mmlu',
  concurrency: 1,
  order: 'first',
  scoring: 'auto',
  ...extra,
})

async function problems(extra: Partial<AccuracyConfig>): Promise<string[]> {
  try {
    await prepareAccuracy(config(extra), { baseDir: dir, scenarioSeed: 1, source: 's.ts' })
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues.map((i) => `${i.path}: ${i.message}`)
    throw err
  }
  return expect.unreachable('should fail')
}

describe('prepareAccuracy', () => {
  it('selects per subject, puts the first k dev shots before each item, and fingerprints the content', async () => {
    const p = await prepareAccuracy(config({ limitPerSubject: 2 }), {
      baseDir: dir,
      scenarioSeed: 1,
      source: 's',
    })
    expect(
      p.items.map((i) => i.item.id),
      'first 2 of each subject',
    ).toEqual(['algebra/test/0', 'algebra/test/1', 'botany/test/0'])
    expect(p.items[0]?.prompt, '2 shots then the item').toBe(
      'The following are multiple choice questions (with answers) about algebra.\n\n' +
        'd1\nA. one\nB. two\nC. three\nD. four\nAnswer: A\n\n' +
        'd2\nA. one\nB. two\nC. three\nD. four\nAnswer: B\n\n' +
        't1\nA. one\nB. two\nC. three\nD. four\nAnswer:',
    )
    expect(p.spec, 'spec').toMatchObject({
      kind: 'accuracy',
      dataset: 'mmlu',
      format: 'mmlu-csv',
      items: 3,
      shots: 2,
    })
    const oneShot = await prepareAccuracy(config({ limitPerSubject: 2, shots: 1 }), {
      baseDir: dir,
      scenarioSeed: 1,
      source: 's',
    })
    expect(oneShot.spec.itemsSha256, 'other prompts, other fingerprint').not.toBe(p.spec.itemsSha256)
    const again = await prepareAccuracy(config({ limitPerSubject: 2 }), {
      baseDir: dir,
      scenarioSeed: 9,
      source: 's',
    })
    expect(again.spec.itemsSha256, 'same prompts, same fingerprint').toBe(p.spec.itemsSha256)
  })

  it('names the field, the path and the fix for each mistake', async () => {
    expect(await problems({ dataset: 'missing' }), 'missing dataset').toEqual([
      expect.stringMatching(
        new RegExp(`^accuracy\\.dataset: ${join(dir, 'missing')} does not exist: .*bench fixtures`),
      ),
    ])
    expect(await problems({ dataset: 'bad.jsonl', format: 'mmlu-csv' }), 'a file for a directory').toEqual([
      expect.stringMatching(
        /^accuracy\.dataset: .*bad\.jsonl is a file; the mmlu-csv format reads a directory/,
      ),
    ])
    expect(await problems({ dataset: 'bad.jsonl', shots: 0 }), 'a bad line: file and line').toEqual([
      expect.stringMatching(/^accuracy\.dataset: .*bad\.jsonl:2: /),
    ])
    expect(await problems({ subjects: ['zoology'] }), 'unknown subject').toEqual([
      'accuracy.subjects: unknown subject zoology; known: algebra, botany',
    ])
    expect(await problems({ shots: 3 }), 'too few dev items').toEqual([
      expect.stringMatching(/^accuracy\.shots: subject algebra has 2 dev items, 3 shots asked/),
    ])
  })

  it('bench run checks every scenario’s dataset before the first run, all problems together', async () => {
    const scenario = (name: string, dataset: string) => ({
      file: join(dir, `${name}.json`),
      scenario: parseScenario({
        name,
        measure: ['accuracy'],
        accuracy: { dataset, shots: 1 },
        targets: [{ name: 't', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } }],
      }),
    })
    await expect(checkAccuracyDatasets([scenario('good', 'mmlu')]), 'a good one').resolves.toBeUndefined()
    const err = await checkAccuracyDatasets([scenario('one', 'gone-1'), scenario('two', 'gone-2')]).catch(
      (e) => e,
    )
    expect(err, 'one error').toBeInstanceOf(ScenarioError)
    expect((err as ScenarioError).message, 'both scenarios named').toMatch(
      /one\.json: accuracy\.dataset: .*gone-1[\s\S]*two\.json: accuracy\.dataset: .*gone-2/,
    )
  })
})
