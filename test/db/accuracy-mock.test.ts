/**
 * Must show (issue 16): on the mock configured to answer right with probability p, the accuracy that a
 * scenario's accuracy run measures and stores lies within the binomial 99 % interval of p over n seeded
 * items — by log-likelihood (the vllm personality's echo + prompt logprobs) and by generation — through
 * the runner and the database sink, read back from the database. And an interrupted accuracy run keeps
 * every item it scored.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAccuracyItems } from '../../db/accuracy-items.ts'
import { runMetrics, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { parseScenario } from '../../harness/config/index.ts'
import { RunInterrupted, runScenario } from '../../harness/runner.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { binomialInterval99, type McKey, writeMcKey } from '../helpers/mc-key.ts'

const P = 0.7
/** Items: 2 subjects × 50. */
const PER_SUBJECT = 50
const N = 2 * PER_SUBJECT

let key: McKey
beforeAll(() => {
  key = writeMcKey({ subjects: 2, perSubject: PER_SUBJECT, seed: 9 })
})

function scenario(
  scoring: 'loglik' | 'generate',
  personality: 'vllm' | 'default',
  ttftMs = 0,
  concurrency = 1,
) {
  return parseScenario({
    name: 'accuracy-mock',
    measure: ['accuracy'],
    accuracy: { dataset: key.file, scoring, concurrency },
    targets: [
      {
        name: `mock-${scoring}`,
        engine: {
          kind: 'openai',
          model: 'mock-model',
          api: 'completions',
          mock: {
            personality,
            ttft: { kind: 'fixed', ms: ttftMs },
            itl: { kind: 'fixed', ms: 0 },
            answers: { p: P, key: key.file, seed: 3 },
          },
        },
      },
    ],
  })
}

describe.each(dbBackends())('accuracy of the answering mock on %s', (backend) => {
  let t: TestDatabase
  /** The generate run's items (one at a time, on the default mock): the reference of the 4-at-a-time case. */
  let generatedOneAtATime: Awaited<ReturnType<typeof listAccuracyItems>> | undefined
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it.each([
    ['loglik', 'vllm'],
    ['generate', 'default'],
  ] as const)(
    '%s on the %s mock: stored acc within the binomial 99-percent interval of p',
    async (scoring, personality) => {
      const sink = createPostgresSink(t.db, { flushIntervalMs: 20 })
      const result = await runScenario({
        scenario: scenario(scoring, personality),
        baseDir: '/',
        sink,
        monitorEventLoop: false,
      })
      await sink.close()
      expect(result.state, `${result.runs[0]?.error ?? ''}`).toBe('completed')
      const id = Number(result.runs[0]?.runId)
      const [run] = await t.db.select().from(runs).where(eq(runs.id, id))
      expect(run?.state, 'run completed').toBe('completed')
      expect(run?.load, 'scoring stored').toMatchObject({ kind: 'accuracy', scoring, items: N })
      const items = await listAccuracyItems(t.db, id)
      expect(items, 'every item stored').toHaveLength(N)
      if (scoring === 'generate') generatedOneAtATime = items
      expect(
        items.filter((i) => i.errorKind !== null),
        'no failed item',
      ).toEqual([])
      if (scoring === 'loglik')
        expect(
          items.every((i) => i.logliks?.length === 4),
          'scores kept',
        ).toBe(true)
      else
        expect(
          items.every((i) => typeof i.generated === 'string'),
          'text kept',
        ).toBe(true)
      const correct = items.filter((i) => i.correct).length
      const { lo, hi } = binomialInterval99(N, P)
      expect(correct, `correct of ${N} within [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo)
      expect(correct, `correct of ${N} within [${lo}, ${hi}]`).toBeLessThanOrEqual(hi)
      const metrics = await t.db.select().from(runMetrics).where(eq(runMetrics.runId, id))
      const acc = metrics.find((m) => m.name === 'acc')
      expect(acc?.value, 'stored acc = stored correct / n').toBeCloseTo(correct / N, 12)
      expect(acc?.n, 'n').toBe(N)
    },
  )

  it('items scored 4 at a time: the same answers, stored by their place in the selection', async () => {
    const runWith = async (concurrency: number) => {
      const sink = createPostgresSink(t.db, { flushIntervalMs: 20 })
      const result = await runScenario({
        scenario: scenario('generate', 'default', 2, concurrency),
        baseDir: '/',
        sink,
        monitorEventLoop: false,
      })
      await sink.close()
      return listAccuracyItems(t.db, Number(result.runs[0]?.runId))
    }
    // One at a time: the generate case's run when it ran (the mock's answers depend on the item and the
    // seed, not on timing, so its ttft of 0 ms does not matter), else a run of its own.
    const one = generatedOneAtATime ?? (await runWith(1))
    const four = await runWith(4)
    const answers = (rows: typeof one) => rows.map((r) => [r.seq, r.itemId, r.predicted, r.generated])
    expect(answers(four), 'same items, same answers, seq 0..n−1').toEqual(answers(one))
    const overlapping = four.some(
      (r, i) => i > 0 && r.startedAtMs < (four[i - 1]?.startedAtMs ?? 0) + (four[i - 1]?.durationMs ?? 0),
    )
    expect(overlapping, 'scored at the same time').toBe(true)
  })

  it('an interrupted accuracy run keeps every item it scored, and reads interrupted', async () => {
    const sink = createPostgresSink(t.db, { flushIntervalMs: 20 })
    const controller = new AbortController()
    let seen = 0
    const result = await runScenario({
      scenario: scenario('generate', 'default', 5),
      baseDir: '/',
      sink,
      monitorEventLoop: false,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'item' && ++seen === 10) controller.abort(new RunInterrupted('test interrupt'))
      },
    })
    await sink.close()
    expect(result.state, 'scenario interrupted').toBe('interrupted')
    const id = Number(result.runs[0]?.runId)
    const [run] = await t.db.select().from(runs).where(eq(runs.id, id))
    expect(run?.state, 'run interrupted').toBe('interrupted')
    const items = await listAccuracyItems(t.db, id)
    expect(
      items.map((i) => i.seq),
      'the items scored before the interrupt, none aborted',
    ).toEqual(Array.from({ length: 10 }, (_, i) => i))
    const stored = await t.db.select().from(runMetrics).where(eq(runMetrics.runId, id))
    expect(stored.find((m) => m.name === 'accItems')?.value, 'figures over what was scored').toBe(10)
  })
})
