/**
 * The engine process's libuv thread pool: one thread per llama.cpp sequence (so decodes do not hop between
 * pool threads), unless the user chose a size.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { childEnvironment, createIsolatedEngine } from '../../harness/engines/isolate/index.ts'
import { collect } from '../helpers/engine-conformance.ts'
import { tinyModels } from '../helpers/fixture-models.ts'

const saved = process.env.UV_THREADPOOL_SIZE

afterEach(() => {
  if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE
  else process.env.UV_THREADPOOL_SIZE = saved
})

describe('engine process thread pool', () => {
  it('sizes UV_THREADPOOL_SIZE to llama.cpp parallel sequences; leaves onnx and a user setting alone', () => {
    delete process.env.UV_THREADPOOL_SIZE
    const llama = (parallel?: number) =>
      childEnvironment({
        kind: 'llama-cpp',
        options: { modelPath: 'm.gguf', ...(parallel === undefined ? {} : { parallel }) },
      }).UV_THREADPOOL_SIZE
    expect(llama(), 'one sequence by default').toBe('1')
    expect(llama(3), 'one per sequence').toBe('3')
    expect(childEnvironment({ kind: 'onnx', options: { modelPath: 'm.onnx' } }).UV_THREADPOOL_SIZE).toBe(
      undefined,
    )
    process.env.UV_THREADPOOL_SIZE = '8'
    expect(llama(2), "the user's own size").toBe('8')
  })

  it('a real llama.cpp child starts with it and generates', async () => {
    delete process.env.UV_THREADPOOL_SIZE
    const engine = createIsolatedEngine({
      kind: 'llama-cpp',
      options: { modelPath: (await tinyModels()).path('tiny-q8_0'), threads: 1, parallel: 2 },
    })
    await engine.start()
    try {
      const environ = readFileSync(`/proc/${engine.isolate.pid}/environ`, 'utf8').split('\0')
      expect(environ, 'the child environment').toContain('UV_THREADPOOL_SIZE=2')
      const r = await collect(
        engine.generate(
          { prompt: 'abc', maxTokens: 4, minTokens: 4, ignoreEos: true, sampling: { temperature: 0 } },
          new AbortController().signal,
        ),
      )
      expect(r.error, 'no error').toBeUndefined()
      expect(r.events.filter((e) => e.type === 'token').length, 'tokens').toBe(4)
    } finally {
      await engine[Symbol.asyncDispose]()
    }
  })
})
