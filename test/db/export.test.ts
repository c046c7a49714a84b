import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CSV_COLUMNS, exportRun, float32Text, RunNotFoundError } from '../../db/export.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { errorOutcome, okOutcome, runMeta } from './fixtures/data.ts'
import { resultsCli } from './fixtures/results-cli-run.ts'

async function collect(run: (write: (chunk: string) => void) => Promise<unknown>): Promise<string> {
  let text = ''
  await run((chunk) => {
    text += chunk
  })
  return text
}

const outcomes: RequestOutcome[] = [
  okOutcome(0, { chunkGapsMs: [1.5, 2.25, 0.1], outputTokens: 4, ttftMs: 10, e2eMs: 40 }),
  okOutcome(1, { chunkGapsMs: [] }),
  errorOutcome(2, 'upstream said "no", twice\nthen hung up'),
]

/** A database with one run of `outcomes`; returns its id. */
async function withRun(t: TestDatabase): Promise<number> {
  const sink = createPostgresSink(t.db)
  const recorder = await sink.startRun(runMeta({ label: 'export' }))
  for (const o of outcomes) recorder.record(o)
  await recorder.finish('completed', summarizeRun(outcomes))
  await sink.close()
  return Number(recorder.runId)
}

describe.each(dbBackends())('bench export on %s', (backend) => {
  let t: TestDatabase
  let runId: number
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    runId = await withRun(t)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('writes JSON with the run, its metrics and every request', async () => {
    // A page size of 2 makes the requests span pages.
    const text = await collect((write) => exportRun(t.db, runId, { format: 'json', write, pageSize: 2 }))
    const doc = JSON.parse(text) as {
      format: string
      version: number
      run: { id: number; label: string; state: string }
      metrics: { name: string; value: number }[]
      requestCounts: { total: number }
      requests: {
        seq: number
        state: string
        chunkGapsMs: number[] | null
        tpotMs: number | null
        message: string | null
      }[]
    }
    expect([doc.format, doc.version], 'a versioned document (what bench import and push read)').toEqual([
      'bench-run',
      1,
    ])
    expect(Object.keys(doc)[0], 'format first, so a reader can tell at once').toBe('format')
    expect([doc.run.id, doc.run.label, doc.run.state], 'run').toEqual([runId, 'export', 'completed'])
    expect(doc.metrics.find((m) => m.name === 'ok')?.value, 'metrics').toBe(2)
    expect(doc.requestCounts.total, 'counts').toBe(3)
    expect(
      doc.requests.map((r) => r.seq),
      'requests in order across pages',
    ).toEqual([0, 1, 2])
    expect(doc.requests[0]?.chunkGapsMs, 'gaps in their shortest float32 form').toEqual([1.5, 2.25, 0.1])
    // (40 − 10) / (4 − 1)
    expect(doc.requests[0]?.tpotMs, 'tpotMs').toBe(10)
    expect(doc.requests[1]?.chunkGapsMs, 'no gaps').toEqual([])
    expect(doc.requests[2]?.chunkGapsMs, 'error').toBeNull()
    expect(doc.requests[2]?.message, 'message').toBe('upstream said "no", twice\nthen hung up')
  })

  it('writes CSV, one row per request, quoting what needs it', async () => {
    const text = await collect((write) => exportRun(t.db, runId, { format: 'csv', write }))
    const [header, first, second] = text.split('\n')
    expect(header, 'header').toBe(CSV_COLUMNS.join(','))
    const cells = first?.split(',') ?? []
    const at = (name: (typeof CSV_COLUMNS)[number]) => cells[CSV_COLUMNS.indexOf(name)]
    expect([at('seq'), at('state'), at('ttftMs'), at('tpotMs'), at('e2eMs')], 'first row').toEqual([
      '0',
      'ok',
      '10',
      '10',
      '40',
    ])
    expect(at('chunkGapsMs'), 'gaps space-separated').toBe('1.5 2.25 0.1')
    expect(at('errorKind'), 'empty cell for null').toBe('')
    expect(second?.split(',')[CSV_COLUMNS.indexOf('chunkGapsMs')], 'no gaps').toBe('')
    expect(text, 'quoted message with doubled quotes and a newline').toContain(
      '"upstream said ""no"", twice\nthen hung up"',
    )
    expect(text.endsWith('\n'), 'ends with a newline').toBe(true)
  })

  it('rejects an unknown run', async () => {
    await expect(
      exportRun(t.db, 999_999, { format: 'csv', write: () => {} }),
      'unknown',
    ).rejects.toBeInstanceOf(RunNotFoundError)
  })
})

// One backend is enough for the command line (each command is a process start); PGlite also exercises
// reaching a directory this process owns through its socket.
describe('bench import, runs and export from the command line', () => {
  let t: TestDatabase
  let tmp: string
  let runId: number
  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-export-cli-'))
    runId = await withRun(t)
  })
  afterAll(async () => {
    await t?.dispose()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('imports, lists, shows and exports through the CLI; bad input exits 1 naming the file', async () => {
    const db = t.options.url ?? t.options.dataDir ?? ''
    const fixture = path.join(import.meta.dirname, 'fixtures/llama-bench.json')
    const imported = await resultsCli(['import', fixture, '--db', db])
    expect([imported.code, imported.stderr], 'import exit code').toEqual([0, ''])
    expect(imported.stdout, 'import report').toMatch(
      /llama-bench\.json \(llama-bench\): 2 runs imported\n {2}run (\d+): scenario llama-bench, target big-byte-e512-l8-succ-f32, 4 metrics, 0 requests/,
    )
    const list = await resultsCli(['runs', 'list', '--scenario', 'llama-bench', '--json', '--db', db])
    expect(list.code, 'list exit code').toBe(0)
    const listed = JSON.parse(list.stdout) as { id: number; targetName: string; importedFormat: string }[]
    expect(
      listed.map((r) => [r.targetName, r.importedFormat]),
      'listed',
    ).toEqual([
      ['big-byte-e512-l8-succ-Q4_0', 'llama-bench'],
      ['big-byte-e512-l8-succ-f32', 'llama-bench'],
    ])
    const show = await resultsCli(['runs', 'show', String(listed[0]?.id), '--db', db])
    expect(show.code, 'show exit code').toBe(0)
    expect(show.stdout, 'variant line').toMatch(
      /variant\s+big-byte-e512-l8-succ-Q4_0, quantized, Q4_0, 4\.52 bits/,
    )
    expect(show.stdout, 'metric row').toMatch(/genTokensPerS\s+1001\.2\s+tokens\/s\s+3\s+higher/)
    const out = path.join(tmp, 'run.csv')
    const exported = await resultsCli(['export', String(runId), '--format', 'csv', '--out', out, '--db', db])
    expect([exported.code, exported.stderr], 'export').toEqual([
      0,
      `run ${runId}: 3 requests written to ${out}\n`,
    ])
    expect(readFileSync(out, 'utf8').split('\n')[0], 'csv file').toBe(CSV_COLUMNS.join(','))
    const bad = path.join(import.meta.dirname, 'fixtures/README.md')
    const refused = await resultsCli(['import', bad, '--db', db])
    expect(refused.code, 'bad file exit code').toBe(1)
    expect(refused.stderr, 'message names the file').toMatch(
      /^bench: cannot import .*fixtures\/README\.md: not valid JSON/,
    )
    const missing = await resultsCli(['runs', 'show', '999999', '--db', db])
    expect([missing.code, missing.stderr], 'unknown run').toEqual([
      1,
      expect.stringMatching(/run 999999 does not exist/),
    ])
  })
})

describe('float32Text', () => {
  it('prints the fewest digits that read back as the same float32', () => {
    expect(float32Text(Math.fround(0.1)), '0.1').toBe('0.1')
    // float32(24.327685) = 24.3276844…: the nearest 8-digit decimal reads back as it.
    expect(float32Text(Math.fround(24.327685)), 'a vLLM gap').toBe('24.327684')
    expect(float32Text(2.25), 'exact').toBe('2.25')
    expect(float32Text(Math.fround(1 / 3)), 'a third').toBe('0.33333334')
  })
})
