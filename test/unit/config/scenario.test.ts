import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { defineScenario, loadScenario, parseScenario, scenarioHash } from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'

const valid = defineScenario({
  name: 'unit-valid',
  prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 8 },
  targets: [{ name: 'a', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } }],
  loads: [
    {
      kind: 'sweep',
      loads: [
        { kind: 'concurrent', concurrency: 4, requests: 10 },
        { kind: 'poisson', ratePerS: 2, durationS: 3 },
      ],
    },
  ],
})

function issuesOf(input: unknown) {
  try {
    parseScenario(input, 'test')
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues
    throw err
  }
  return expect.unreachable('scenario should be invalid')
}

describe('scenario validation', () => {
  it('fills defaults of a valid scenario', () => {
    const s = parseScenario(valid)
    expect(s.warmupRequests, 'warmupRequests').toBe(2)
    expect(s.requestTimeoutMs, 'requestTimeoutMs').toBe(60_000)
    expect(s.seed, 'seed').toBe(1)
    const engine = s.targets[0]?.engine
    if (engine?.kind !== 'openai') return expect.unreachable()
    expect(engine?.api, 'api').toBe('chat')
    expect(engine?.client, 'client').toBe('http1')
    const sweep = s.loads[0]
    if (sweep?.kind !== 'sweep') return expect.unreachable()
    const poisson = sweep.loads[1]
    if (poisson?.kind !== 'poisson') return expect.unreachable()
    expect(poisson.burstiness, 'burstiness').toBe(1)
    expect(poisson.maxInFlight, 'maxInFlight').toBe(1000)
  })

  it('reports every problem at once with its path', () => {
    const issues = issuesOf({
      name: 'bad',
      prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 8 },
      targets: [{ name: 'a', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' } }],
      loads: [
        { kind: 'burst', requests: 3 },
        { kind: 'constant-rate', ratePerS: -5, requests: 3 },
      ],
    })
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]))
    expect(Object.keys(byPath).sort(), 'paths').toEqual([
      'loads[0].kind',
      'loads[1].ratePerS',
      'targets[0].engine.model',
    ])
    expect(byPath['loads[0].kind'], 'unknown kind names the choices').toContain('"sequential"')
    expect(byPath['loads[0].kind'], 'unknown kind names the value').toMatch(/^unknown kind "burst"; /)
    expect(byPath['loads[1].ratePerS'], 'negative rate').toBe('must be > 0, got -5')
    expect(byPath['targets[0].engine.model'], 'missing model').toBe('required: add a string')
  })

  it('says "an array" (it said "expected a array"; "add a array" in a study file missing `on`)', () => {
    const byPath = Object.fromEntries(
      issuesOf({
        name: 'x',
        prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 8 },
        targets: 3,
      }).map((i) => [i.path, i.message]),
    )
    expect(byPath.targets).toBe('expected an array, got 3')
  })

  it('rejects unknown fields, loads without an end, duplicate targets and baseUrl+mock together', () => {
    const issues = issuesOf({
      name: 'Bad Name',
      prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 8 },
      targets: [
        { name: 'a', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm', mock: {} } },
        {
          name: 'a',
          engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm', temprature: 1 },
        },
      ],
      loads: [{ kind: 'concurrent', concurrency: 2 }],
    })
    const paths = issues.map((i) => i.path)
    expect(paths, 'name').toContain('name')
    expect(paths, 'misspelt field').toContain('targets[1].engine.temprature')
    expect(paths, 'load without limit').toContain('loads[0].requests')
    expect(paths, 'baseUrl and mock').toContain('targets[0].engine.baseUrl')
  })

  it('accepts rampUpMs on concurrent loads and names it when negative', () => {
    const ok = parseScenario({
      ...valid,
      loads: [{ kind: 'concurrent', concurrency: 4, rampUpMs: 100, requests: 8 }],
    })
    const load = ok.loads[0]
    if (load?.kind !== 'concurrent') return expect.unreachable()
    expect(load.rampUpMs, 'rampUpMs').toBe(100)

    const issues = issuesOf({
      ...valid,
      loads: [
        { kind: 'concurrent', concurrency: 4, rampUpMs: -5, requests: 8 },
        { kind: 'poisson', ratePerS: 2, rampUpMs: 100, requests: 8 },
      ],
    })
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]))
    expect(Object.keys(byPath).sort(), 'paths').toEqual(['loads[0].rampUpMs', 'loads[1].rampUpMs'])
    expect(byPath['loads[0].rampUpMs'], 'negative ramp').toBe('must be ≥ 0, got -5')
  })

  it('hash is stable under key order and changes with content', () => {
    const a = parseScenario(valid)
    const b = parseScenario(JSON.parse(JSON.stringify(valid)))
    expect(scenarioHash(a), 'same content').toBe(scenarioHash(b))
    expect(scenarioHash(parseScenario({ ...valid, seed: 2 })), 'other seed').not.toBe(scenarioHash(a))
  })
})

describe('loadScenario', () => {
  it('loads .json and .ts files and reports a missing file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-scn-'))
    const json = path.join(dir, 's.json')
    await writeFile(json, JSON.stringify(valid))
    expect((await loadScenario(json)).scenario.name, 'json').toBe('unit-valid')
    const ts = path.join(dir, 's.ts')
    await writeFile(ts, `export default ${JSON.stringify(valid)}\n`)
    expect((await loadScenario(ts)).scenario.name, 'ts').toBe('unit-valid')
    await expect(loadScenario(path.join(dir, 'nope.ts')), 'missing').rejects.toThrow(/file not found/)
  })

  it('a syntax error names the file, line, column (from 1) and the parser message', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-scn-'))
    const broken = path.join(dir, 'broken.ts')
    await writeFile(broken, "export default {\n  name: 'x',,\n}\n")
    await expect(loadScenario(broken)).rejects.toThrow(
      `syntax error: ${broken}:2:13: Expected identifier but found ","`,
    )
    // An import the scenario names that does not exist is not "file not found" for the scenario itself.
    const importer = path.join(dir, 'importer.ts')
    await writeFile(importer, "import { x } from './missing.ts'\nexport default { name: x }\n")
    await expect(loadScenario(importer)).rejects.toThrow(/cannot read the scenario: .*missing\.ts/)
  })

  it('validates the shipped scenarios', async () => {
    for (const f of ['scenarios/mock-sweep.ts']) {
      const { scenario } = await loadScenario(f)
      expect(scenario.targets.length, f).toBeGreaterThan(0)
    }
  })
})
