import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeStoredLoad } from '../../../db/queries/dimensions.ts'
import { parseScenario } from '../../../harness/config/index.ts'
import { ScenarioError } from '../../../harness/errors.ts'
import { executeLoad } from '../../../harness/load/execute.ts'
import { describeLoad } from '../../../harness/load/expand.ts'
import { readTrace, runTrace } from '../../../harness/load/trace.ts'
import { tracePromptSource } from '../../../harness/prompts/trace.ts'
import type { LoadSpec } from '../../../harness/results.ts'
import { generateTrace, toJsonl } from '../../fixtures/traces/generate.ts'
import { createHarness } from './recording-send.ts'

async function traceFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-trace-'))
  const file = path.join(dir, 'trace.jsonl')
  await writeFile(file, text)
  return file
}

async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'a ScenarioError').toBeInstanceOf(ScenarioError)
  return (error as ScenarioError).issues.map((i) => `${i.path}: ${i.message}`)
}

describe('readTrace', () => {
  it('reads timestamp, input_length, output_length and hash_ids, and scales offsets from the first line', async () => {
    const file = await traceFile(
      '{"timestamp": 1000, "input_length": 12, "output_length": 3}\n\n' +
        '{"timestamp": 1500, "input_length": 7, "output_length": 2, "hash_ids": [4, 9]}\n' +
        '{"timestamp": 3000, "input_length": 5, "output_length": 1}\n',
    )
    const trace = await readTrace(file, { timeScale: 10 })
    expect(trace.offsetsMs, 'offsets: (t − 1000) / 10').toEqual([0, 50, 200])
    expect(trace.entries, 'entries').toEqual([
      { timestampMs: 1000, inputLength: 12, outputLength: 3 },
      { timestampMs: 1500, inputLength: 7, outputLength: 2, hashIds: [4, 9] },
      { timestampMs: 3000, inputLength: 5, outputLength: 1 },
    ])
    const part = await readTrace(file, { timeScale: 1, requests: 2 })
    expect(part.offsetsMs, 'requests keeps the first lines').toEqual([0, 500])
    const short = await readTrace(file, { timeScale: 1, durationS: 1 })
    expect(short.offsetsMs, 'durationS keeps offsets below it').toEqual([0, 500])
  })

  it('refuses every bad line at once, naming the line and field (Azure names with the Mooncake one)', async () => {
    const file = await traceFile(
      [
        '{"timestamp": 0, "input_length": 4, "output_length": 2}',
        'not json',
        '{"TIMESTAMP": 5, "ContextTokens": 4, "GeneratedTokens": 2}',
        '{"timestamp": 10, "input_length": 0, "output_length": 2.5, "hash_ids": [-1]}',
        '{"timestamp": 20, "input_length": 4, "output_length": 2}',
        '{"timestamp": 15, "input_length": 4, "output_length": 2}',
        '{"timestamp": 30, "input_length": 4, "output_length": 2, "extra": 1}',
      ].join('\n'),
    )
    const issues = await issuesOf(readTrace(file, { timeScale: 1 }))
    expect(issues, 'issues').toEqual([
      'line 2: not valid JSON',
      'line 3.TIMESTAMP: not a Mooncake trace field: write timestamp (ms since the trace start; Azure traces give a date: convert it)',
      'line 3.ContextTokens: not a Mooncake trace field: write input_length',
      'line 3.GeneratedTokens: not a Mooncake trace field: write output_length',
      'line 3.timestamp: give ms since the trace start, a number ≥ 0',
      'line 3.input_length: give a whole number of tokens, 1 to 1048576',
      'line 3.output_length: give a whole number of tokens, 1 to 1048576',
      'line 4.input_length: give a whole number of tokens, 1 to 1048576',
      'line 4.output_length: give a whole number of tokens, 1 to 1048576',
      'line 4.hash_ids: give an array of integers ≥ 0, or leave hash_ids out',
      "line 6.timestamp: 15 is before the previous line's 20: sort the trace by timestamp",
      'line 7.extra: unknown field; a trace line has timestamp, input_length, output_length and optional hash_ids',
    ])
  })

  it('refuses a replay above maxLines or maxDurationS unless raised, or cut with requests / durationS', async () => {
    const lines = generateTrace({ seed: 3, lines: 50, meanGapMs: 1000, input: [1, 4], output: [1, 2] })
    const file = await traceFile(toJsonl(lines))
    const spanS = (lines.at(-1)?.timestamp ?? 0) / 1000
    expect(spanS, 'the generated span').toBeGreaterThan(20)
    expect(await issuesOf(readTrace(file, { timeScale: 1, maxLines: 40 }, 'loads[0]')), 'lines').toEqual([
      'loads[0].maxLines: the trace replays 50 lines, more than maxLines 40: replay part of it with requests, or raise maxLines',
    ])
    expect(await issuesOf(readTrace(file, { timeScale: 2, maxDurationS: 10 }, 'loads[0]')), 'span').toEqual([
      `loads[0].maxDurationS: the replay spans ${(spanS / 2).toFixed(1)} s at timeScale 2, more than maxDurationS 10: raise timeScale, replay part with durationS or requests, or raise maxDurationS`,
    ])
    expect((await readTrace(file, { timeScale: 1, maxLines: 40, requests: 40 })).entries, 'cut').toHaveLength(
      40,
    )
    expect((await readTrace(file, { timeScale: 1, maxLines: 50 })).entries, 'raised').toHaveLength(50)
    expect((await readTrace(file, { timeScale: 100, maxDurationS: 10 })).entries, 'faster').toHaveLength(50)
  })

  it('refuses a missing or empty file naming the field', async () => {
    expect(
      await issuesOf(readTrace('/nonexistent/t.jsonl', { timeScale: 1 }, 'loads[2]')),
      'missing',
    ).toEqual([expect.stringMatching(/^loads\[2\]\.path: cannot read \/nonexistent\/t\.jsonl: /)])
    expect(await issuesOf(readTrace(await traceFile('\n\n'), { timeScale: 1 }, 'loads[2]')), 'empty').toEqual(
      ['loads[2].path: the trace holds no lines'],
    )
  })
})

describe('runTrace', () => {
  it('sends each line at start + offset without waiting for responses, late sends keeping the intended time', async () => {
    const h = createHarness({
      start: 1000,
      durationMs: () => 500,
      // The client stalls 30 ms while sending request 1: request 2 (due 20 ms after it) goes out late.
      onSend: (r, clock) => {
        if (r.index === 1) clock.stall(30)
      },
    })
    const result = await h.clock.run(runTrace([0, 10, 30, 30, 200], undefined, h.ctx))
    expect(
      h.sent.map((r) => r.scheduledAt),
      'scheduledAt',
    ).toEqual([1000, 1010, 1030, 1030, 1200])
    expect(
      h.sent.map((r) => r.sentAt),
      'sentAt',
    ).toEqual([1000, 1010, 1040, 1040, 1200])
    expect(h.maxInFlight(), 'all in flight at once').toBe(5)
    expect(result, 'result').toEqual({
      sent: 5,
      dropped: 0,
      ended: 'requests',
      startedAt: 1000,
      endedAt: 1700,
    })
  })

  it('stops issuing at durationS and on abort', async () => {
    const h = createHarness({ start: 0, durationMs: () => 5 })
    const byDuration = await h.clock.run(runTrace([0, 100, 999, 1000, 2000], 1, h.ctx))
    expect(byDuration.sent, 'sent before 1 s').toBe(3)
    expect(byDuration.ended, 'ended').toBe('duration')

    const a = createHarness({ start: 0, durationMs: () => 5 })
    const running = runTrace([0, 100, 200, 300], undefined, a.ctx)
    await a.clock.advance(150)
    a.controller.abort()
    const result = await a.clock.run(running)
    expect(result.sent, 'sent before the abort').toBe(2)
    await a.clock.advance(1000)
    expect(a.sent, 'nothing after it').toHaveLength(2)
    expect(result.ended, 'ended').toBe('aborted')
  })

  it('executeLoad runs a trace load by its offsets and refuses one without', async () => {
    const spec: LoadSpec = {
      kind: 'trace',
      path: 't.jsonl',
      timeScale: 1,
      hashBlockTokens: 512,
      maxLines: 10,
      maxDurationS: 10,
    }
    const h = createHarness({ start: 0 })
    const result = await h.clock.run(executeLoad(spec, { ...h.ctx, traceOffsetsMs: [0, 5] }))
    expect(result.sent, 'sent').toBe(2)
    await expect(executeLoad(spec, h.ctx), 'no offsets').rejects.toThrow(/without its offsets/)
  })

  it('is labelled the same in tables and on the dashboard', () => {
    const spec: LoadSpec = {
      kind: 'trace',
      path: 'traces/mooncake.jsonl',
      timeScale: 10,
      hashBlockTokens: 512,
      maxLines: 10_000,
      maxDurationS: 600,
    }
    expect(describeLoad(spec), 'describeLoad').toBe('trace mooncake.jsonl ×10')
    expect(describeStoredLoad(JSON.parse(JSON.stringify(spec))), 'stored').toBe(describeLoad(spec))
  })
})

describe('trace prompts', () => {
  const entries = [
    { timestampMs: 0, inputLength: 10, outputLength: 3, hashIds: [7, 100] },
    { timestampMs: 1, inputLength: 8, outputLength: 2, hashIds: [7, 101] },
    { timestampMs: 2, inputLength: 6, outputLength: 1 },
  ]
  it('give each line its lengths, share hash_ids blocks within a run, and change text between runs', () => {
    const source = tracePromptSource(entries, { seed: 1, hashBlockTokens: 4 })
    const run1 = [0, 1, 2].map((i) => source.at(i, 11))
    expect(
      run1.map((p) => [p.index, p.prompt.split(' ').length, p.promptTokens, p.outputTokens]),
      'lengths',
    ).toEqual([
      [0, 10, 10, 3],
      [1, 8, 8, 2],
      [2, 6, 6, 1],
    ])
    const words = run1.map((p) => p.prompt.split(' '))
    expect(words[1]?.slice(0, 4), 'block 7 shared').toEqual(words[0]?.slice(0, 4))
    expect(words[1]?.slice(4, 8), 'blocks 100 and 101 differ').not.toEqual(words[0]?.slice(4, 8))
    expect(source.at(0, 11), 'deterministic').toEqual(run1[0])
    expect(source.at(0, 12).prompt, 'another run, other text').not.toBe(run1[0]?.prompt)
    expect(source.at(3, 11).index, 'repeats past the end').toBe(0)
  })
})

describe('trace load schema', () => {
  const target = { name: 'mock', engine: { kind: 'openai', model: 'm', mock: {} } }
  const issues = (input: unknown): string[] => {
    try {
      parseScenario(input)
    } catch (e) {
      return (e as ScenarioError).issues.map((i) => `${i.path}: ${i.message}`)
    }
    return []
  }
  it('fills defaults, needs no prompts when every load is a trace, and names bad fields', () => {
    const s = parseScenario({ name: 't', targets: [target], loads: [{ kind: 'trace', path: 'a.jsonl' }] })
    expect(s.loads[0], 'defaults').toEqual({
      kind: 'trace',
      path: 'a.jsonl',
      timeScale: 1,
      hashBlockTokens: 512,
      maxLines: 10_000,
      maxDurationS: 600,
    })
    expect(
      issues({
        name: 't',
        targets: [target],
        loads: [{ kind: 'trace', path: 'a.jsonl', timeScale: 0, speed: 2, maxLines: 1.5 }],
      }),
      'bad fields',
    ).toEqual([
      'loads[0].timeScale: must be > 0, got 0',
      'loads[0].maxLines: expected an int, got 1.5',
      'loads[0].speed: unknown field "speed"; remove it or check its spelling',
    ])
    expect(
      issues({
        name: 't',
        targets: [target],
        loads: [
          { kind: 'trace', path: 'a.jsonl' },
          { kind: 'sequential', requests: 2 },
        ],
      }),
      'another load still needs prompts',
    ).toEqual([expect.stringMatching(/^prompts: required to measure latency/)])
  })
})
