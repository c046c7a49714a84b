/**
 * The scenario's `measure` and `accuracy` fields: defaults that leave existing scenarios unchanged (and
 * their scenario hash, so their histories go on), and one clear issue per mistake, naming the field.
 */
import { describe, expect, it } from 'vitest'
import { defineScenario, parseScenario, scenarioHash } from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'

const target = {
  name: 'a',
  engine: { kind: 'openai' as const, baseUrl: 'http://127.0.0.1:9/v1', model: 'm' },
}
const latency = defineScenario({
  name: 'acc-config',
  prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 8 },
  targets: [target],
  loads: [{ kind: 'sequential', requests: 3 }],
})

function issuesOf(input: unknown): string[] {
  try {
    parseScenario(input, 'test')
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues.map((i) => `${i.path}: ${i.message}`)
    throw err
  }
  return expect.unreachable('scenario should be invalid')
}

describe('measure and accuracy', () => {
  it('default to latency only, and leave the scenario hash as it was', () => {
    const s = parseScenario(latency)
    expect(s.measure, 'measure default').toEqual(['latency'])
    expect(s.accuracy, 'no accuracy').toBeUndefined()
    const withAccuracy = parseScenario({
      ...latency,
      measure: ['latency', 'accuracy'],
      accuracy: { dataset: 'mmlu' },
    })
    expect(scenarioHash(withAccuracy), 'an accuracy run beside the loads changes no latency series').toBe(
      scenarioHash(s),
    )
  })

  it('fill the accuracy defaults (test split, 5 shots, auto scoring, first items)', () => {
    const s = parseScenario({
      name: 'acc-only',
      targets: [target],
      measure: ['accuracy'],
      accuracy: { dataset: 'd' },
    })
    expect(s.accuracy, 'defaults').toEqual({
      dataset: 'd',
      split: 'test',
      shots: 5,
      prompt: 'mmlu',
      concurrency: 1,
      order: 'first',
      scoring: 'auto',
    })
    expect(s.loads, 'an accuracy-only scenario needs no loads').toEqual([])
    expect(s.prompts, 'nor prompts').toBeUndefined()
  })

  it('say which field is missing or wrong', () => {
    expect(issuesOf({ ...latency, measure: ['accuracy'] }), 'accuracy measured, not described').toEqual([
      expect.stringMatching(/^accuracy: measure has 'accuracy' but no accuracy evaluation is described/),
    ])
    expect(issuesOf({ ...latency, accuracy: { dataset: 'd' } }), 'described, not measured').toEqual([
      expect.stringMatching(/^measure: accuracy is described but not measured/),
    ])
    expect(
      issuesOf({
        name: 'x',
        targets: [target],
        measure: ['latency', 'accuracy'],
        accuracy: { dataset: 'd' },
      }),
      'latency without prompts and loads',
    ).toEqual([
      expect.stringMatching(/^prompts: required to measure latency/),
      'loads: add at least one load',
    ])
    expect(
      issuesOf({
        ...latency,
        measure: ['latency', 'accuracy'],
        accuracy: { dataset: 'd', scoring: 'logprobs', shots: -1, split: 'train', limitPerSubject: 0 },
      }),
      'bad accuracy fields',
    ).toEqual([
      expect.stringMatching(/^accuracy\.split: /),
      expect.stringMatching(/^accuracy\.shots: must be ≥ 0, got -1/),
      expect.stringMatching(/^accuracy\.limitPerSubject: must be > 0, got 0/),
      expect.stringMatching(/^accuracy\.scoring: /),
    ])
    expect(
      issuesOf({
        name: 'x',
        targets: [target],
        measure: ['accuracy'],
        accuracy: { dataset: 'd', prompt: 'mmlu-continuation' },
      }),
      'continuation scored by generation',
    ).toEqual([
      "accuracy.scoring: prompt 'mmlu-continuation' scores each choice's text by log-likelihood: set scoring: 'loglik' (got 'auto')",
    ])
    expect(issuesOf({ ...latency, measure: ['speed'] })[0], 'unknown measure').toMatch(/^measure\[0\]: /)
  })
})
