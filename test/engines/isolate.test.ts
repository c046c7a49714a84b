/**
 * Native engines in a child process (harness/engines/isolate) on the tiny fixtures: the shared conformance
 * suite through the process boundary, child-side token stamps, memory, and deterministic greedy output
 * across two separate engine processes. Crashes and hangs: isolate-faults.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createIsolatedEngine,
  type IsolatedEngine,
  type IsolateOptions,
} from '../../harness/engines/isolate/index.ts'
import { collect, engineConformance } from '../helpers/engine-conformance.ts'
import { tinyModels } from '../helpers/fixture-models.ts'

const never = () => new AbortController().signal
const greedy = { temperature: 0 }
const nowMs = () => performance.timeOrigin + performance.now()

async function llama(name: string, isolate: IsolateOptions = {}, parallel = 1): Promise<IsolatedEngine> {
  const modelPath = (await tinyModels()).path(name)
  return createIsolatedEngine({ kind: 'llama-cpp', options: { modelPath, threads: 1, parallel } }, isolate)
}

engineConformance('isolated llama-cpp tiny-f32, 2 sequences', () => llama('tiny-f32', {}, 2), [], {
  createBroken: () =>
    createIsolatedEngine({
      kind: 'llama-cpp',
      options: { modelPath: '/nonexistent/missing-model.gguf', threads: 1 },
    }),
  brokenNames: 'missing-model.gguf',
})
engineConformance(
  'isolated onnx tiny-onnx-fp32',
  async () =>
    createIsolatedEngine({
      kind: 'onnx',
      options: { modelPath: (await tinyModels()).path('tiny-onnx-fp32'), intraOpNumThreads: 1 },
    }),
  [],
  {
    createBroken: () =>
      createIsolatedEngine({
        kind: 'onnx',
        options: { modelPath: '/nonexistent/missing-model.onnx', intraOpNumThreads: 1 },
      }),
    brokenNames: 'missing-model.onnx',
  },
)

describe('isolated llama-cpp engine', () => {
  let engine: IsolatedEngine
  beforeAll(async () => {
    engine = await llama('tiny-f32')
    await engine.start()
  })
  afterAll(async () => {
    await engine?.[Symbol.asyncDispose]()
  })

  it('runs in another process and describes the model it loaded there', () => {
    expect(engine.isolate.state, 'state').toBe('ready')
    expect(engine.isolate.pid, 'a child pid').not.toBe(process.pid)
    expect(engine.info.model, 'model').toBe('tiny-f32.gguf')
    expect(engine.info.engineVersion, 'version from the child').toMatch(
      /^node-llama-cpp 3\.21\.1 \(llama\.cpp/,
    )
    expect(engine.info.capabilities.memory, 'reports memory').toBe(true)
  })

  it('stamps each token in the child: after the send, before the arrival, in order', async () => {
    const arrivals: number[] = []
    const sentAt = nowMs()
    const r = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 8, sampling: greedy }, never()),
      (e) => e.type === 'token' && arrivals.push(nowMs()),
    )
    expect(r.text, 'text').toBe('defghijk')
    const stamps = r.tokens.map((t) => t.atMs)
    expect(
      stamps.every((s) => typeof s === 'number'),
      'every token event has atMs',
    ).toBe(true)
    for (const [i, s] of (stamps as number[]).entries()) {
      expect(s, `token ${i} stamped after the send`).toBeGreaterThanOrEqual(sentAt)
      expect(s, `token ${i} stamped before it arrived`).toBeLessThanOrEqual(arrivals[i]!)
      if (i > 0) expect(s, `token ${i} not before token ${i - 1}`).toBeGreaterThanOrEqual(stamps[i - 1]!)
    }
    const stats = engine.isolate.stats()
    expect(stats.tokenLatency.n, 'token latencies recorded').toBeGreaterThanOrEqual(8)
    expect(stats.sendLatency.n, 'send latencies recorded').toBeGreaterThanOrEqual(1)
    expect(stats.clock?.rttMs, 'clock checked by ping').toBeGreaterThan(0)
  })

  it('reports its memory: load figures, model size, and a peak per window', async () => {
    const first = await engine.memory()
    expect(first.modelBytes, 'model file size').toBe(statSync((await tinyModels()).path('tiny-f32')).size)
    expect(first.loadMs, 'load time').toBeGreaterThan(0)
    expect(first.loadRssBytes, 'RSS after load').toBeGreaterThan(0)
    expect(first.loadPeakRssBytes, 'load peak ≥ RSS after load').toBeGreaterThanOrEqual(first.loadRssBytes!)
    await collect(
      engine.generate({ prompt: 'abc', maxTokens: 200, minTokens: 200, ignoreEos: true }, never()),
    )
    const window = await engine.memory()
    expect(window.peakRssBytes, 'peak in the window').toBeGreaterThan(0)
    expect(window.rssSamples, 'sampled').toBeGreaterThanOrEqual(1)
    expect(window.loadMs, 'load figures stay').toBe(first.loadMs)
  })

  it('scores choices and top log-probabilities in the child', async () => {
    const [d, x] = await engine.scoreChoices!('abc', ['d', 'x'])
    expect(d, 'P(d | abc) > 0.99').toBeGreaterThan(Math.log(0.99))
    expect(x, 'x unlikely').toBeLessThan(Math.log(0.01))
    const positions = await engine.topLogprobs!('abc', 2)
    expect(
      positions.slice(1).map((p) => p[0]?.token),
      'next byte predicted after a, b, c',
    ).toEqual(['b', 'c', 'd'])
  })
})

describe('isolated llama-cpp nativeSpeed', () => {
  it('runs pp / tg in the child with the options the child was given', async () => {
    const modelPath = (await tinyModels()).path('tiny-q4_0')
    await using engine = createIsolatedEngine({
      kind: 'llama-cpp',
      options: { modelPath, threads: 1, contextSize: 256, batchSize: 32, flashAttention: false },
    })
    await engine.start()
    const r = await engine.nativeSpeed!({ pp: 32, tg: 4, repetitions: 2 })
    expect(r.pp?.samplesTs.length, 'pp repetitions').toBe(2)
    expect(r.tg?.samplesTs.length, 'tg repetitions').toBe(2)
    expect(r.tg?.avgTs, 'tg tokens/s').toBeGreaterThan(0)
    expect(r.settings, "the child's node-llama-cpp settings").toMatchObject({
      threads: 1,
      batchSize: 32,
      flashAttention: false,
      contextSize: 256,
    })
    const g = await collect(engine.generate({ prompt: 'abc', maxTokens: 4, sampling: greedy }, never()))
    expect(g.text, 'requests still run').toBe('defg')
  })

  it('cpus pins every thread of the engine process (taskset), the decoding pool thread included', async () => {
    const allowed = (path: string) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(path, 'utf8'))?.[1]
    if (allowed('/proc/self/status') === undefined) return // no /proc
    await using engine = createIsolatedEngine({
      kind: 'llama-cpp',
      options: { modelPath: (await tinyModels()).path('tiny-q4_0'), threads: 1, cpus: [0] },
    })
    await engine.start()
    const g = await collect(engine.generate({ prompt: 'abc', maxTokens: 4, sampling: greedy }, never()))
    expect(g.text, 'generates').toBe('defg')
    const pid = engine.isolate.pid
    const tasks = readdirSync(`/proc/${pid}/task`)
    expect(tasks.length, 'the child has its pool threads by now').toBeGreaterThan(1)
    for (const tid of tasks) expect(allowed(`/proc/${pid}/task/${tid}/status`), `thread ${tid}`).toBe('0')
  })

  it('is not offered by the onnx engine', async () => {
    const engine = createIsolatedEngine({
      kind: 'onnx',
      options: { modelPath: (await tinyModels()).path('tiny-onnx-fp32'), intraOpNumThreads: 1 },
    })
    expect(engine.nativeSpeed, 'onnx: no nativeSpeed').toBeUndefined()
  })
})

describe('greedy decoding across two engine processes', () => {
  for (const [kind, name] of [
    ['llama-cpp', 'tiny-random-f32'],
    ['onnx', 'tiny-random-onnx-fp32'],
  ] as const) {
    it(`${kind} ${name}: the same tokens from two separate child processes`, async () => {
      const modelPath = (await tinyModels()).path(name)
      // Both processes at once: two child starts overlap instead of adding up; each its own model load.
      const runs = await Promise.all(
        [0, 1].map(async () => {
          const engine = createIsolatedEngine(
            kind === 'llama-cpp'
              ? { kind, options: { modelPath, threads: 1 } }
              : { kind, options: { modelPath, intraOpNumThreads: 1 } },
          )
          try {
            await engine.start()
            const pid = engine.isolate.pid!
            const r = await collect(
              engine.generate(
                {
                  prompt: 'The quick brown fox',
                  maxTokens: 48,
                  minTokens: 48,
                  ignoreEos: true,
                  sampling: greedy,
                },
                never(),
              ),
            )
            return { pid, text: r.text }
          } finally {
            await engine[Symbol.asyncDispose]()
          }
        }),
      )
      const pids = runs.map((r) => r.pid)
      const texts = runs.map((r) => r.text)
      expect(pids[1], 'two processes').not.toBe(pids[0])
      expect(texts[0]?.length, 'non-empty').toBeGreaterThan(0)
      expect(texts[1], 'same text').toBe(texts[0])
    })
  }
})
