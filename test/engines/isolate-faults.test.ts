/**
 * What happens when an isolated engine's child process dies or hangs, on the tiny fixtures: SIGKILL
 * mid-generation → a `crash` outcome while the run and the next target go on; SIGSTOP (a hang) → `timeout`,
 * the child killed and restarted; a corrupt model → EngineStartError naming the file.
 */
import { statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import type { TargetConfig } from '../../harness/config/schema.ts'
import type { Engine, StreamEvent } from '../../harness/engines/engine.ts'
import { createIsolatedEngine, type IsolatedEngine } from '../../harness/engines/isolate/index.ts'
import { EngineStartError, RequestError } from '../../harness/errors.ts'
import { runScenario } from '../../harness/runner.ts'
import { createTargetEngine as createEngine } from '../../harness/target-engine.ts'
import { collect } from '../helpers/engine-conformance.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

const never = () => new AbortController().signal
const greedy = { temperature: 0 }

describe('a child that dies', () => {
  it('SIGKILL mid-generation: the request fails with crash; without restarts the engine is dead', async () => {
    const engine = createIsolatedEngine(
      { kind: 'llama-cpp', options: { modelPath: (await tinyModels()).path('tiny-q8_0'), threads: 1 } },
      { maxRestarts: 0 },
    )
    await engine.start()
    try {
      const pid = engine.isolate.pid!
      let seen = 0
      const r = await collect(
        engine.generate(
          { prompt: 'abc', maxTokens: 5000, minTokens: 5000, ignoreEos: true, sampling: greedy },
          never(),
        ),
        (e) => e.type === 'token' && ++seen === 3 && process.kill(pid, 'SIGKILL'),
      )
      expect(r.error, 'a RequestError').toBeInstanceOf(RequestError)
      expect((r.error as RequestError).kind, 'kind').toBe('crash')
      expect((r.error as Error).message, 'names the signal').toContain('SIGKILL')
      expect(r.done.length, 'no done').toBe(0)
      expect(engine.isolate.state, 'state').toBe('dead')
      const next = await collect(engine.generate({ prompt: 'abc', maxTokens: 2 }, never()))
      expect((next.error as RequestError).kind, 'next request: crash at once').toBe('crash')
      expect((next.error as Error).message, 'next request: why').toContain('the engine process is gone')
    } finally {
      await engine[Symbol.asyncDispose]()
    }
  })

  it('through the runner: a crash outcome, the restarted child serves the rest, the next target runs', async () => {
    const models = await tinyModels()
    const scenario = parseScenario({
      name: 'isolate-crash',
      prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 400, count: 4 },
      targets: [
        { name: 'victim', engine: { kind: 'llama-cpp', model: models.path('tiny-f32'), threads: 1 } },
        {
          name: 'next',
          engine: { kind: 'onnx', model: models.path('tiny-onnx-fp32'), intraOpNumThreads: 1 },
        },
      ],
      loads: [{ kind: 'sequential', requests: 5 }],
      warmupRequests: 1,
      // The crash is the subject: 1 error in 5 must not fail the run on the error-rate threshold.
      maxErrorRate: 1,
    })
    // 400 tokens: the child sends token events in batches (≤ 10 ms), so a short generation could be done
    // before its 3rd token reaches the killer below.
    const victims: IsolatedEngine[] = []
    const pids: number[] = []
    const sink = createMemorySink()
    const result = await runScenario({
      scenario,
      baseDir: '.',
      sink,
      createEngine: async (target: TargetConfig) => {
        const created = await createEngine(target.engine)
        if (target.name !== 'victim') return created
        const engine = created.engine as IsolatedEngine
        victims.push(engine)
        let calls = 0
        // Kills the real child at the 3rd token of the 3rd measured request (call 1 is the warmup).
        const killer: Engine = {
          ...engine,
          async *generate(request, signal): AsyncGenerator<StreamEvent> {
            const call = ++calls
            let tokens = 0
            for await (const event of engine.generate(request, signal)) {
              yield event
              if (call === 4 && event.type === 'token' && ++tokens === 3) {
                pids.push(engine.isolate.pid!)
                process.kill(engine.isolate.pid!, 'SIGKILL')
              }
            }
          },
        }
        return { ...created, engine: killer }
      },
    })
    expect(result.state, 'scenario completed').toBe('completed')
    expect(
      sink.runs.map((r) => [r.meta.target.name, r.state]),
      'both runs completed',
    ).toEqual([
      ['victim', 'completed'],
      ['next', 'completed'],
    ])
    const victim = sink.runs[0]!
    expect(
      victim.outcomes.map((o) => (o.state === 'ok' ? 'ok' : o.error.kind)),
      'victim outcomes',
    ).toEqual(['ok', 'ok', 'crash', 'ok', 'ok'])
    const crash = victim.outcomes[2]!
    if (crash.state !== 'error') return expect.unreachable('crash outcome')
    expect(crash.error.message, 'names the signal').toContain('SIGKILL')
    expect(crash.error.message, 'names the pid').toContain(`pid ${pids[0]}`)
    expect(crash.chunks, 'partial progress kept: what arrived before the death').toBeGreaterThanOrEqual(3)
    expect(crash.chunks, 'but not the whole output').toBeLessThan(400)
    expect(victims[0]?.isolate.restarts, 'restarted once').toBe(1)
    expect(victim.metrics?.errorsByKind.crash, 'errorsCrash').toBe(1)
    expect(victim.metrics?.peakRssBytes, 'peak RSS in the window').toBeGreaterThan(0)
    expect(victim.metrics?.modelBytes, 'modelBytes').toBe(statSync(models.path('tiny-f32')).size)
    expect(victim.meta.variant?.name, 'variant from the manifest').toBe('tiny-f32')
    const next = sink.runs[1]!
    expect(
      next.outcomes.map((o) => o.state),
      'next target: all ok',
    ).toEqual(['ok', 'ok', 'ok', 'ok', 'ok'])
    expect(next.meta.variant?.parent, 'onnx variant without parent').toBeUndefined()
    expect(next.meta.variant?.format, 'onnx variant format').toBe('onnx')
  })

  it('a hang past the request timeout is a timeout; the hung child is killed and restarted', async () => {
    const models = await tinyModels()
    const scenario = parseScenario({
      name: 'isolate-hang',
      prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 400, count: 4 },
      targets: [{ name: 'hang', engine: { kind: 'llama-cpp', model: models.path('tiny-q4_0'), threads: 1 } }],
      loads: [{ kind: 'sequential', requests: 4 }],
      warmupRequests: 0,
      // Long enough for the request after the hang to wait for the restarted child (a model load).
      requestTimeoutMs: 6000,
      // The hang is the subject: 1 timeout in 4 must not fail the run on the error-rate threshold.
      maxErrorRate: 1,
    })
    let engine: IsolatedEngine | undefined
    const stopped: number[] = []
    const sink = createMemorySink()
    await runScenario({
      scenario,
      baseDir: '.',
      sink,
      createEngine: async (target: TargetConfig) => {
        if (target.engine.kind !== 'llama-cpp') throw new Error('llama-cpp target expected')
        const isolated = createIsolatedEngine(
          { kind: 'llama-cpp', options: { modelPath: target.engine.model, threads: 1 } },
          { abortGraceMs: 200 },
        )
        engine = isolated
        let calls = 0
        // SIGSTOP freezes the real child at the 2nd token of the 2nd request: a hang.
        const freezer: Engine = {
          ...isolated,
          async *generate(request, signal): AsyncGenerator<StreamEvent> {
            const call = ++calls
            let tokens = 0
            for await (const event of isolated.generate(request, signal)) {
              yield event
              if (call === 2 && event.type === 'token' && ++tokens === 2) {
                stopped.push(isolated.isolate.pid!)
                process.kill(isolated.isolate.pid!, 'SIGSTOP')
              }
            }
          },
        }
        return {
          engine: freezer,
          storedOptions: { ...target.engine },
          dispose: async () => await isolated[Symbol.asyncDispose](),
        }
      },
    })
    const run = sink.runs[0]!
    expect(run.state, 'run completed').toBe('completed')
    expect(
      run.outcomes.map((o) => (o.state === 'ok' ? 'ok' : o.error.kind)),
      'outcomes',
    ).toEqual(['ok', 'timeout', 'ok', 'ok'])
    expect(engine?.isolate.restarts, 'restarted once').toBe(1)
    expect(() => process.kill(stopped[0]!, 0), 'the hung child is gone').toThrow()
  })

  it('a missing or corrupt model fails start() with EngineStartError naming the file', async () => {
    const engine = createIsolatedEngine({
      kind: 'onnx',
      options: { modelPath: (await tinyModels()).path('tiny-f32'), intraOpNumThreads: 1 },
    })
    const error = await engine.start().catch((err: unknown) => err)
    expect(error, 'EngineStartError').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'message from the child').toMatch(
      /^onnx engine could not start model "tiny-f32\.gguf": .*tiny-f32\.gguf: corrupt or truncated ONNX file/,
    )
    expect(engine.isolate.state, 'back to idle').toBe('idle')
    await engine[Symbol.asyncDispose]()
  })
})
