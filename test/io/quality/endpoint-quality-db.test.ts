/**
 * Quality of an endpoint stored like native quality: a scenario with the native tiny-onnx-fp32 reference and
 * the vllm mock backed by tiny-onnx-int8 (onnx engine inside the mock) runs through the database sink; read
 * back, both runs are `load_kind` 'quality' with the same spec and klDivergence / top1Agreement rows, and the
 * endpoint's run alone has `qualityTopK` = 20 — the mark that its figures are approximate.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMetrics, runs } from '../../../db/schema.ts'
import { createPostgresSink } from '../../../db/sink.ts'
import { parseScenario } from '../../../harness/config/index.ts'
import { startMockServer } from '../../../harness/mock-server/server.ts'
import { createEngineLogprobsModel } from '../../../harness/quality/mock-model.ts'
import { runScenario } from '../../../harness/runner.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts'
import { tinyModels } from '../../helpers/fixture-models.ts'

let dir: string
let t: TestDatabase
const closers: (() => PromiseLike<void>)[] = []
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-endpoint-quality-db-'))
  writeFileSync(
    join(dir, 'corpus.txt'),
    'The river runs past the city; winter music fills the garden. '.repeat(8),
  )
  t = await createTestDatabase('pglite')
})
afterAll(async () => {
  for (const close of closers.reverse()) await close()
  await t?.dispose()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('endpoint quality in the database', () => {
  it('stored as a quality run with its figures, qualityTopK marking it approximate', async () => {
    const models = await tinyModels()
    const logprobsModel = await createEngineLogprobsModel({
      kind: 'onnx',
      modelPath: models.path('tiny-onnx-int8'),
    })
    closers.push(() => logprobsModel[Symbol.asyncDispose]())
    const mock = await startMockServer({ personality: 'vllm', model: 'int8' }, {}, { logprobsModel })
    closers.push(() => mock.close())
    const sink = createPostgresSink(t.db, { flushIntervalMs: 20 })
    const result = await runScenario({
      scenario: parseScenario({
        name: 'endpoint-quality-db',
        measure: ['quality'],
        quality: { corpus: 'corpus.txt', reference: 'fp32', contextTokens: 64, maxTokens: 124 },
        targets: [
          {
            name: 'fp32',
            engine: {
              kind: 'onnx',
              model: models.path('tiny-onnx-fp32'),
              intraOpNumThreads: 1,
              isolate: false,
            },
          },
          {
            name: 'vllm-int8',
            engine: { kind: 'openai', baseUrl: mock.url, model: 'int8', api: 'completions' },
          },
        ],
      }),
      baseDir: dir,
      sink,
      monitorEventLoop: false,
    })
    await sink.close()
    expect(result.state, result.runs.map((r) => r.error).join('; ')).toBe('completed')
    const stored = async (target: string) => {
      const id = Number(result.runs.find((r) => r.target === target)?.runId)
      const [run] = await t.db.select().from(runs).where(eq(runs.id, id))
      const rows = await t.db.select().from(runMetrics).where(eq(runMetrics.runId, id))
      return { run, figure: (name: string) => rows.find((r) => r.name === name) }
    }
    const native = await stored('fp32')
    const endpoint = await stored('vllm-int8')
    for (const { run } of [native, endpoint]) {
      expect(run?.loadKind).toBe('quality')
      expect(run?.load, 'the same spec').toMatchObject({ kind: 'quality', reference: 'fp32', maxTokens: 124 })
    }
    expect(endpoint.figure('klDivergence')?.value, 'int8 moves the distributions').toBeGreaterThan(0)
    expect(endpoint.figure('klDivergence')).toMatchObject({ unit: 'nats', direction: 'lower', n: 124 })
    expect(endpoint.figure('top1Agreement')?.value).toBeGreaterThan(0.5)
    expect(endpoint.figure('qualityTopK'), 'approximate: k stored').toMatchObject({
      value: 20,
      unit: 'count',
    })
    expect(native.figure('klDivergence')?.value, 'the reference against itself').toBe(0)
    expect(native.figure('qualityTopK'), 'native: exact').toBeUndefined()
  })
})
