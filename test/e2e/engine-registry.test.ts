/**
 * The engine registry is open: a kind defined in test-owned code only (test/fixtures/engines/echo-engine.ts,
 * registered here, no edit to harness/) is validated by its own schema inside a scenario, created and run
 * by the runner, and served from an isolated child that imports the definition's module to find it. An
 * unknown kind is a config error listing the registered kinds. e2e: it starts a child process.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import { engineDefinitions, registerEngine } from '../../harness/engines/registry.ts'
import { ScenarioError } from '../../harness/errors.ts'
import { runScenario } from '../../harness/runner.ts'
import { echoEngine } from '../fixtures/engines/echo-engine.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

let dir: string
let model: string

beforeAll(() => {
  registerEngine(echoEngine)
  dir = mkdtempSync(join(tmpdir(), 'bench-echo-'))
  model = join(dir, 'words.txt')
  writeFileSync(model, 'alpha beta gamma')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const scenarioWith = (engine: unknown, extra: Record<string, unknown> = {}) => ({
  name: 'echo-registry',
  prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 5 },
  targets: [{ name: 'echo', engine, ...extra }],
  loads: [{ kind: 'sequential', requests: 3 }],
  warmupRequests: 0,
})

/** The problems a scenario is rejected with, by path. */
function problems(input: unknown): Record<string, string> {
  try {
    parseScenario(input)
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err
    return Object.fromEntries(err.issues.map((i) => [i.path, i.message]))
  }
  throw new Error('the scenario validated')
}

describe('an engine kind registered from test code', () => {
  it('validates by its own schema: defaults filled, a bad or unknown field named', () => {
    const scenario = parseScenario(scenarioWith({ kind: 'echo', model }))
    expect(scenario.targets[0]?.engine, 'default from the echo schema').toEqual({
      kind: 'echo',
      model,
      gapMs: 0,
    })
    const bad = problems(scenarioWith({ kind: 'echo', model, gapMs: -1, colour: 'red' }))
    expect(bad['targets[0].engine.gapMs']).toBe('must be ≥ 0, got -1')
    expect(bad['targets[0].engine.colour']).toBe('unknown field "colour"; remove it or check its spelling')
    expect(problems(scenarioWith({ kind: 'echo' }))['targets[0].engine.model']).toBe('required: add a string')
    expect(
      problems(scenarioWith({ kind: 'echo', model }, { nativeSpeed: {} }))['targets[0].nativeSpeed'],
      'nativeSpeed only where the definition has the capability',
    ).toMatch(/^only llama-cpp targets measure nativeSpeed/)
  })

  it('makes an unknown kind an error that lists every registered kind, this one included', () => {
    const message = problems(scenarioWith({ kind: 'nope', model }))['targets[0].engine.kind']
    expect(message).toBe('unknown kind "nope"; use one of "openai", "llama-cpp", "onnx", "echo"')
    expect(engineDefinitions().map((d) => d.kind)).toEqual(['openai', 'llama-cpp', 'onnx', 'echo'])
    expect(() => registerEngine(echoEngine), 'a kind is registered once').toThrow(/already registered/)
  })

  it('runs in the harness process with isolate: false (outcomes, stored options, variant format)', async () => {
    const scenario = parseScenario(
      scenarioWith({ kind: 'echo', model, isolate: false }, { variant: { name: 'echo-words' } }),
    )
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: dir, sink, monitorEventLoop: false })
    expect(result.state).toBe('completed')
    const run = sink.runs[0]!
    expect(run.outcomes.map((o) => (o.state === 'ok' ? o.outputTokens : o.state))).toEqual([5, 5, 5])
    expect(run.meta.engine.kind).toBe('echo')
    expect(run.meta.engine.engineVersion, 'served by this process').toBe(`echo pid ${process.pid}`)
    expect(run.meta.engineOptions).toEqual({ kind: 'echo', model, gapMs: 0, isolate: false })
    expect(run.meta.variant?.format, "from the definition's variantFormat").toBe('remote')
  })

  it('runs in a child process that imports the definition from its module (isolate: true)', async () => {
    const scenario = parseScenario(scenarioWith({ kind: 'echo', model, gapMs: 1 }))
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: dir, sink, monitorEventLoop: false })
    expect(result.state, result.runs[0]?.error).toBe('completed')
    const run = sink.runs[0]!
    expect(run.state).toBe('completed')
    expect(run.outcomes.map((o) => (o.state === 'ok' ? o.outputTokens : o.state))).toEqual([5, 5, 5])
    const served = /^echo pid (\d+)$/.exec(run.meta.engine.engineVersion ?? '')
    expect(served, 'the child reported its engine info').not.toBeNull()
    expect(Number(served![1]), 'a process other than this one').not.toBe(process.pid)
    expect(run.meta.engine.capabilities.memory, 'the isolate measures the child').toBe(true)
    expect(run.metrics?.peakRssBytes, 'child RSS sampled').toBeGreaterThan(0)
    expect(run.metrics?.modelBytes, 'the model file measured').toBe(16)
  })

  it('fails the target with the file named when the child cannot load the model', async () => {
    const missing = join(dir, 'missing.txt')
    const scenario = parseScenario(scenarioWith({ kind: 'echo', model: missing }))
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: dir, sink, monitorEventLoop: false })
    expect(result.state).toBe('failed')
    expect(result.runs[0]?.error).toContain(missing)
  })
})

describe('the registry is light', () => {
  it('validating a scenario of every built-in kind loads no engine package (create() imports them)', () => {
    // A resolve hook in a fresh process lists every bare specifier resolved while the config module loads
    // and validates; the engines' own packages must not be among them.
    const resolveHook = [
      'export async function resolve(specifier, context, next) {',
      "  if (!/^(\\.|\\/|node:|file:|data:)/.test(specifier)) process.stderr.write('PACKAGE ' + specifier + '\\n')",
      '  return next(specifier, context)',
      '}',
    ].join('\n')
    const hook = join(dir, 'list-packages.mjs')
    writeFileSync(
      hook,
      `import { register } from 'node:module'\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolveHook)}`)})\n`,
    )
    const config = fileURLToPath(new URL('../../harness/config/index.ts', import.meta.url))
    const scenario = {
      name: 'light',
      prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 4 },
      loads: [{ kind: 'sequential', requests: 1 }],
      targets: [
        { name: 'a', engine: { kind: 'openai', model: 'm', mock: {} } },
        { name: 'b', engine: { kind: 'llama-cpp', model: 'x.gguf' } },
        { name: 'c', engine: { kind: 'onnx', model: 'x.onnx' } },
      ],
    }
    const script = [
      `const { parseScenario } = await import(${JSON.stringify(config)})`,
      `parseScenario(${JSON.stringify(scenario)})`,
      "process.stderr.write('VALIDATED\\n')",
    ].join('\n')
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    )
    expect(child.stderr, 'the child validated the scenario').toContain('VALIDATED')
    const packages = new Set([...child.stderr.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1]))
    expect(packages.has('zod'), 'the hook saw the packages the config does load').toBe(true)
    for (const heavy of ['node-llama-cpp', 'onnxruntime-node', '@huggingface/tokenizers', 'openai', 'undici'])
      expect(packages.has(heavy), `${heavy} is loaded only when an engine is created`).toBe(false)
  })
})
