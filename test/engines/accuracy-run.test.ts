/**
 * Accuracy runs through the runner on a real engine (onnx, in-process, on the tiny fixture decoder) over
 * the knowledge fixture set written in the MMLU CSV layout: what the run stores for each item is what that
 * engine's own scoreChoices / greedy generate() give for the lm-eval prompt, and the figures are METRICS.md's
 * (hand-checked from the counts). Then the refusals and failures: loglik on an engine that cannot score,
 * auto falling back with a notice, a failing item recorded as data, the error threshold.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  continuationPrompt,
  fewShots,
  loadMmluCsv,
  type McDataset,
  type McItem,
  mmluPrompt,
} from '../../harness/accuracy/index.ts'
import { parseScenario, type ScenarioInput } from '../../harness/config/index.ts'
import type { Engine } from '../../harness/engines/engine.ts'
import { createOnnxEngine } from '../../harness/engines/onnx/onnx.ts'
import { CapabilityError, RequestError } from '../../harness/errors.ts'
import { buildKnowledgeSet, writeKnowledgeSet } from '../../harness/fixtures/knowledge/index.ts'
import type { MetricRow } from '../../harness/metrics/types.ts'
import { runScenario } from '../../harness/runner.ts'
import { collect } from '../helpers/engine-conformance.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

const LETTERS = [' A', ' B', ' C', ' D']
const SHOTS = 1
const PER_SUBJECT = 3

let dir: string
let modelPath: string
/** The engine the assertions ask, a separate instance from the one each run uses. */
let reference: Engine
let items: { item: McItem; prompt: string }[]
let dataset: McDataset

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-accuracy-'))
  writeKnowledgeSet(dir, buildKnowledgeSet(42))
  modelPath = (await tinyModels()).path('tiny-onnx-fp32')
  reference = createOnnxEngine({ modelPath, intraOpNumThreads: 1 })
  await reference.start()
  // The prompts by the loader, lm-eval's first-k shots and mmluPrompt: the pieces test/unit/accuracy checks.
  dataset = await loadMmluCsv(dir)
  const bySubject = new Map<string, McItem[]>()
  for (const item of dataset.test) bySubject.set(item.subject, [...(bySubject.get(item.subject) ?? []), item])
  items = [...bySubject.values()].flatMap((group) =>
    group
      .slice(0, PER_SUBJECT)
      .map((item) => ({ item, prompt: mmluPrompt(item, fewShots(dataset.dev, item.subject, SHOTS)) })),
  )
})
afterAll(async () => {
  await reference?.[Symbol.asyncDispose]()
  rmSync(dir, { recursive: true, force: true })
})

function scenario(scoring: 'loglik' | 'generate' | 'auto', extra: Partial<ScenarioInput> = {}) {
  return parseScenario({
    name: 'accuracy-run',
    measure: ['accuracy'],
    accuracy: { dataset: dir, shots: SHOTS, limitPerSubject: PER_SUBJECT, scoring },
    targets: [{ name: 'onnx', engine: { kind: 'onnx', model: modelPath, tokenizer: 'byte' } }],
    ...extra,
  })
}

/** Runs with an in-process onnx engine, optionally wrapped (to take a capability away or fail an item). */
async function run(
  scoring: 'loglik' | 'generate' | 'auto',
  wrap: (engine: Engine) => Engine = (e) => e,
  extra: Partial<ScenarioInput> = {},
) {
  const sink = createMemorySink()
  const result = await runScenario({
    scenario: scenario(scoring, extra),
    baseDir: dir,
    sink,
    monitorEventLoop: false,
    createEngine: async () => {
      const engine = createOnnxEngine({ modelPath, intraOpNumThreads: 1 })
      return {
        engine: wrap(engine),
        storedOptions: {},
        dispose: async () => await engine[Symbol.asyncDispose](),
      }
    },
  })
  return { result, run: sink.runs[0], runs: sink.runs }
}

const figure = (rows: MetricRow[] | undefined, name: string) => rows?.find((r) => r.name === name)?.value

describe('accuracy run on onnx tiny-onnx-fp32', () => {
  it('loglik: each stored prediction is the argmax of the engine’s own scores; acc and stderr as METRICS.md', async () => {
    const { result, run: stored } = await run('loglik')
    expect(result.state, 'scenario state').toBe('completed')
    expect(stored?.meta.load, 'the run says what it measured').toMatchObject({
      kind: 'accuracy',
      scoring: 'loglik',
      requestedScoring: 'loglik',
      shots: SHOTS,
      items: items.length,
      split: 'test',
    })
    expect(
      stored?.items.map((i) => i.itemId),
      'every selected item, in order',
    ).toEqual(items.map((i) => i.item.id))
    let correct = 0
    for (const [seq, { item, prompt }] of items.entries()) {
      const logliks = await reference.scoreChoices!(prompt, LETTERS)
      const best = logliks.indexOf(Math.max(...logliks))
      const row = stored?.items[seq]
      expect(row?.logliks, `item ${item.id}: stored log-likelihoods`).toEqual(logliks)
      expect(row?.predicted, `item ${item.id}: prediction = argmax`).toBe(best)
      expect(row?.correct, `item ${item.id}: correct`).toBe(best === item.answer)
      expect(row?.answer, `item ${item.id}: answer`).toBe(item.answer)
      if (best === item.answer) correct++
    }
    const n = items.length
    const acc = correct / n
    expect(figure(stored?.figures, 'accItems'), 'n').toBe(n)
    expect(figure(stored?.figures, 'acc'), 'acc = correct / n').toBeCloseTo(acc, 12)
    expect(figure(stored?.figures, 'accStderr'), 'stderr = sqrt(acc(1-acc)/(n-1))').toBeCloseTo(
      Math.sqrt((acc * (1 - acc)) / (n - 1)),
      12,
    )
    expect(figure(stored?.figures, 'accErrors'), 'no failed item').toBe(0)
    const arithmetic = items.filter((i) => i.item.subject === 'arithmetic')
    const arithmeticCorrect =
      stored?.items.filter((i) => i.subject === 'arithmetic' && i.correct).length ?? -1
    expect(figure(stored?.figures, 'acc/arithmetic'), 'per subject').toBeCloseTo(
      arithmeticCorrect / arithmetic.length,
      12,
    )
    expect(result.runs[0]?.accuracy?.acc, 'the result the CLI prints').toBeCloseTo(acc, 12)
    const starts = stored?.items.map((i) => i.startedAt) ?? []
    expect(starts[0], 'item 0 starts at the run origin (ms)').toBeGreaterThanOrEqual(0)
    expect(starts[0], 'item 0 starts at the run origin (ms)').toBeLessThan(1000)
    expect(
      starts.every((t, i) => i === 0 || t >= (starts[i - 1] ?? 0) + (stored?.items[i - 1]?.durationMs ?? 0)),
      'one at a time: each starts after the previous ended',
    ).toBe(true)
  })

  it('generate: the stored text is the engine’s greedy answer and the prediction its letter', async () => {
    const { result, run: stored } = await run('generate')
    expect(result.state, 'scenario state').toBe('completed')
    expect(stored?.meta.load, 'scoring stored').toMatchObject({ kind: 'accuracy', scoring: 'generate' })
    for (const [seq, { item, prompt }] of items.entries()) {
      const { text } = await collect(
        reference.generate(
          { prompt, maxTokens: 5, sampling: { temperature: 0, stop: ['\n'] } },
          new AbortController().signal,
        ),
      )
      const row = stored?.items[seq]
      expect(row?.generated, `item ${item.id}: generated text`).toBe(text)
      expect(row?.logliks, `item ${item.id}: no scores in generate mode`).toBeUndefined()
      expect(row?.correct, `item ${item.id}: correct iff the named letter is the answer`).toBe(
        row?.predicted === item.answer,
      )
    }
  })

  it('mmlu-continuation: acc is the argmax of the choice texts’ scores, acc_norm of score / length', async () => {
    const sink = createMemorySink()
    const input = scenario('loglik')
    const result = await runScenario({
      scenario: { ...input, accuracy: { ...input.accuracy!, prompt: 'mmlu-continuation' } },
      baseDir: dir,
      sink,
      monitorEventLoop: false,
      createEngine: async () => {
        const engine = createOnnxEngine({ modelPath, intraOpNumThreads: 1 })
        return { engine, storedOptions: {}, dispose: async () => await engine[Symbol.asyncDispose]() }
      },
    })
    expect(result.state, 'completed').toBe('completed')
    const stored = sink.runs[0]
    let norm = 0
    for (const [seq, { item }] of items.entries()) {
      const prompt = continuationPrompt(item, fewShots(dataset.dev, item.subject, SHOTS))
      const logliks = await reference.scoreChoices!(
        prompt,
        item.choices.map((c) => ` ${c}`),
      )
      const perChar = logliks.map((l, i) => l / [...(item.choices[i] ?? '')].length)
      const row = stored?.items[seq]
      expect(row?.logliks, `item ${item.id}: scores of the choice texts`).toEqual(logliks)
      expect(row?.predicted, `item ${item.id}: acc's choice`).toBe(logliks.indexOf(Math.max(...logliks)))
      const best = perChar.indexOf(Math.max(...perChar))
      expect(row?.predictedNorm, `item ${item.id}: acc_norm's choice`).toBe(best)
      if (best === item.answer) norm++
    }
    expect(figure(stored?.figures, 'accNorm'), 'acc_norm = right by norm / n').toBeCloseTo(
      norm / items.length,
      12,
    )
  })

  it('runs after the target’s load steps, as a run of its own; a target that cannot start fails both', async () => {
    const sink = createMemorySink()
    const result = await runScenario({
      scenario: parseScenario({
        ...scenario('loglik'),
        measure: ['latency', 'accuracy'],
        prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
        loads: [{ kind: 'sequential', requests: 2 }],
        warmupRequests: 0,
        targets: [
          { name: 'onnx', engine: { kind: 'onnx', model: modelPath, tokenizer: 'byte', isolate: false } },
          {
            name: 'missing',
            engine: { kind: 'onnx', model: join(dir, 'missing.onnx'), tokenizer: 'byte', isolate: false },
          },
        ],
      }),
      baseDir: dir,
      sink,
      monitorEventLoop: false,
    })
    expect(
      result.runs.map((r) => [r.target, r.load.kind, r.loadIndex, r.state]),
      'load then accuracy per target; the missing model fails both',
    ).toEqual([
      ['onnx', 'sequential', 0, 'completed'],
      ['onnx', 'accuracy', 1, 'completed'],
      ['missing', 'sequential', 0, 'failed'],
      ['missing', 'accuracy', 1, 'failed'],
    ])
    expect(sink.runs[1]?.items, 'the accuracy run’s items').toHaveLength(items.length)
    expect(sink.runs[1]?.meta.scenario.hash, 'the accuracy run’s hash is its own').not.toBe(
      sink.runs[0]?.meta.scenario.hash,
    )
    const accuracyOnly = await run('loglik')
    expect(
      accuracyOnly.run?.meta.scenario.hash,
      'and the same without the load steps: adding loads keeps the accuracy series',
    ).toBe(sink.runs[1]?.meta.scenario.hash)
    expect(sink.runs[0]?.items, 'the load run has none').toEqual([])
    expect(result.runs[3]?.error, 'why').toMatch(/missing\.onnx/)
  })

  it('loglik on an engine that cannot score fails the run with its reason and no figure', async () => {
    const { result, run: stored } = await run('loglik', (engine) =>
      Object.assign(Object.create(engine) as Engine, {
        scoreChoices: async () => {
          throw new CapabilityError('scoreChoices', 'this endpoint returns no prompt logprobs')
        },
      }),
    )
    expect(result.state, 'scenario failed').toBe('failed')
    expect(stored?.state, 'run failed').toBe('failed')
    expect(stored?.error, 'the engine’s message').toMatch(/this endpoint returns no prompt logprobs/)
    expect(stored?.figures, 'no accuracy at all, never a chance-level figure').toBeUndefined()
    expect(stored?.items, 'no item').toEqual([])
  })

  it('loglik on an engine without scoreChoices is refused, naming what to use instead', async () => {
    const { run: stored } = await run('loglik', (engine) =>
      Object.assign(Object.create(engine) as Engine, { scoreChoices: undefined }),
    )
    expect(stored?.state, 'failed').toBe('failed')
    expect(stored?.error, 'why and what to do').toBe(
      "the onnx engine cannot score choices by log-likelihood (no scoreChoices); use scoring: 'generate' (or 'auto') for this target",
    )
    expect(stored?.items, 'nothing scored').toEqual([])
  })

  it('an item past requestTimeoutMs is recorded as a timeout and the next item goes on', async () => {
    let calls = 0
    const { run: stored } = await run(
      'loglik',
      (engine) =>
        Object.assign(Object.create(engine) as Engine, {
          scoreChoices: (prompt: string, choices: string[]) =>
            ++calls === 3 ? new Promise<number[]>(() => {}) : engine.scoreChoices!(prompt, choices),
        }),
      { requestTimeoutMs: 300, maxErrorRate: 0.5 },
    )
    expect(stored?.items[2]?.error, 'item 2').toEqual({ kind: 'timeout', message: 'no scores within 300 ms' })
    expect(stored?.items[2]?.durationMs, 'cut at the timeout (ms)').toBeGreaterThanOrEqual(299)
    expect(stored?.items[3]?.correct, 'item 3 scored').not.toBeNull()
    expect(stored?.state, 'within maxErrorRate').toBe('completed')
  })

  it('auto falls back to generate with a notice saying why', async () => {
    const notices: string[] = []
    const sink = createMemorySink()
    const result = await runScenario({
      scenario: scenario('auto'),
      baseDir: dir,
      sink,
      monitorEventLoop: false,
      onEvent: (e) => {
        if (e.type === 'notice') notices.push(e.message)
      },
      createEngine: async () => {
        const engine = createOnnxEngine({ modelPath, intraOpNumThreads: 1 })
        const wrapped = Object.assign(Object.create(engine) as Engine, {
          scoreChoices: async () => {
            throw new CapabilityError('scoreChoices', 'no prompt logprobs here')
          },
        })
        return {
          engine: wrapped,
          storedOptions: {},
          dispose: async () => await engine[Symbol.asyncDispose](),
        }
      },
    })
    expect(result.state, 'completed').toBe('completed')
    expect(sink.runs[0]?.meta.load, 'stored as generate, asked as auto').toMatchObject({
      scoring: 'generate',
      requestedScoring: 'auto',
    })
    expect(notices, 'one notice with the reason').toEqual([expect.stringMatching(/no prompt logprobs here/)])
    expect(result.runs[0]?.accuracy?.notice, 'in the result the table prints').toMatch(
      /no prompt logprobs here/,
    )
    expect(
      sink.runs[0]?.items.every((i) => i.generated !== undefined),
      'every item generated',
    ).toBe(true)
  })

  it('a failing item is recorded with its error; above maxErrorRate the run fails, items kept', async () => {
    const failSecond = (engine: Engine): Engine => {
      let calls = 0
      return Object.assign(Object.create(engine) as Engine, {
        scoreChoices: async (prompt: string, choices: string[]) => {
          if (++calls === 2) throw new RequestError('engine', 'scoring blew up')
          return engine.scoreChoices!(prompt, choices)
        },
      })
    }
    const strict = await run('loglik', failSecond)
    const failed = strict.run?.items[1]
    expect(failed?.error, 'the item keeps its error').toEqual({ kind: 'engine', message: 'scoring blew up' })
    expect(failed?.correct, 'not scored').toBeNull()
    expect(strict.run?.items, 'every item recorded').toHaveLength(items.length)
    expect(strict.run?.state, 'over the default 1 %').toBe('failed')
    expect(strict.run?.error, 'says why').toMatch(
      new RegExp(`^item error rate 8\\.3 % \\(1 of ${items.length}\\) > max 1 %: engine ×1$`),
    )
    expect(figure(strict.run?.figures, 'accItems'), 'acc over the scored items').toBe(items.length - 1)
    const lenient = await run('loglik', failSecond, { maxErrorRate: 0.1 })
    expect(lenient.run?.state, 'within 10 %').toBe('completed')
  })
})
