/**
 * The llama-cpp engine on the tiny generated GGUF fixtures: the shared conformance suite (F32 with two
 * sequences, Q4_0 with one, so concurrent requests queue), then what is specific to it: next-byte output,
 * EOS / minTokens / ignoreEos, stop strings, probabilities, corrupt files, and a run through the runner.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { LlamaContextSequence } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatTable } from '../../harness/cli/format.ts'
import { parseScenario } from '../../harness/config/index.ts'
import type { Engine } from '../../harness/engines/engine.ts'
import { createLlamaCppEngine, type LlamaCppEngine } from '../../harness/engines/llama-cpp/llama-cpp.ts'
import { EngineStartError } from '../../harness/errors.ts'
import { flattenMetrics } from '../../harness/metrics/flatten.ts'
import { runScenario } from '../../harness/runner.ts'
import { collect, engineConformance } from '../helpers/engine-conformance.ts'
import { eosModels, tinyModels } from '../helpers/fixture-models.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

const broken = {
  createBroken: () => createLlamaCppEngine({ modelPath: '/nonexistent/missing-model.gguf', threads: 1 }),
  brokenNames: 'missing-model.gguf',
}
engineConformance(
  'llama-cpp tiny-f32, 2 sequences',
  async () =>
    createLlamaCppEngine({ modelPath: (await tinyModels()).path('tiny-f32'), threads: 1, parallel: 2 }),
  [],
  broken,
)
engineConformance(
  'llama-cpp tiny-q4_0, 1 sequence (requests queue)',
  async () => createLlamaCppEngine({ modelPath: (await tinyModels()).path('tiny-q4_0'), threads: 1 }),
  [],
  broken,
)

const never = () => new AbortController().signal

describe('llama-cpp engine on tiny-f32', () => {
  let engine: Engine
  beforeAll(async () => {
    engine = createLlamaCppEngine({ modelPath: (await tinyModels()).path('tiny-f32'), threads: 1 })
    await engine.start()
  })
  afterAll(async () => {
    await engine?.[Symbol.asyncDispose]()
  })

  it('describes itself', () => {
    expect(engine.info.kind, 'kind').toBe('llama-cpp')
    expect(engine.info.model, 'model = file name').toBe('tiny-f32.gguf')
    expect(engine.info.device, 'device').toBe('cpu')
    // llama.cpp's own release tag the binaries were built from (README "Engine version"), not a package's.
    const llamaCpp = JSON.parse(
      readFileSync(
        join(import.meta.dirname, '../../node_modules/node-llama-cpp/llama/llama.cpp.info.json'),
        'utf8',
      ),
    ) as { tag: string; llamaCppGithubRepo: string }
    expect(llamaCpp.llamaCppGithubRepo, 'the tag is a llama.cpp one').toBe('ggml-org/llama.cpp')
    expect(engine.info.engineVersion, 'engineVersion').toBe(
      `node-llama-cpp 3.21.1 (llama.cpp ${llamaCpp.tag})`,
    )
    expect(engine.info.capabilities.scoreChoices, 'scoreChoices').toBe(true)
    expect(engine.info.capabilities.logprobs, 'logprobs').toBe(true)
  })

  it('reports the model size and, on the CPU backend, no device memory', async () => {
    const models = await tinyModels()
    const size = models.manifests.find((m) => m.name === 'tiny-f32')?.sizeBytes
    expect(engine.info.capabilities.memory, 'memory').toBe(true)
    expect(await engine.memory?.(), 'memory()').toEqual({ modelBytes: size })
  })

  it('continues "abc" with "defghijk", one token per event, prompt counted with BOS', async () => {
    const r = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 8, sampling: { temperature: 0 } }, never()),
    )
    expect(r.text, 'text').toBe('defghijk')
    expect(
      r.tokens.map((t) => t.tokens),
      'one token per event',
    ).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
    expect(r.done[0], 'done').toEqual({
      type: 'done',
      promptTokens: 4,
      outputTokens: 8,
      tokensSource: 'tokenizer',
      finishReason: 'length',
    })
  })

  it('stops before a stop string, which is only looked for from minTokens on', async () => {
    const stop = { temperature: 0, stop: ['gh'] }
    const r = await collect(engine.generate({ prompt: 'abc', maxTokens: 10, sampling: stop }, never()))
    expect(r.text, 'text before "gh"').toBe('def')
    expect(r.done[0]?.finishReason, 'finish').toBe('stop')
    expect(r.done[0]?.outputTokens, 'd e f g h generated').toBe(5)
    const late = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 10, minTokens: 6, sampling: stop }, never()),
    )
    expect(late.text, '"gh" falls before minTokens').toBe('defghijklm')
    expect(late.done[0]?.finishReason, 'late finish').toBe('length')
  })

  it('attaches logprobs of each generated token when asked', async () => {
    const r = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 3, topLogprobs: 2, sampling: { temperature: 0 } }, never()),
    )
    expect(r.tokens.length, 'events').toBe(3)
    for (const t of r.tokens) {
      const lp = t.logprobs?.[0]
      expect(t.logprobs?.length, 'one entry per token').toBe(1)
      expect(lp?.token, 'the token itself').toBe(t.text)
      expect(lp?.top?.length, 'top-2').toBe(2)
      expect(lp?.top?.[0]?.token, 'greedy picks the top token').toBe(t.text)
      expect(lp?.top?.[0]?.logprob, 'top logprob = its logprob').toBe(lp?.logprob)
      expect(lp?.top?.[1]?.logprob, 'sorted').toBeLessThan(lp?.top?.[0]?.logprob ?? 0)
    }
  })

  it('scores choices by log-likelihood, consistent with the chain rule and topLogprobs', async () => {
    const [d, x, de] = await engine.scoreChoices!('abc', ['d', 'x', 'de'])
    const [eAfterD] = await engine.scoreChoices!('abcd', ['e'])
    expect(d, 'P(d | abc) > 0.99').toBeGreaterThan(Math.log(0.99))
    expect(x, 'x is unlikely').toBeLessThan(Math.log(0.01))
    expect(de, 'log P(de) = log P(d) + log P(e | abcd)').toBeCloseTo(d! + eAfterD!, 5)
    const positions = await engine.topLogprobs!('abc', 3)
    expect(positions.length, 'one position per prompt token incl. BOS').toBe(4)
    expect(
      positions.map((p) => p.length),
      'k entries each',
    ).toEqual([3, 3, 3, 3])
    expect(
      positions.slice(1).map((p) => p[0]?.token),
      'next byte predicted after a, b, c',
    ).toEqual(['b', 'c', 'd'])
    expect(positions[3]?.[0]?.logprob, 'same probability as scoreChoices').toBeCloseTo(d!, 5)
  })

  it('frees the sequence by the time it yields done, even if the reader stops there', async () => {
    const iterator = engine.generate({ prompt: 'abc', maxTokens: 2 }, never())[Symbol.asyncIterator]()
    let event = await iterator.next()
    while (!event.done && event.value.type !== 'done') event = await iterator.next()
    const next = await collect(
      engine.generate({ prompt: 'xyz', maxTokens: 2, sampling: { temperature: 0 } }, never()),
    )
    expect(next.text, 'the next request runs on the only sequence').toBe('{|')
  })

  it('an abort while queued for the only sequence leaves the queue at once; the running request goes on', async () => {
    const reason = new Error('give up waiting')
    const long = collect(
      engine.generate(
        { prompt: 'abc', maxTokens: 300, minTokens: 300, ignoreEos: true, sampling: { temperature: 0 } },
        never(),
      ),
    )
    const controller = new AbortController()
    const queued = collect(engine.generate({ prompt: 'xyz', maxTokens: 4 }, controller.signal))
    await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort(reason)
    const q = await queued
    expect(q.error, 'queued request: the reason').toBe(reason)
    expect(q.events.length, 'queued request: no events').toBe(0)
    const l = await long
    expect(l.error, 'running request: no error').toBeUndefined()
    expect(l.done[0]?.outputTokens, 'running request: all tokens').toBe(300)
  })
})

describe('llama-cpp engine: end of sequence', () => {
  let engine: Engine
  beforeAll(async () => {
    engine = createLlamaCppEngine({ modelPath: eosModels().gguf, threads: 1 })
    await engine.start()
  })
  afterAll(async () => {
    await engine?.[Symbol.asyncDispose]()
  })
  const greedy = { temperature: 0 }

  it('stops at EOS (not counted), after "c"', async () => {
    const r = await collect(engine.generate({ prompt: 'ab', maxTokens: 10, sampling: greedy }, never()))
    expect(r.text, 'text').toBe('c')
    expect(r.done[0]?.outputTokens, 'outputTokens').toBe(1)
    expect(r.done[0]?.finishReason, 'finish').toBe('stop')
  })

  it('ignoreEos generates exactly maxTokens', async () => {
    const r = await collect(
      engine.generate({ prompt: 'ab', maxTokens: 5, ignoreEos: true, sampling: greedy }, never()),
    )
    expect(r.text, 'text').toBe('cdefg')
    expect(r.done[0]?.finishReason, 'finish').toBe('length')
  })

  it('minTokens bans EOS only until that many tokens exist', async () => {
    const r = await collect(
      engine.generate({ prompt: 'ab', maxTokens: 200, minTokens: 2, sampling: greedy }, never()),
    )
    // c d … ~ (28 tokens), then space … c again at token 28 + 68 = 96, then EOS.
    expect(r.done[0]?.outputTokens, 'up to the next "c"').toBe(96)
    expect(r.text.endsWith('abc'), 'ends with "c"').toBe(true)
    expect(r.done[0]?.finishReason, 'finish').toBe('stop')
  })
})

/** A line of /proc/self/status in kB (Linux), e.g. VmLck: the memory this process has locked. */
function procStatusKb(field: string): number | undefined {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`))
    return line === undefined ? undefined : Number(line.split(/\s+/)[1])
  } catch {
    return undefined
  }
}

/** Whether a file is memory-mapped into this process (/proc/self/maps). */
function isMapped(path: string): boolean {
  return readFileSync('/proc/self/maps', 'utf8').includes(path)
}

describe('llama-cpp engine options reach node-llama-cpp', () => {
  it('defaults: flash attention auto (resolved by llama.cpp), mmap on, mlock off, batch min(512, context)', async () => {
    const modelPath = (await tinyModels()).path('tiny-f32')
    await using engine = createLlamaCppEngine({ modelPath, threads: 1, contextSize: 256 })
    await engine.start()
    const s = engine.settings()
    expect(s.flashAttention, 'context.flashAttention').toBe('auto')
    expect(s.flashAttentionEnabled, "llama.cpp's resolution of auto on the CPU").toBe(true)
    expect(s.useMmap, 'model.useMmap').toBe(true)
    expect(isMapped(modelPath), 'the model file is mapped into the process').toBe(true)
    expect(s.useMlock, 'mlock').toBe(false)
    expect(s.batchSize, 'context.batchSize = min(512, contextSize)').toBe(256)
    expect(s.threads, "llama.cpp's n_threads").toBe(1)
  })

  it('flashAttention, batchSize, threads and useMmap: false are what node-llama-cpp reports', async () => {
    const models = await tinyModels()
    const modelPath = models.path('tiny-q8_0')
    await using engine = createLlamaCppEngine({
      modelPath,
      threads: 2,
      batchSize: 64,
      flashAttention: false,
      useMmap: false,
      contextSize: 256,
    })
    await engine.start()
    const s = engine.settings()
    expect(s.flashAttention, 'context.flashAttention').toBe(false)
    expect(s.flashAttentionEnabled, 'no auto to resolve').toBeUndefined()
    expect(s.batchSize, 'context.batchSize').toBe(64)
    expect(s.threads, "llama.cpp's n_threads (llama_n_threads)").toBe(2)
    expect(s.useMmap, 'model.useMmap').toBe(false)
    expect(isMapped(modelPath), 'read, not mapped').toBe(false)
    const r = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 4, sampling: { temperature: 0 } }, never()),
    )
    expect(r.text, 'still generates').toBe('defg')
  })

  it('flashAttention: true', async () => {
    await using engine = createLlamaCppEngine({
      modelPath: (await tinyModels()).path('tiny-q4_0'),
      threads: 1,
      flashAttention: true,
      contextSize: 256,
    })
    await engine.start()
    expect(engine.settings().flashAttention, 'context.flashAttention').toBe(true)
    const r = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 4, sampling: { temperature: 0 } }, never()),
    )
    expect(r.text, 'same greedy output').toBe('defg')
  })

  it("useMlock locks the model's tensors in RAM (VmLck grows by most of the file)", async () => {
    const modelPath = (await tinyModels()).path('tiny-f32')
    const before = procStatusKb('VmLck')
    if (before === undefined) return // no /proc
    await using engine = createLlamaCppEngine({ modelPath, threads: 1, useMlock: true, contextSize: 256 })
    await engine.start()
    expect(engine.settings().useMlock, 'settings').toBe(true)
    const locked = (procStatusKb('VmLck') ?? 0) - before
    // The tensors (the file minus its header and vocabulary) are what llama.cpp maps and locks.
    expect(locked * 1024, 'locked bytes > 90 % of the file').toBeGreaterThan(0.9 * statSync(modelPath).size)
  })
})

describe('llama-cpp nativeSpeed (llama-bench pp / tg)', () => {
  let engine: LlamaCppEngine
  beforeAll(async () => {
    engine = createLlamaCppEngine({
      modelPath: (await tinyModels()).path('tiny-f32'),
      threads: 1,
      contextSize: 256,
    })
    await engine.start()
  })
  afterAll(async () => {
    await engine?.[Symbol.asyncDispose]()
  })

  it('times pp and tg per repetition: tokens/s = tokens / time, avg and sample sd over the samples', async () => {
    const r = await engine.nativeSpeed({ pp: 32, tg: 8, repetitions: 3, depth: 4 })
    for (const [name, test, tokens] of [
      ['pp', r.pp, 32],
      ['tg', r.tg, 8],
    ] as const) {
      if (!test) return expect.unreachable(`${name} missing`)
      expect(test.tokens, `${name} tokens`).toBe(tokens)
      expect(test.depth, `${name} depth`).toBe(4)
      expect(test.samplesNs.length, `${name} repetitions`).toBe(3)
      for (const [i, ns] of test.samplesNs.entries()) {
        expect(ns, `${name} sample ${i} > 0`).toBeGreaterThan(0)
        expect(test.samplesTs[i], `${name} tokens/s of sample ${i}`).toBeCloseTo((tokens * 1e9) / ns, 6)
      }
      const mean = test.samplesTs.reduce((a, v) => a + v, 0) / 3
      const sd = Math.sqrt(test.samplesTs.reduce((a, v) => a + (v - mean) ** 2, 0) / 2)
      expect(test.avgTs, `${name} avg`).toBeCloseTo(mean, 6)
      expect(test.sdTs, `${name} sd (n − 1)`).toBeCloseTo(sd, 6)
    }
    expect(r.settings, 'settings in effect').toMatchObject({
      threads: 1,
      contextSize: 256,
      flashAttention: 'auto',
    })
  })

  it("uses node-llama-cpp's per-token decode call (pinned internal), not the public evaluate()", () => {
    // nativeSpeed() falls back to evaluate() without it, which adds ~0.3 ms per tg token: fail loudly instead.
    expect(typeof (LlamaContextSequence.prototype as unknown as Record<string, unknown>)._decodeTokens).toBe(
      'function',
    )
  })

  it('0 skips a test; the sequence is left clean for requests', async () => {
    const r = await engine.nativeSpeed({ pp: 0, tg: 4, repetitions: 1 })
    expect(r.pp, 'no pp').toBeUndefined()
    expect(r.tg?.samplesNs.length, 'one tg repetition').toBe(1)
    const g = await collect(
      engine.generate({ prompt: 'abc', maxTokens: 8, sampling: { temperature: 0 } }, never()),
    )
    expect(g.text, 'generation unaffected').toBe('defghijk')
  })

  it('refuses a test that would not fit the context, and bad sizes', async () => {
    await expect(engine.nativeSpeed({ pp: 300, tg: 0 }), 'pp 300 in 256').rejects.toThrow(
      /needs 301 tokens of context .* holds 256/,
    )
    await expect(engine.nativeSpeed({ pp: 8, tg: 8, depth: 250 }), 'depth').rejects.toThrow(/needs 259/)
    await expect(engine.nativeSpeed({ repetitions: 0 }), 'repetitions').rejects.toThrow(/repetitions must be/)
  })
})

describe('llama-cpp engine: bad model files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-llama-engine-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('a truncated GGUF fails start() with EngineStartError naming the file and the problem', async () => {
    const copy = join(dir, 'truncated.gguf')
    copyFileSync((await tinyModels()).path('tiny-q4_0'), copy)
    truncateSync(copy, 40_000)
    const engine = createLlamaCppEngine({ modelPath: copy, threads: 1 })
    const error = await engine.start().catch((err: unknown) => err)
    expect(error, 'EngineStartError').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'message').toMatch(
      /truncated\.gguf: corrupt or truncated GGUF file: tensor .+ needs bytes/,
    )
    await engine[Symbol.asyncDispose]()
  })

  it('generate() before start() is a RequestError of kind engine', async () => {
    const engine = createLlamaCppEngine({ modelPath: (await tinyModels()).path('tiny-q4_0') })
    const r = await collect(engine.generate({ prompt: 'abc', maxTokens: 2 }, never()))
    expect((r.error as { kind?: string }).kind, 'kind').toBe('engine')
  })
})

// Concurrent (each test with its context's expect): each run starts its own engine child; the two starts
// overlap instead of adding up.
describe.concurrent('llama-cpp through the runner', () => {
  it('concurrent 2 over one sequence: every request ok, counted by the tokenizer, with sane timings', async ({
    expect,
  }) => {
    // Relative to the working directory, as a scenario would give it.
    const model = relative(process.cwd(), (await tinyModels()).path('tiny-q8_0'))
    expect(model.startsWith('/'), 'relative path').toBe(false)
    const scenario = parseScenario({
      name: 'native-llama',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 6, count: 4 },
      targets: [{ name: 'tiny-q8_0', engine: { kind: 'llama-cpp', model, threads: 1, contextSize: 256 } }],
      loads: [{ kind: 'concurrent', concurrency: 2, requests: 6 }],
      warmupRequests: 1,
    })
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: '.', sink })
    expect(result.state, 'scenario').toBe('completed')
    const run = sink.runs[0]
    expect(run?.meta.engine.kind, 'engine kind').toBe('llama-cpp')
    expect(run?.meta.engineOptions, 'stored options = the config').toEqual({
      kind: 'llama-cpp',
      model,
      threads: 1,
      contextSize: 256,
    })
    expect(run?.outcomes.length, 'requests').toBe(6)
    for (const o of run?.outcomes ?? []) {
      if (o.state !== 'ok') return expect.unreachable(`outcome ${JSON.stringify(o)}`)
      expect(o.tokensSource, 'tokensSource').toBe('tokenizer')
      expect(o.outputTokens, 'fixed output length').toBe(6)
      expect(o.chunks, 'one chunk per token').toBe(6)
      expect(o.chunkGapsMs.length, 'gaps').toBe(5)
      expect(o.promptTokens, 'prompt counted').toBeGreaterThan(8)
      expect(o.ttftMs, 'ttft ≥ 0').toBeGreaterThanOrEqual(0)
      expect(o.e2eMs, 'e2e ≥ ttft').toBeGreaterThanOrEqual(o.ttftMs)
    }
    expect(run?.metrics?.outputTokensPerS, 'throughput').toBeGreaterThan(0)
  })

  it('a target with nativeSpeed: pp / tg measured once, stored with every run and flattened', async ({
    expect,
  }) => {
    const model = (await tinyModels()).path('tiny-q4_0')
    const scenario = parseScenario({
      name: 'native-speed',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4, count: 2 },
      targets: [
        {
          name: 'q4',
          engine: { kind: 'llama-cpp', model, threads: 1, contextSize: 256 },
          nativeSpeed: { pp: 32, tg: 8, repetitions: 2 },
        },
      ],
      loads: [
        { kind: 'sequential', requests: 2 },
        { kind: 'sequential', requests: 1 },
      ],
      warmupRequests: 0,
    })
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: '.', sink })
    expect(result.state, 'scenario').toBe('completed')
    const [first, second] = sink.runs
    const native = first?.metrics?.nativeSpeed
    expect(native?.pp?.tokens, 'pp size').toBe(32)
    expect(native?.tg?.samplesTs.length, 'tg repetitions').toBe(2)
    expect(second?.metrics?.nativeSpeed, 'the same measurement with the next run').toBe(native)
    const rows = flattenMetrics(first!.metrics!)
    const row = (name: string) => rows.find((r) => r.name === name)
    expect(row('promptTokensPerS'), 'pp row').toMatchObject({
      value: native?.pp?.avgTs,
      unit: 'tokens/s',
      n: 2,
    })
    expect(row('genTokensPerSSd'), 'tg sd row').toMatchObject({ value: native?.tg?.sdTs, n: 2 })
    expect(first?.meta.engineOptions, 'not an engine option').not.toHaveProperty('nativeSpeed')
    const table = formatTable(result.runs)
    expect(table.match(/q4 nativeSpeed/g)?.length, 'one table line per target').toBe(1)
    expect(table, 'pp and tg on it').toMatch(/pp32 [\d.]+ ± [\d.]+ tok\/s · tg8 [\d.]+ ± [\d.]+ tok\/s/)
  })

  it('nativeSpeed is refused on targets that cannot measure it', ({ expect }) => {
    expect(() =>
      parseScenario({
        name: 'x',
        prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
        targets: [{ name: 'm', engine: { kind: 'openai', model: 'm', mock: {} }, nativeSpeed: {} }],
        loads: [{ kind: 'sequential', requests: 1 }],
      }),
    ).toThrow(/targets\[0\]\.nativeSpeed: only llama-cpp targets measure nativeSpeed/)
  })
})
