/**
 * A run's server metrics through storage: the database sink writes the record a real scrape of the mock
 * gave, the run page shows it (escaped), export → import carries it whole (document and streamed), and
 * the JSON-lines sink writes it as its own line before the finish line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../dashboard/app.ts'
import type { Db } from '../../../db/client.ts'
import { exportRun } from '../../../db/export.ts'
import { parseBenchRun, storeBenchRun } from '../../../db/import/bench-run.ts'
import { streamBenchRun } from '../../../db/import/bench-run-stream.ts'
import { readServerMetrics } from '../../../db/server-metrics.ts'
import { createPostgresSink } from '../../../db/sink.ts'
import { createJsonlSink } from '../../../harness/jsonl-sink.ts'
import { startMockServer } from '../../../harness/mock-server/server.ts'
import type { ServerMetricsRecord } from '../../../harness/server-metrics/session.ts'
import { startServerMetrics } from '../../../harness/server-metrics/session.ts'
import { teeSinks } from '../../../harness/tee-sink.ts'
import { runMeta } from '../../db/fixtures/data.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../../helpers/db.ts'
import { post } from '../../helpers/sse-client.ts'

/** A real record: the mock's vllm metrics around two requests of 3 + 4 prompt words, 2 + 5 tokens out. */
async function mockRecord(): Promise<ServerMetricsRecord> {
  const mock = await startMockServer({
    ttft: { kind: 'fixed', ms: 0 },
    itl: { kind: 'fixed', ms: 0 },
    personality: 'vllm',
    model: '<b>model</b>',
  })
  try {
    const session = await startServerMetrics({
      url: `${new URL(mock.url).origin}/metrics`,
      sampleIntervalMs: 0,
    })
    for (const [prompt, max_tokens] of [
      ['a b c', 2],
      ['d e f g', 5],
    ] as const)
      await post(`${mock.url}/completions`, { model: 'm', prompt, max_tokens })
    return await session.finish()
  } finally {
    await mock.close()
  }
}

const unavailable: ServerMetricsRecord = {
  url: 'http://127.0.0.1:9/metrics',
  state: 'unavailable',
  reason: 'GET http://127.0.0.1:9/metrics: HTTP 404 Not Found <i>',
  samples: 0,
  rows: [],
}

async function exported(db: Db, runId: number): Promise<string> {
  let text = ''
  await exportRun(db, runId, {
    format: 'json',
    env: {},
    write: (chunk) => {
      text += chunk
    },
  })
  return text
}

describe.each(dbBackends())('server metrics stored on %s', (backend) => {
  let source: TestDatabase
  let record: ServerMetricsRecord
  let runId: number
  let missingId: number
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bench-sm-'))
    ;[source, record] = await Promise.all([createTestDatabase(backend), mockRecord()])
    const sink = teeSinks([createPostgresSink(source.db), createJsonlSink(path.join(dir, 'out.jsonl'))])
    const recorder = await sink.startRun(runMeta())
    await recorder.serverMetrics?.(record)
    await recorder.finish('completed', undefined)
    runId = Number(recorder.runId)
    const other = await sink.startRun(runMeta({ startedAtIso: '2026-11-25T11:00:00.000Z' }))
    await other.serverMetrics?.(unavailable)
    await other.finish('completed', undefined)
    missingId = Number(other.runId)
    await sink.close()
  })
  afterAll(async () => {
    await source?.dispose()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('the database gives back the record as scraped', async () => {
    expect(record.state, record.reason).toBe('ok')
    const prompt = record.rows.find((r) => r.name === 'vllm:prompt_tokens_total')
    expect(prompt?.delta, 'prompt tokens of the two requests').toBe(7)
    expect(await readServerMetrics(source.db, runId), 'as stored').toEqual(record)
    expect(await readServerMetrics(source.db, missingId), 'unavailable, with its reason').toEqual(unavailable)
  })

  it('the JSON-lines sink writes a server-metrics line before the finish line', () => {
    const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; rows?: unknown[] })
    const types = lines.map((l) => l.type)
    expect(types.slice(0, 3), 'first run').toEqual(['run', 'server-metrics', 'finish'])
    expect(lines[1]?.rows?.length, 'every series').toBe(record.rows.length)
  })

  it('the run page shows the figures and every series, escaped; an unreadable /metrics says why', async () => {
    const app = createApp({ db: source.db, auth: {} })
    const html = await (await app.request(`/runs/${runId}`)).text()
    expect(html, 'section').toContain('<h2>Server metrics</h2>')
    expect(html, 'headline figure').toMatch(
      /<th scope="row">prompt tokens<\/th><td class="num">7 tokens<\/td>/,
    )
    expect(html, 'generation tokens').toMatch(/generation tokens<\/th><td class="num">7 tokens</)
    expect(html, 'label values escaped').toContain('model_name=&quot;&lt;b&gt;model&lt;/b&gt;&quot;')
    expect(html, 'no raw markup from the server').not.toContain('<b>model</b>')
    const api = (await (await app.request(`/api/runs/${runId}`)).json()) as { serverMetrics?: unknown }
    expect(api.serverMetrics, '/api/runs/:id carries the record').toEqual(record)
    const none = await (await app.request(`/runs/${missingId}`)).text()
    expect(none, 'reason, escaped').toContain(
      '<p id="server-metrics-none">None: GET http://127.0.0.1:9/metrics: HTTP 404 Not Found &lt;i&gt;.</p>',
    )
  })

  // One receiving database: the run with metrics stored whole, the one without streamed (the same run
  // twice would be answered as already there).
  it('export → import carries them, whole and streamed', async () => {
    const text = await exported(source.db, runId)
    expect(parseBenchRun(JSON.parse(text)).serverMetrics, 'in the document').toEqual(record)
    const target = await createTestDatabase(backend)
    try {
      const whole = await storeBenchRun(target.db, parseBenchRun(JSON.parse(text)), {
        source: 'x.json',
        env: {},
      })
      expect(await readServerMetrics(target.db, whole.id), 'stored whole').toEqual(record)
      const other = new TextEncoder().encode(await exported(source.db, missingId))
      const streamed = await streamBenchRun(
        target.db,
        (async function* () {
          yield other
        })(),
        { source: 'stream', env: {} },
      )
      expect(await readServerMetrics(target.db, streamed.id), 'streamed').toEqual(unavailable)
    } finally {
      await target.dispose()
    }
  })
})
