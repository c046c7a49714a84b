import { describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_ERROR_RATE,
  defineScenario,
  parseScenario,
  scenarioHash,
} from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'

const base = defineScenario({
  name: 'unit-max-error-rate',
  prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
  targets: [{ name: 'a', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } }],
  loads: [{ kind: 'sequential', requests: 4 }],
})

function messagesOf(input: unknown): string[] {
  try {
    parseScenario(input, 'test')
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues.map((i) => `${i.path}: ${i.message}`)
    throw err
  }
  return expect.unreachable('scenario should be invalid')
}

describe('scenario maxErrorRate', () => {
  it('is optional (the runner applies DEFAULT_MAX_ERROR_RATE, 1 %) and accepts 0 and 1', () => {
    expect(parseScenario(base).maxErrorRate, 'absent').toBeUndefined()
    expect(DEFAULT_MAX_ERROR_RATE, 'default').toBe(0.01)
    expect(parseScenario({ ...base, maxErrorRate: 0 }).maxErrorRate, '0').toBe(0)
    expect(parseScenario({ ...base, maxErrorRate: 1 }).maxErrorRate, '1').toBe(1)
  })

  it('outside [0, 1] or not a number is refused, naming the field', () => {
    expect(messagesOf({ ...base, maxErrorRate: 5 }), 'a percentage by mistake').toEqual([
      'maxErrorRate: must be ≤ 1, got 5',
    ])
    expect(messagesOf({ ...base, maxErrorRate: -0.1 }), 'negative').toEqual([
      'maxErrorRate: must be ≥ 0, got -0.1',
    ])
    expect(messagesOf({ ...base, maxErrorRate: '1%' }), 'a string').toEqual([
      'maxErrorRate: expected a number, got "1%"',
    ])
  })

  it('does not enter the scenario hash: it judges runs, it does not change what they measure', () => {
    expect(scenarioHash(parseScenario({ ...base, maxErrorRate: 0.2 })), 'same history').toBe(
      scenarioHash(parseScenario(base)),
    )
  })
})
