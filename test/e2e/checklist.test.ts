import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { createDb } from '../../db/client.ts'
import { runMetrics, runs } from '../../db/schema.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { runCli } from '../helpers/cli.ts'
import { freshPgliteDir, removeTestDir } from '../helpers/db.ts'

/**
 * `bench checklist` through the real CLI against the mock in a worker thread, loopback only. Latency bounds
 * are generous (a loaded 2-core box must not fail them); the verdict logic at given numbers is
 * test/unit/checklist/. Every load is small: 2 + 8 requests, a burst of at most 60.
 */
const SMALL = ['--sequential-requests', '2', '--requests', '8', '--concurrency', '2', '--output-tokens', '8']
const GENEROUS = [
  '--ttft-p50-ms',
  '5000',
  '--ttft-p95-ms',
  '10000',
  '--ttft-p99-ms',
  '10000',
  '--min-decode-tok-s',
  '1',
]
const KEY = 'sk-checklist-test-0123456789abcdef'

let open: MockServerHandle
let secured: MockServerHandle
beforeAll(async () => {
  const delays = { ttft: { kind: 'fixed', ms: 5 }, itl: { kind: 'fixed', ms: 2 } } as const
  ;[open, secured] = await Promise.all([
    startMockServerInWorker({ ...delays }),
    // 20 tokens refilled at 20/s: the checklist's load (~12 requests over ~0.5 s) stays inside it, the
    // burst of up to 60 at 16 in flight does not.
    startMockServerInWorker({ ...delays, apiKey: KEY, rateLimit: { requestsPerS: 20, burst: 20 } }),
  ])
})
afterAll(async () => {
  await Promise.all([open?.close(), secured?.close()])
})

/** The Markdown table's rows by item: [verdict, value, threshold, note]. */
function mdRows(md: string): Map<string, string[]> {
  const rows = new Map<string, string[]>()
  for (const line of md.split('\n')) {
    const m = /^\| `([a-z0-9-]+)` \| (.+) \|$/.exec(line)
    if (m) rows.set(m[1]!, m[2]!.split(' | '))
  }
  return rows
}

describe('bench checklist', () => {
  it('an endpoint without auth: the auth item FAILs, exit 1, Markdown has the table', async () => {
    const r = await runCli([
      'checklist',
      open.url,
      ...SMALL,
      ...GENEROUS,
      '--burst',
      '30',
      '--format',
      'md',
      '--no-db',
    ])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toContain('| item | verdict | value | threshold | note |')
    const rows = mdRows(r.stdout)
    expect([...rows.keys()]).toEqual([
      'ttft-p50',
      'ttft-p95',
      'ttft-p99',
      'decode-tok-s',
      'qps',
      'error-rate',
      'health',
      'auth',
      'rate-limit',
      'streaming',
      'usage',
      'tls',
    ])
    expect(rows.get('auth')?.[0]).toBe('❌ FAIL')
    expect(rows.get('auth')?.[3]).toMatch(/anyone can call this endpoint/)
    // No limiter on this mock: the bounded burst (30 requests) ran to its end without a 429.
    expect(rows.get('rate-limit')?.[0]).toBe('⚠️ WARN')
    expect(rows.get('rate-limit')?.[3]).toMatch(
      /^no rate limit seen: a burst of 30 requests in [\d.]+ s got no 429$/,
    )
    for (const id of ['error-rate', 'health', 'streaming', 'usage', 'tls'])
      expect(rows.get(id)?.[0], `${id}: ${rows.get(id)?.join(' | ')}`).toBe('✅ PASS')
    expect(rows.get('error-rate')?.[1]).toBe('0 % (0 of 10)')
  }, 30_000)

  it('with an API key and a rate limit: auth and rate limit PASS, exit 0; stored as a run; the key never printed', async () => {
    const dataDir = await freshPgliteDir()
    try {
      // --model is the key itself, so the report would echo it if nothing redacted it.
      const args = [
        'checklist',
        secured.url,
        ...SMALL,
        ...GENEROUS,
        '--burst',
        '60',
        '--api-key-env',
        'CHECK_KEY',
      ]
      const r = await runCli([...args, '--model', KEY, '--format', 'json', '--db', dataDir], {
        env: { CHECK_KEY: KEY },
      })
      expect(`${r.stdout}${r.stderr}`).not.toContain(KEY)
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
      const report = JSON.parse(r.stdout) as {
        passed: boolean
        runId: string
        items: { id: string; verdict: string; value: string; note: string }[]
      }
      const byId = new Map(report.items.map((i) => [i.id, i]))
      expect(report.passed).toBe(true)
      expect(byId.get('auth')).toMatchObject({ verdict: 'PASS', value: 'HTTP 401' })
      expect(byId.get('rate-limit')?.verdict).toBe('PASS')
      expect(byId.get('rate-limit')?.value).toMatch(/^429 at request \d+$/)
      expect(byId.get('error-rate')?.value).toBe('0 % (0 of 10)')

      const db = await createDb({ dataDir })
      try {
        const [run] = await db
          .select()
          .from(runs)
          .where(eq(runs.id, Number(report.runId)))
        expect(run?.loadKind).toBe('checklist')
        expect(run?.state).toBe('completed')
        expect(JSON.stringify(run)).not.toContain(KEY)
        const rows = await db
          .select()
          .from(runMetrics)
          .where(eq(runMetrics.runId, Number(report.runId)))
        const value = (name: string) => rows.find((m) => m.name === name)?.value
        expect(value('checklist/auth')).toBe(1)
        expect(value('checklist/rate-limit')).toBe(1)
        expect(value('checklist/tls')).toBe(1)
        expect(value('checklist/error-rate/value')).toBe(0)
        expect(value('checklist/ttft-p95/value')).toBeGreaterThan(0)

        // The run page shows the items as a table.
        const page = await (await createApp({ db, auth: {} }).request(`/runs/${report.runId}`)).text()
        const table = /<table class="data" id="checklist">[\s\S]*?<\/table>/.exec(page)?.[0] ?? ''
        expect(table).toContain('<th scope="row">auth</th><td class="verdict verdict-pass">PASS</td>')
        expect(table).toContain('<td>HTTP 429 within 60 requests</td>')
        expect(table).toContain('<td>≤ 10,000 ms</td>')
        expect((table.match(/<tr><th scope="row">/g) ?? []).length).toBe(12)
      } finally {
        await db.close()
      }
    } finally {
      removeTestDir(dataDir)
    }
    // The first database test of a new schema builds the migrated template (test/helpers/db.ts) first.
  }, 60_000)

  it('a bad flag is one line naming it', async () => {
    const r = await runCli(['checklist', open.url, '--concurrency', 'many', '--no-db'])
    expect(r.code).toBe(1)
    expect(r.stderr.split('\n')[0]).toBe(
      "error: option '--concurrency <n>' argument 'many' is invalid. --concurrency expects an integer ≥ 1, got \"many\"",
    )
  })
})
