/**
 * `bench load` through the real CLI, loopback only, every load bounded by a request count (and 10 s):
 * - against the mock with a key: stored as an http-load run beside a streaming `bench run` run in the same
 *   database; its requests (no TTFT), figures and the dashboard's runs list, run page and leaderboard;
 * - against a server that echoes the key in its bodies and headers (401 for every other request): exit 1
 *   naming the error kind and count, and the key in no output — stdout (table and JSON), stderr, any
 *   database column, `bench export`;
 * - bad input: one line naming the flag and the fix.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { createDb, type Db, selectRows } from '../../db/client.ts'
import { requests, runMetrics, runs } from '../../db/schema.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { runCli } from '../helpers/cli.ts'
import { freshPgliteDir, removeTestDir } from '../helpers/db.ts'

// A fresh key each run: a leak can only come from this run. The variable's name does not look secret.
const KEY = `sk-load-${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`
const KEY_ENV = 'BENCH_LOAD_ENDPOINT_CRED'
/** Each CLI run (start, database, load) on a loaded 2-core box: took up to ~60 s at load average 24. */
const CLI_TIMEOUT_MS = 150_000
const NEEDLES = { key: KEY, 'middle of the key': KEY.slice(10, 26) }

let mock: MockServerHandle
let echo: Server
let echoUrl: string
let work: string
beforeAll(async () => {
  mock = await startMockServerInWorker({
    ttft: { kind: 'fixed', ms: 5 },
    itl: { kind: 'fixed', ms: 1 },
    apiKey: KEY,
  })
  // Echoes the Authorization header: every other request 401 with it in the body and a header, the rest
  // 200 with it in the answer's text.
  let n = 0
  echo = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const auth = req.headers.authorization ?? ''
      const denied = n++ % 2 === 0
      res.writeHead(denied ? 401 : 200, { 'content-type': 'application/json', 'x-echo-key': auth })
      res.end(
        JSON.stringify(
          denied
            ? {
                error: {
                  message: `Incorrect API key provided: ${auth.slice(7)}`,
                  type: 'invalid_request_error',
                },
              }
            : {
                choices: [{ index: 0, message: { role: 'assistant', content: `you sent ${auth}` } }],
                usage: { prompt_tokens: 3, completion_tokens: 4 },
              },
        ),
      )
    })
  })
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/v1`
  work = mkdtempSync(path.join(os.tmpdir(), 'bench-http-load-'))
})
afterAll(async () => {
  await mock?.close()
  echo?.closeAllConnections()
  await new Promise((resolve) => echo?.close(resolve))
  if (work) rmSync(work, { recursive: true, force: true })
})

/** Every column of every table, as text, holding a needle: `table.column: what`. */
async function databaseLeaks(db: Db): Promise<string[]> {
  const columns = await selectRows<{ table_name: string; column_name: string }>(
    db,
    sql`select table_name, column_name from information_schema.columns where table_schema = 'public'`,
  )
  expect(columns.length, 'columns searched').toBeGreaterThan(50)
  const found: string[] = []
  for (const c of columns)
    for (const [what, needle] of Object.entries(NEEDLES)) {
      const [row] = await selectRows<{ n: number | string }>(
        db,
        sql`select count(*) as n from ${sql.identifier(c.table_name)} where strpos(${sql.identifier(c.table_name)}.${sql.identifier(c.column_name)}::text, ${needle}) > 0`,
      )
      if (Number(row?.n) > 0) found.push(`${c.table_name}.${c.column_name}: ${what}`)
    }
  return found
}

describe.concurrent('bench load', () => {
  it('stores an http-load run beside a streaming run; the dashboard lists and shows it, the leaderboard holds', async () => {
    const dataDir = await freshPgliteDir()
    try {
      const scenario = path.join(work, 'stream.json')
      writeFileSync(
        scenario,
        JSON.stringify({
          name: 'stream-beside',
          prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
          targets: [
            {
              name: 'mock',
              engine: { kind: 'openai', baseUrl: mock.url, model: 'mock-model', apiKeyEnv: KEY_ENV },
            },
          ],
          loads: [{ kind: 'sequential', requests: 3 }],
          warmupRequests: 0,
        }),
      )
      const env = { [KEY_ENV]: KEY }
      const streaming = await runCli(['run', scenario, '--db', dataDir], { env, timeoutMs: CLI_TIMEOUT_MS })

      expect(streaming.code, streaming.stderr).toBe(0)
      const r = await runCli(
        [
          'load',
          mock.url,
          '--api-key-env',
          KEY_ENV,
          '--requests',
          '60',
          // 40 a second: the load spans two seconds, so progress lines come whatever the machine.
          '--rate',
          '40',
          '--prompt-tokens',
          '8',
          '--output-tokens',
          '4',
          '--json',
          '--db',
          dataDir,
        ],
        { env, timeoutMs: CLI_TIMEOUT_MS },
      )
      expect(r.code, r.stderr).toBe(0)
      expect(`${r.stdout}${r.stderr}${streaming.stdout}${streaming.stderr}`).not.toContain(KEY)
      // Progress once a second, on stderr.
      expect(r.stderr).toMatch(/http-load 1\/10 s · \d+ responses · \d+\/s · 0 errors/)
      const report = JSON.parse(r.stdout) as {
        runId: string
        model: string
        attempted: number
        ok: number
        statusCounts: Record<string, number>
        e2eMs: { p50: number; p99: number; n: number }
        requestsPerS: number
        outputTokensPerS: number
        autocannon: { responses: number }
      }
      expect(report.model, 'the first model of GET /models').toBe('mock-model')
      expect(report).toMatchObject({ attempted: 60, ok: 60, statusCounts: { '200': 60 } })
      expect(report.autocannon.responses).toBe(60)
      expect(report.e2eMs.n).toBe(60)
      expect(report.e2eMs.p50, 'the mock answers after 5 ms + 3 × 1 ms').toBeGreaterThanOrEqual(5)
      expect(report.requestsPerS).toBeGreaterThan(0)
      expect(report.outputTokensPerS, '4 tokens per answer (usage)').toBeCloseTo(report.requestsPerS * 4, 6)

      const db = await createDb({ dataDir })
      try {
        const runId = Number(report.runId)
        const [run] = await db.select().from(runs).where(eq(runs.id, runId))
        expect(run).toMatchObject({ loadKind: 'http-load', state: 'completed', scenarioName: 'http-load' })
        expect(run?.engineOptions).toEqual({ baseUrl: mock.url, model: 'mock-model', apiKeyEnv: KEY_ENV })
        const rows = await db.select().from(requests).where(eq(requests.runId, runId))
        expect(rows.length, 'one row per request').toBe(60)
        expect(
          rows.every(
            (x) => x.state === 'ok' && x.ttftMs === null && x.e2eMs !== null && x.outputTokens === 4,
          ),
        ).toBe(true)
        const metrics = new Map(
          (await db.select().from(runMetrics).where(eq(runMetrics.runId, runId))).map((m) => [
            m.name,
            m.value,
          ]),
        )
        // The stored p50 is the percentile of the stored rows: one set of samples.
        const sorted = rows.map((x) => x.e2eMs!).sort((a, b) => a - b)
        expect(metrics.get('e2eMsP50')).toBeCloseTo((sorted[29]! + sorted[30]!) / 2, 9)
        expect(metrics.get('httpStatus/200')).toBe(60)
        expect(metrics.get('errorRate')).toBe(0)
        expect([...metrics.keys()].filter((k) => k.startsWith('ttft'))).toEqual([])
        const app = createApp({ db, auth: {} })
        const list = await (await app.request('/runs')).text()
        expect(list).toContain('http-load chat 40/s')
        expect(list).toContain('stream-beside')
        const page = await (await app.request(`/runs/${runId}`)).text()
        const table = /<table class="data" id="http-load">[\s\S]*?<\/table>/.exec(page)?.[0] ?? ''
        expect(table).toContain('<th scope="col">requests/s</th>')
        expect(/<table class="data" id="http-status">[\s\S]*?<\/table>/.exec(page)?.[0]).toContain(
          '<th scope="row">200</th><td class="num">60</td><td class="num">100 %</td>',
        )
        expect(page).toContain('id="percentiles"')
        // Its one per-request chart: the latency CDF of the 60 responses (no TTFT or token timeline).
        expect(page).toContain('<canvas id="chart-e2e-cdf"')
        expect(page).not.toContain('No per-request rows to chart.')
        // No TTFT: the leaderboard of its scenario and the one of every scenario still render.
        for (const where of ['/', '/?scenario=http-load', '/?scenario=stream-beside']) {
          const res = await app.request(where)
          expect(res.status, where).toBe(200)
        }
        // Its own leaderboard row: throughput and errors, no TTFT or TPOT figure (shown as –).
        const board = (await (await app.request('/api/leaderboard?scenario=http-load')).json()) as {
          rows: { runId: number; loadKind: string; metrics: Record<string, { value: number }> }[]
        }
        expect(board.rows.map((row) => [row.runId, row.loadKind])).toEqual([[runId, 'http-load']])
        expect(Object.keys(board.rows[0]!.metrics).sort()).toEqual([
          'errorRate',
          'outputTokensPerS',
          'requestsPerS',
        ])
      } finally {
        await db.close()
      }
    } finally {
      removeTestDir(dataDir)
    }
  }, 300_000)

  it('a server that echoes the key: exit 1 naming the errors; the key in no output, column or export', async () => {
    const dataDir = await freshPgliteDir()
    try {
      const env = { [KEY_ENV]: KEY }
      const base = ['load', echoUrl, '--api-key-env', KEY_ENV, '--requests', '20', '--connections', '2']
      // --model is the key itself, so the report and the run row would carry it if nothing redacted them.
      const [table, json] = await Promise.all([
        runCli([...base, '--model', KEY, '--no-db'], { env, timeoutMs: CLI_TIMEOUT_MS }),
        runCli([...base, '--model', KEY, '--json', '--label', `label ${KEY}`, '--db', dataDir], {
          env,
          timeoutMs: CLI_TIMEOUT_MS,
        }),
      ])
      for (const r of [table, json]) {
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toContain('error rate 50.0 % (10 of 20) > max 1 %: http 401 ×10')
      }
      expect(table.stdout).toContain('status     200 ×10 · 401 ×10')
      const report = JSON.parse(json.stdout) as { runId: string }
      const exported = path.join(work, 'export.json')
      const exp = await runCli(['export', report.runId, '--db', dataDir, '--out', exported], {
        env,
        timeoutMs: CLI_TIMEOUT_MS,
      })
      expect(exp.code, exp.stderr).toBe(0)
      const outputs = [table, json, exp].flatMap((r) => [r.stdout, r.stderr])
      outputs.push(readFileSync(exported, 'utf8'))
      for (const [what, needle] of Object.entries(NEEDLES))
        expect(outputs.filter((o) => o.includes(needle)).length, `${what} in an output`).toBe(0)
      // The 401 bodies are kept as the errors' messages, the key replaced.
      expect(readFileSync(exported, 'utf8')).toContain(`Incorrect API key provided: [redacted:${KEY_ENV}]`)
      const db = await createDb({ dataDir })
      try {
        expect(await databaseLeaks(db)).toEqual([])
        const [run] = await db
          .select()
          .from(runs)
          .where(eq(runs.id, Number(report.runId)))
        expect(run?.state).toBe('failed')
        expect(run?.error).toContain('http 401 ×10')
      } finally {
        await db.close()
      }
    } finally {
      removeTestDir(dataDir)
    }
  }, 300_000)

  it('bad input is one line naming the flag and the fix', async () => {
    const body = path.join(work, 'stream-body.json')
    writeFileSync(body, JSON.stringify({ model: 'm', messages: [], stream: true }))
    const [conflict, streamBody, notUrl, halfRate] = await Promise.all([
      runCli(['load', mock.url, '--connections', '4', '--rate', '5', '--no-db'], {
        timeoutMs: CLI_TIMEOUT_MS,
      }),
      runCli(['load', mock.url, '--body', body, '--no-db'], { timeoutMs: CLI_TIMEOUT_MS }),
      runCli(['load', 'localhost:8000', '--no-db'], { timeoutMs: CLI_TIMEOUT_MS }),
      // autocannon paces whole requests per second: a fraction is refused before any request.
      runCli(['load', mock.url, '--rate', '0.5', '--no-db'], { timeoutMs: CLI_TIMEOUT_MS }),
    ])
    expect(conflict.code).toBe(1)
    expect(conflict.stderr.split('\n')[0]).toBe(
      "error: option '--connections <n>' cannot be used with option '--rate <r>'",
    )
    expect(streamBody.code).toBe(1)
    expect(streamBody.stderr).toContain('"stream": true — bench load measures whole (non-streamed) responses')
    expect(notUrl.code).toBe(1)
    expect(notUrl.stderr).toContain('<base-url> must be http:// or https://')
    expect(halfRate.code).toBe(1)
    expect(halfRate.stderr.split('\n')[0]).toContain(
      '--rate expects a whole number of requests/s ≥ 1, got "0.5": autocannon paces whole requests',
    )
  }, 300_000)
})
