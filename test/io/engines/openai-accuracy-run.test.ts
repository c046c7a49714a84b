/**
 * Accuracy runs through the runner on `mock:` targets with the answers option (p = 0.7, 300 seeded
 * items, 5 shots): each stored prediction is the letter the mock chose for that item, and acc lies in the
 * binomial 99 % interval of p — by echo (vllm personality), the next token's top-k (llama-server
 * personality) and, where the endpoint cannot score (the default personality), `auto` falling back to
 * generate with a notice, `loglik` failing the run with the engine's CapabilityError message.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { McItem } from '../../../harness/accuracy/types.ts'
import { parseScenario } from '../../../harness/config/index.ts'
import { type AnswerKey, loadAnswerKey } from '../../../harness/mock-server/answers.ts'
import { runScenario } from '../../../harness/runner.ts'
import { binomialInterval99, type McKey, writeMcKey } from '../../helpers/mc-key.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

const P = 0.7
const SEED = 11
const PERSONALITIES = ['vllm', 'llama-server', 'default'] as const

let key: McKey
let answerKey: AnswerKey
let byId: Map<string, McItem>
beforeAll(async () => {
  key = writeMcKey({ subjects: 3, perSubject: 100, seed: 5 })
  answerKey = await loadAnswerKey({ p: P, key: key.file, seed: SEED }, 1)
  byId = new Map(key.dataset.test.map((item) => [item.id, item]))
})

async function run(scoring: 'auto' | 'loglik') {
  const sink = createMemorySink()
  const notices: string[] = []
  const scenario = parseScenario({
    name: 'mock-accuracy',
    measure: ['accuracy'],
    accuracy: { dataset: key.file, shots: 5, scoring },
    targets: PERSONALITIES.map((personality) => ({
      name: `mock-${personality}`,
      engine: {
        kind: 'openai',
        model: 'mock-model',
        api: 'completions',
        mock: {
          personality,
          ttft: { kind: 'fixed', ms: 0 },
          itl: { kind: 'fixed', ms: 0 },
          answers: { p: P, key: key.file, seed: SEED },
        },
      },
    })),
  })
  const result = await runScenario({
    scenario,
    baseDir: '/',
    sink,
    monitorEventLoop: false,
    onEvent: (e) => {
      if (e.type === 'notice') notices.push(`${e.target}: ${e.message}`)
    },
  })
  return { result, sink, notices }
}

describe('accuracy runs on mock targets with answers p = 0.7', () => {
  it('auto: loglik by echo and by next token, generate where the endpoint cannot score; acc in the 99 % interval', async () => {
    const { result, sink, notices } = await run('auto')
    expect(result.state, 'scenario').toBe('completed')
    const { lo, hi } = binomialInterval99(300, P)
    const expected = { 'mock-vllm': 'loglik', 'mock-llama-server': 'loglik', 'mock-default': 'generate' }
    for (const r of result.runs) {
      const label = r.target
      expect(r.state, `${label}: completed`).toBe('completed')
      expect(r.accuracy?.scoring, `${label}: scoring used`).toBe(expected[label as keyof typeof expected])
      expect(r.accuracy?.n, `${label}: items scored`).toBe(300)
      const correct = r.accuracy?.correct ?? -1
      expect(correct, `${label}: ${correct}/300 in [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo)
      expect(correct, `${label}: ${correct}/300 in [${lo}, ${hi}]`).toBeLessThanOrEqual(hi)
    }
    for (const stored of sink.runs)
      for (const row of stored.items) {
        const item = byId.get(row.itemId)!
        expect(row.predicted, `${row.itemId}: the mock's letter`).toBe(answerKey.choose(item))
      }
    expect(notices.length, 'one notice').toBe(1)
    expect(notices[0], 'the default mock falls back, saying why').toMatch(
      /^mock-default: loglik scoring unavailable: .*refused echo .*no token ids.*scoring by generation instead$/,
    )
  }, 120_000)

  it('loglik: the endpoint that cannot score fails its run with the engine’s message; the others complete', async () => {
    const { result } = await run('loglik')
    expect(result.state, 'scenario').toBe('failed')
    const byTarget = new Map(result.runs.map((r) => [r.target, r]))
    expect(byTarget.get('mock-vllm')?.state, 'vllm').toBe('completed')
    expect(byTarget.get('mock-llama-server')?.state, 'llama-server').toBe('completed')
    const refused = byTarget.get('mock-default')
    expect(refused?.state, 'default: failed').toBe('failed')
    expect(refused?.error, 'says what the endpoint lacks and what to use').toMatch(
      /\/v1\/completions cannot score choices by log-likelihood: .* Use scoring: 'generate' for this endpoint/,
    )
  }, 120_000)
})
