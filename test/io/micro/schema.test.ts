/**
 * The scenario's micro load as validation sees it: defaults filled in, and every bad field named with its
 * path and the fix (pure: parseScenario only; in the io project because test/io/micro is this feature's).
 */
import { describe, expect, it } from 'vitest'
import { defineScenario, parseScenario } from '../../../harness/config/index.ts'
import type { ConfigIssue } from '../../../harness/errors.ts'
import { ScenarioError } from '../../../harness/errors.ts'
import { microSpecs } from '../../../harness/micro/run.ts'

const gguf = { name: 'g', engine: { kind: 'llama-cpp', model: 'tiny-f32.gguf' } } as const

/** A scenario with one micro load; `load` replaces fields of it, `extra` adds scenario fields. */
function scenario(load: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: 'micro-schema',
    targets: [gguf],
    loads: [{ kind: 'micro', tasks: [{ kind: 'forward', promptTokens: 16 }], ...load }],
    ...extra,
  }
}

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    parseScenario(input, 'test')
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues
    throw err
  }
  return expect.unreachable('the scenario should be invalid')
}

describe('micro load schema', () => {
  it('fills tinybench bounds with their defaults and needs no prompts', () => {
    const s = parseScenario(
      defineScenario({
        name: 'micro-ok',
        seed: 5,
        targets: [gguf],
        loads: [
          {
            kind: 'micro',
            tasks: [
              { kind: 'tokenize', chars: 100 },
              { kind: 'prefill-decode', promptTokens: 8 },
            ],
          },
        ],
      }),
    )
    expect(microSpecs(s), 'stored spec: defaults and the scenario seed').toEqual([
      {
        kind: 'micro',
        tasks: [
          { kind: 'tokenize', chars: 100 },
          { kind: 'prefill-decode', promptTokens: 8 },
        ],
        timeMs: 1000,
        iterations: 10,
        warmupTimeMs: 100,
        warmupIterations: 2,
        maxTimeMs: 30_000,
        seed: 5,
      },
    ])
  })

  it('names each bad task parameter by its path', () => {
    const issues = issuesOf(
      scenario({
        tasks: [
          { kind: 'tokenize', chars: 0 },
          { kind: 'forward', promptTokens: 1.5 },
          { kind: 'prefill-decode', promptTokens: 70_000 },
          { kind: 'forward', tokens: 3 },
          { kind: 'sample', promptTokens: 3 },
        ],
      }),
    )
    const at = (path: string) => issues.filter((i) => i.path === path).map((i) => i.message)
    expect(at('loads[0].tasks[0].chars'), 'chars 0').toEqual(['must be > 0, got 0'])
    expect(at('loads[0].tasks[1].promptTokens'), 'fractional promptTokens').toEqual([
      'expected an int, got 1.5',
    ])
    expect(at('loads[0].tasks[2].promptTokens'), 'promptTokens above the bound').toEqual([
      'must be ≤ 65536, got 70000',
    ])
    expect(at('loads[0].tasks[3].tokens'), 'unknown field').toEqual([
      'unknown field "tokens"; remove it or check its spelling',
    ])
    expect(at('loads[0].tasks[3].promptTokens'), 'missing promptTokens').toEqual(['required: add a number'])
    expect(at('loads[0].tasks[4].kind'), 'unknown task kind').toEqual([
      'unknown kind "sample"; use one of "tokenize", "forward", "prefill-decode"',
    ])
  })

  it('rejects bounds that cannot end as asked, an empty task list and a task listed twice', () => {
    const issues = issuesOf(
      scenario({
        tasks: [
          { kind: 'forward', promptTokens: 16 },
          { kind: 'forward', promptTokens: 16 },
        ],
        timeMs: 5000,
        warmupTimeMs: 1000,
        maxTimeMs: 4000,
        iterations: 0,
      }),
    )
    const at = (path: string) => issues.filter((i) => i.path === path).map((i) => i.message)
    expect(at('loads[0].maxTimeMs'), 'maxTimeMs below time + warmup').toEqual([
      'must be at least timeMs + warmupTimeMs (6000 ms), got 4000: raise maxTimeMs or lower timeMs',
    ])
    expect(at('loads[0].iterations'), 'iterations 0').toEqual(['must be > 0, got 0'])
    expect(at('loads[0].tasks[1]'), 'duplicate task').toEqual([
      'task forward-16 is listed twice: its figures would share one name; remove one',
    ])
    expect(
      issuesOf(scenario({ tasks: [] })).map((i) => `${i.path}: ${i.message}`),
      'no tasks',
    ).toEqual(["loads[0].tasks: add at least one task, e.g. { kind: 'forward', promptTokens: 128 }"])
  })

  it('refuses a micro load on a target whose engine cannot run one, naming the target', () => {
    const issues = issuesOf(
      scenario(
        {},
        {
          targets: [
            gguf,
            { name: 'api', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } },
          ],
        },
      ),
    )
    expect(issues, 'one issue at the openai target').toEqual([
      {
        path: 'targets[1].engine.kind',
        message:
          'loads[0] is a micro load: it runs on llama-cpp, onnx engines (tinybench next to the engine); openai targets cannot: remove this target or the micro load (got "openai")',
      },
    ])
  })

  it('still asks for prompts when a request load sits beside the micro load', () => {
    const issues = issuesOf({
      ...scenario({}),
      loads: [
        { kind: 'micro', tasks: [{ kind: 'tokenize', chars: 10 }] },
        { kind: 'sequential', requests: 2 },
      ],
    })
    expect(
      issues.map((i) => i.path),
      'prompts required by the sequential load',
    ).toEqual(['prompts'])
  })

  it('keeps micro loads out of sweeps (their steps are request loads)', () => {
    const issues = issuesOf({
      ...scenario({}),
      loads: [{ kind: 'sweep', loads: [{ kind: 'micro', tasks: [{ kind: 'tokenize', chars: 10 }] }] }],
    })
    expect(issues, 'the sweep step').toEqual([
      {
        path: 'loads[0].loads[0].kind',
        message:
          'unknown kind "micro"; use one of "sequential", "concurrent", "constant-rate", "poisson", "trace"',
      },
    ])
  })
})
