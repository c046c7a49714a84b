/**
 * `bench push` end to end: the real CLI in a child process exports runs from its own PGlite database and
 * POSTs them to a real dashboard (startDashboard on 127.0.0.1, port 0) over another PGlite database. The
 * token comes from BENCH_TOKEN and never appears in any output. And `bench import` of the same document.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunModel } from '../../dashboard/data/run.ts'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { exportRun } from '../../db/export.ts'
import { getRunDetail } from '../../db/queries/index.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

const TOKEN = 'push-token-0123456789'

describe('bench push', () => {
  let local: TestDatabase
  let central: TestDatabase
  let dashboard: RunningDashboard
  let localIds: number[]
  let tmp: string | undefined
  beforeAll(async () => {
    ;[local, central] = await Promise.all([createTestDatabase('pglite'), createTestDatabase('pglite')])
    localIds = await seedRuns(local.db, [
      { tag: 7, startedAtIso: '2026-11-25T10:00:00Z', errorRequests: 1 },
      { tag: 9, startedAtIso: '2026-11-25T11:00:00Z' },
    ])
    dashboard = await startDashboard({ db: central.db, auth: { token: TOKEN }, port: 0 })
    tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-push-'))
  })
  afterAll(async () => {
    await dashboard?.close()
    await Promise.all([local?.dispose(), central?.dispose()])
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  const push = (args: string[], token: string | undefined = TOKEN) =>
    runCli(['push', ...args, '--db', local.options.dataDir ?? ''], {
      env: { BENCH_TOKEN: token ?? '', BENCH_DEBUG: '' },
    })
  // Each CLI start opens the local PGlite through this process (its socket): seconds each on 2 cores.
  const CLI_TEST_MS = 120_000
  const noToken = (r: { stdout: string; stderr: string }) =>
    expect(`${r.stdout}${r.stderr}`.includes(TOKEN), 'token never printed').toBe(false)

  it(
    'sends runs and prints where they are; a second push finds them there',
    async () => {
      const first = await push([...localIds.map(String), '--url', dashboard.url])
      noToken(first)
      expect([first.code, first.stderr], 'exit 0').toEqual([0, ''])
      const lines = first.stdout.trim().split('\n')
      const remote = lines.map((line) => Number(/→ run (\d+): /.exec(line)?.[1]))
      expect(lines, 'one line per run').toEqual(
        localIds.map(
          (id, i) => `run ${id} → run ${remote[i]}: ${new URL(`/runs/${remote[i]}`, dashboard.url)}`,
        ),
      )
      for (const [i, id] of remote.entries()) {
        const res = await fetch(new URL(`/api/runs/${id}`, dashboard.url))
        const model = (await res.json()) as RunModel
        const original = await getRunDetail(local.db, localIds[i] as number)
        expect(
          [res.status, model.detail.run.fingerprint, model.detail.run.startedAt, model.detail.requests.total],
          `run ${id} on the dashboard`,
        ).toEqual([
          200,
          original?.run.fingerprint,
          original?.run.startedAt.toISOString(),
          original?.requests.total,
        ])
      }

      const again = await push([String(localIds[0]), '--url', dashboard.url, '--json'])
      noToken(again)
      expect([again.code, JSON.parse(again.stdout)], 'repeat').toEqual([
        0,
        [
          {
            runId: localIds[0],
            remoteId: remote[0],
            url: new URL(`/runs/${remote[0]}`, dashboard.url).href,
            state: 'exists',
          },
        ],
      ])
    },
    CLI_TEST_MS,
  )

  it(
    'exits 1 naming the problem and the fix, without printing the token',
    async () => {
      const url = ['--url', dashboard.url]
      const missing = await push([String(localIds[0]), ...url], '')
      expect([missing.code, missing.stderr], 'no BENCH_TOKEN').toEqual([
        1,
        expect.stringMatching(
          /^bench: bench push needs the dashboard’s write token in the BENCH_TOKEN environment/,
        ),
      ])
      const wrong = await push([String(localIds[0]), ...url], `${TOKEN}-wrong`)
      noToken(wrong)
      expect([wrong.code, wrong.stderr], 'wrong token').toEqual([
        1,
        expect.stringMatching(
          /^bench: the dashboard refused run \d+ \(HTTP 401\).*BENCH_TOKEN here must equal the BENCH_TOKEN the dashboard was started with/,
        ),
      ])
      const unknown = await push(['999999', ...url])
      noToken(unknown)
      expect([unknown.code, unknown.stderr], 'unknown run').toEqual([
        1,
        expect.stringMatching(/^bench: run 999999 does not exist in .*`bench runs list` shows the ids/),
      ])
      // A port nothing listens on: the dashboard's own port once it is closed would race other tests.
      const unreachable = await push([String(localIds[0]), '--url', 'http://127.0.0.1:9/'])
      noToken(unreachable)
      expect([unreachable.code, unreachable.stderr], 'unreachable').toEqual([
        1,
        expect.stringMatching(
          /^bench: cannot reach http:\/\/127\.0\.0\.1:9\/api\/runs \(.+\): is `bench dashboard` running there/,
        ),
      ])
    },
    CLI_TEST_MS,
  )

  it(
    'bench import takes the same document, auto-detected or with --format bench-run',
    async () => {
      const [id] = await seedRuns(local.db, [{ tag: 11, startedAtIso: '2026-11-25T12:00:00Z' }])
      let text = ''
      await exportRun(local.db, id as number, {
        format: 'json',
        write: (chunk) => {
          text += chunk
        },
      })
      const file = path.join(tmp ?? '', 'run.json')
      writeFileSync(file, text)
      const db = ['--db', central.options.dataDir ?? '']
      const first = await runCli(['import', file, ...db])
      expect([first.code, first.stderr], 'exit 0').toEqual([0, ''])
      const remote = Number(/run (\d+): scenario/.exec(first.stdout)?.[1])
      expect(first.stdout, 'report').toBe(
        `${file} (bench-run): 1 run imported\n  run ${remote}: scenario db-test, target mock, ${JSON.parse(text).metrics.length} metrics, 3 requests\n    note: run ${id} of the database it was exported from\n`,
      )
      const again = await runCli(['import', file, '--format', 'bench-run', ...db])
      expect([again.code, again.stdout], 'again').toEqual([
        0,
        `${file} was imported before (bench-run): run ${remote}; nothing written\n`,
      ])
    },
    CLI_TEST_MS,
  )
})
