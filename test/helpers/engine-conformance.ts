/**
 * One behavioural suite every engine must pass (engine.ts contract), run against openai (mock server),
 * llama-cpp and onnx on fixture models. Each skipped case names its reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine, GenerationRequest, StreamEvent } from '../../harness/engines/engine.ts'
import { EngineStartError } from '../../harness/errors.ts'

export type ConformanceCase =
  | 'streams'
  | 'max-tokens'
  | 'fixed-length'
  | 'token-counts'
  | 'abort'
  | 'deterministic'
  | 'concurrent'
  | 'start-error'

export interface ConformanceSkip {
  case: ConformanceCase
  reason: string
}

export interface ConformanceOptions {
  /** An engine whose model or endpoint does not exist; its start() must throw EngineStartError naming it. */
  createBroken?: () => Engine | Promise<Engine>
  /** What the broken engine's error message must contain (the missing file, the model id …). */
  brokenNames?: string
}

type TokenEvent = Extract<StreamEvent, { type: 'token' }>
type DoneEvent = Extract<StreamEvent, { type: 'done' }>

interface Collected {
  events: StreamEvent[]
  tokens: TokenEvent[]
  done: DoneEvent[]
  text: string
  tokenSum: number
  error?: unknown
}

export async function collect(
  iterable: AsyncIterable<StreamEvent>,
  onEvent?: (e: StreamEvent) => void,
): Promise<Collected> {
  const events: StreamEvent[] = []
  let error: unknown
  try {
    for await (const e of iterable) {
      events.push(e)
      onEvent?.(e)
    }
  } catch (err) {
    error = err
  }
  const tokens = events.filter((e): e is TokenEvent => e.type === 'token')
  return {
    events,
    tokens,
    done: events.filter((e): e is DoneEvent => e.type === 'done'),
    text: tokens.map((t) => t.text).join(''),
    tokenSum: tokens.reduce((s, t) => s + t.tokens, 0),
    ...(error !== undefined ? { error } : {}),
  }
}

const greedy = { temperature: 0 }
const PROMPT = 'abc'
const never = () => new AbortController().signal

export function engineConformance(
  name: string,
  create: () => Promise<Engine>,
  skip: ConformanceSkip[] = [],
  options: ConformanceOptions = {},
): void {
  const skipped = new Map(skip.map((s) => [s.case, s.reason]))
  const test = (c: ConformanceCase, title: string, fn: () => Promise<void>) => {
    const reason = skipped.get(c)
    if (reason !== undefined) it.skip(`${c}: ${title} — skipped: ${reason}`, fn)
    else it(`${c}: ${title}`, fn)
  }

  describe(`engine conformance: ${name}`, () => {
    let engine: Engine
    beforeAll(async () => {
      engine = await create()
      await engine.start()
    })
    afterAll(async () => {
      await engine?.[Symbol.asyncDispose]()
    })
    const run = (request: Partial<GenerationRequest>, signal = never()) =>
      collect(engine.generate({ prompt: PROMPT, maxTokens: 8, sampling: greedy, ...request }, signal))

    test('streams', 'streams ≥ 1 token event with text, then exactly one done, last', async () => {
      const r = await run({})
      expect(r.error, 'no error').toBeUndefined()
      expect(r.tokens.length, 'token events').toBeGreaterThanOrEqual(1)
      expect(r.done.length, 'exactly one done').toBe(1)
      expect(r.events.at(-1)?.type, 'done is last').toBe('done')
      for (const t of r.tokens) {
        expect(t.text.length, 'no empty content chunks').toBeGreaterThan(0)
        expect(t.tokens, 'tokens per event').toBeGreaterThanOrEqual(1)
      }
    })

    test('max-tokens', 'never generates more than maxTokens', async () => {
      const r = await run({ maxTokens: 5 })
      expect(r.error, 'no error').toBeUndefined()
      expect(r.tokenSum, 'Σ event tokens').toBeLessThanOrEqual(5)
      expect(r.done[0]?.outputTokens, 'done.outputTokens').toBeLessThanOrEqual(5)
    })

    test('fixed-length', 'with ignoreEos and minTokens generates exactly maxTokens', async () => {
      const r = await run({ maxTokens: 7, minTokens: 7, ignoreEos: true })
      expect(r.error, 'no error').toBeUndefined()
      expect(r.done[0]?.outputTokens, 'done.outputTokens').toBe(7)
      expect(r.tokenSum, 'Σ event tokens').toBe(7)
    })

    test('token-counts', 'done counts prompt and output tokens; output = Σ event tokens', async () => {
      const r = await run({ maxTokens: 6, minTokens: 6, ignoreEos: true })
      const done = r.done[0]
      expect(done?.outputTokens, 'outputTokens = Σ event tokens').toBe(r.tokenSum)
      expect(done?.promptTokens, 'promptTokens counted').toBeGreaterThan(0)
      expect(['tokenizer', 'server'], 'tokensSource').toContain(done?.tokensSource)
    })

    test(
      'abort',
      'an abort ends the stream at once with the signal reason; the engine serves the next request',
      async () => {
        const before = new AbortController()
        const early = new Error('aborted before the request')
        before.abort(early)
        const r0 = await run({}, before.signal)
        expect(r0.error, 'already-aborted signal: its reason').toBe(early)
        expect(r0.events.length, 'already-aborted signal: no events').toBe(0)

        const controller = new AbortController()
        const reason = new Error('stop now')
        let afterAbort = 0
        let seen = 0
        const r2 = await collect(
          engine.generate(
            { prompt: PROMPT, maxTokens: 1000, minTokens: 1000, ignoreEos: true, sampling: greedy },
            controller.signal,
          ),
          (e) => {
            if (controller.signal.aborted) afterAbort++
            if (e.type === 'token' && ++seen === 2) controller.abort(reason)
          },
        )
        expect(r2.error, 'mid-stream abort: the signal reason, unchanged').toBe(reason)
        expect(afterAbort, 'no event after the abort').toBe(0)
        expect(r2.done.length, 'no done after an abort').toBe(0)

        const next = await run({ maxTokens: 3 })
        expect(next.error, 'next request: no error').toBeUndefined()
        expect(next.done.length, 'next request completes').toBe(1)
      },
    )

    test('deterministic', 'greedy output is the same twice', async () => {
      const a = await run({ maxTokens: 12, minTokens: 12, ignoreEos: true })
      const b = await run({ maxTokens: 12, minTokens: 12, ignoreEos: true })
      expect(a.text.length, 'non-empty').toBeGreaterThan(0)
      expect(b.text, 'same text').toBe(a.text)
      expect(b.done[0]?.outputTokens, 'same count').toBe(a.done[0]?.outputTokens)
    })

    test('concurrent', 'concurrent greedy requests give what each gives alone', async () => {
      const prompts = ['abc', 'Hello', 'xyz']
      const alone: string[] = []
      for (const prompt of prompts)
        alone.push((await run({ prompt, maxTokens: 6, minTokens: 6, ignoreEos: true })).text)
      const together = await Promise.all(
        prompts.map((prompt) => run({ prompt, maxTokens: 6, minTokens: 6, ignoreEos: true })),
      )
      for (const [i, r] of together.entries()) {
        expect(r.error, `request ${i}: no error`).toBeUndefined()
        expect(r.text, `request ${i}: same text as alone`).toBe(alone[i])
      }
    })

    test('start-error', 'a missing model fails start() with EngineStartError naming it', async () => {
      if (!options.createBroken)
        return expect.unreachable('give createBroken or skip start-error with a reason')
      const broken = await options.createBroken()
      try {
        const error = await broken.start().then(
          () => undefined,
          (err: unknown) => err,
        )
        expect(error, 'EngineStartError').toBeInstanceOf(EngineStartError)
        if (options.brokenNames !== undefined)
          expect((error as Error).message, 'names the model').toContain(options.brokenNames)
      } finally {
        await broken[Symbol.asyncDispose]()
      }
    })
  })
}
