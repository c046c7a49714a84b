/**
 * Micro loads end to end on the tiny fixtures: runScenario drives real engines (llama-cpp in its isolated
 * child, onnx in-process) through tinybench and the database sink stores each run's figures in PGlite;
 * the figures are sane, a task that does not fit the context fails its run with a message naming the task
 * and the fix, the leaderboard leaves micro runs out, and the table and the run page show them.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadRun } from '../../dashboard/data/run.ts'
import { runPage } from '../../dashboard/views/run.ts'
import { leaderboard } from '../../db/queries/leaderboard.ts'
import { runMetrics, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { formatTable } from '../../harness/cli/format.ts'
import { parseScenario } from '../../harness/config/index.ts'
import { runScenario, type ScenarioRunResult } from '../../harness/runner.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { tinyModels } from '../helpers/fixture-models.ts'

/** Short bounds: each task runs ≥ 20 ms and ≥ 3 iterations after one warmup iteration. */
const bounds = { timeMs: 20, iterations: 3, warmupTimeMs: 0, warmupIterations: 1, maxTimeMs: 5000 }

describe('micro loads on the tiny fixtures', () => {
  let t: TestDatabase
  let result: ScenarioRunResult
  beforeAll(async () => {
    const models = await tinyModels()
    t = await createTestDatabase('pglite')
    const scenario = parseScenario({
      name: 'micro-e2e',
      seed: 3,
      targets: [
        {
          name: 'gguf',
          engine: { kind: 'llama-cpp', model: models.path('tiny-f32'), threads: 1, contextSize: 256 },
        },
        {
          name: 'onnx',
          engine: {
            kind: 'onnx',
            model: models.path('tiny-onnx-fp32'),
            intraOpNumThreads: 1,
            isolate: false,
          },
        },
      ],
      loads: [
        {
          kind: 'micro',
          tasks: [
            { kind: 'tokenize', chars: 300 },
            { kind: 'forward', promptTokens: 32 },
            { kind: 'prefill-decode', promptTokens: 32 },
          ],
          ...bounds,
        },
        // 300 tokens need a context of 301: more than the gguf target's 256; onnx graphs state none.
        { kind: 'micro', tasks: [{ kind: 'forward', promptTokens: 300 }], ...bounds },
        // A million iterations cannot finish in 60 ms: maxTimeMs stops tinybench, its statistics kept.
        {
          kind: 'micro',
          tasks: [{ kind: 'tokenize', chars: 100 }],
          timeMs: 50,
          iterations: 1_000_000,
          warmupTimeMs: 0,
          warmupIterations: 0,
          maxTimeMs: 60,
        },
      ],
    })
    const sink = createPostgresSink(t.db, { flushIntervalMs: 10, journalDir: false })
    result = await runScenario({ scenario, baseDir: process.cwd(), sink })
    await sink.close()
  }, 120_000)
  afterAll(async () => {
    await t?.dispose()
  })

  /** The stored figures of a run by name: value, unit, n. */
  async function figures(runId: string) {
    const rows = await t.db
      .select()
      .from(runMetrics)
      .where(eq(runMetrics.runId, Number(runId)))
    return new Map(rows.map((r) => [r.name, r]))
  }

  it('stores every task of both engines with sane figures', async () => {
    const first = result.runs.filter((r) => r.loadIndex === 0)
    expect(
      first.map((r) => [r.target, r.state]),
      'one completed run per target',
    ).toEqual([
      ['gguf', 'completed'],
      ['onnx', 'completed'],
    ])
    for (const run of first) {
      const [stored] = await t.db
        .select()
        .from(runs)
        .where(eq(runs.id, Number(run.runId)))
      expect(stored?.loadKind, `${run.target}: load kind`).toBe('micro')
      expect(stored?.state, `${run.target}: state`).toBe('completed')
      const m = await figures(run.runId)
      for (const task of ['tokenize-300', 'forward-32', 'prefill-decode-32']) {
        const get = (stat: string) => m.get(`micro/${task}/${stat}`)
        const at = `${run.target} ${task}`
        expect(get('samples')?.value, `${at}: samples ≥ iterations`).toBeGreaterThanOrEqual(3)
        expect(get('meanMs')?.value, `${at}: mean > 0`).toBeGreaterThan(0)
        expect(get('meanMs')?.unit, `${at}: mean in ms`).toBe('ms')
        expect(get('p99Ms')?.value, `${at}: p99 ≥ p50`).toBeGreaterThanOrEqual(
          get('p50Ms')?.value ?? Infinity,
        )
        expect(get('maxMs')?.value, `${at}: max ≥ p99`).toBeGreaterThanOrEqual(
          get('p99Ms')?.value ?? Infinity,
        )
        expect(get('minMs')?.value, `${at}: min ≤ p50`).toBeLessThanOrEqual(get('p50Ms')?.value ?? -1)
        expect(get('rmePct')?.value, `${at}: rme ≥ 0`).toBeGreaterThanOrEqual(0)
        expect(get('opsPerS')?.value, `${at}: ops/s > 0`).toBeGreaterThan(0)
        expect(get('meanMs')?.n, `${at}: n is the sample count`).toBe(get('samples')?.value)
        expect(get('aborted')?.value, `${at}: not aborted`).toBe(0)
      }
      // Throughput is ops/s × work per iteration (P, P + 1 tokens; N chars).
      const ops = (task: string) => m.get(`micro/${task}/opsPerS`)?.value ?? Number.NaN
      expect(m.get('micro/forward-32/tokensPerS')?.value, `${run.target}: forward tokens/s`).toBeCloseTo(
        ops('forward-32') * 32,
        6,
      )
      expect(
        m.get('micro/prefill-decode-32/tokensPerS')?.value,
        `${run.target}: prefill-decode tokens/s`,
      ).toBeCloseTo(ops('prefill-decode-32') * 33, 6)
      expect(m.get('micro/tokenize-300/charsPerS')?.value, `${run.target}: chars/s`).toBeCloseTo(
        ops('tokenize-300') * 300,
        6,
      )
      // The onnx fixture's byte vocabulary: one token per ASCII character. The GGUF's SentencePiece
      // vocabulary of bytes writes a space as ▁ (three UTF-8 bytes): more tokens, at most three per char.
      const tokens = m.get('micro/tokenize-300/tokensPerOp')?.value ?? 0
      if (run.target === 'onnx') expect(tokens, 'onnx: one token per character').toBe(300)
      else {
        expect(tokens, 'gguf: the spaces cost more than one token').toBeGreaterThan(300)
        expect(tokens, 'gguf: at most three tokens a character').toBeLessThanOrEqual(900)
      }
    }
  })

  it('fails a task that does not fit the context, saying which and how to fix it', async () => {
    const second = result.runs.filter((r) => r.loadIndex === 1)
    const gguf = second.find((r) => r.target === 'gguf')
    expect(gguf?.state, 'gguf: failed').toBe('failed')
    expect(gguf?.error, 'gguf: the reason').toBe(
      "micro task forward-300: forward of 300 tokens needs a context of 301 tokens but a sequence holds 256: raise the target's contextSize or lower promptTokens",
    )
    const [stored] = await t.db
      .select()
      .from(runs)
      .where(and(eq(runs.id, Number(gguf?.runId)), eq(runs.state, 'failed')))
    expect(stored?.error, 'stored with the reason').toBe(gguf?.error)
    expect(second.find((r) => r.target === 'onnx')?.state, 'onnx states no context: completed').toBe(
      'completed',
    )
    expect(result.state, 'the scenario failed').toBe('failed')
  })

  it('stops a task at maxTimeMs and keeps what it measured', async () => {
    for (const run of result.runs.filter((r) => r.loadIndex === 2)) {
      expect(run.state, `${run.target}: the run completes`).toBe('completed')
      const m = await figures(run.runId)
      expect(m.get('micro/tokenize-100/aborted')?.value, `${run.target}: aborted`).toBe(1)
      const samples = m.get('micro/tokenize-100/samples')?.value ?? 0
      expect(samples, `${run.target}: some iterations measured`).toBeGreaterThanOrEqual(1)
      expect(samples, `${run.target}: far from the million asked`).toBeLessThan(1_000_000)
      expect(run.micro?.[0]?.totalMs, `${run.target}: stopped near maxTimeMs`).toBeLessThan(2000)
    }
  })

  it('keeps micro runs off the leaderboard', async () => {
    const completed = await t.db.select().from(runs).where(eq(runs.state, 'completed'))
    expect(completed.length, 'completed micro runs exist').toBe(5)
    expect(await leaderboard(t.db, { scenario: 'micro-e2e' }), 'no leaderboard row').toEqual([])
  })

  it('prints a table row per task and shows the tasks on the run page', async () => {
    const table = formatTable(result.runs)
    expect(table, 'task rows').toMatch(/gguf\s+forward-32\s+completed\s+\d+/)
    expect(table, 'the failed task named under the table').toContain(
      'gguf / micro forward-300: micro task forward-300',
    )
    expect(table, 'no empty latency table').not.toContain('TTFT p99')
    const run = result.runs.find((r) => r.target === 'onnx' && r.loadIndex === 0)
    const html = String(runPage(await loadRun(t.db, Number(run?.runId))))
    expect(html, 'micro table').toContain('<table class="data" id="micro">')
    for (const task of ['tokenize-300', 'forward-32', 'prefill-decode-32'])
      expect(html, `row of ${task}`).toContain(`<tr data-task="${task}">`)
  })
})
