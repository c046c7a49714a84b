/**
 * `bench dashboard` as a process: prints its URL, serves the database it was given on 127.0.0.1, takes
 * writes with BENCH_TOKEN, and exits 0 on SIGINT. The built CLI (harness/cli/bench.mjs), as users run it:
 * through tsx the child spent ~5 s more transpiling the dashboard before it served.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { runs as runTable } from '../../db/schema.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { BENCH_BIN } from '../helpers/cli.ts'
import { freshPgliteDir } from '../helpers/db.ts'

const children: ChildProcess[] = []
let dir: string | undefined
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = spawn(process.execPath, [BENCH_BIN, 'dashboard', ...args], {
    env: { ...process.env, BENCH_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(proc)
  let stdout = ''
  let stderr = ''
  proc.stdout?.on('data', (d) => {
    stdout += d
  })
  proc.stderr?.on('data', (d) => {
    stderr += d
  })
  const url = new Promise<string>((resolve, reject) => {
    proc.stdout?.on('data', () => {
      const m = /bench dashboard: (http:\/\/\S+)\n.+\n/.exec(stdout)
      if (m) resolve(m[1]!)
    })
    proc.once('exit', (code) => reject(new Error(`exited ${code} before serving: ${stderr}`)))
  })
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return { proc, url, exit, output: () => ({ stdout, stderr }) }
}

describe('bench dashboard', () => {
  it('serves the given database on 127.0.0.1 until SIGINT', async () => {
    dir = await freshPgliteDir()
    const db = await createDb({ dataDir: dir })
    const [runId] = await seedRuns(db, [{ tag: 7, startedAtIso: '2026-11-20T10:00:00Z' }])
    await db.close()

    const cli = start(['--port', '0', '--db', dir, '--no-worker'], { BENCH_TOKEN: 'cli-token' })
    const url = await cli.url
    expect(new URL(url).hostname, 'loopback by default').toBe('127.0.0.1')
    expect(cli.output().stdout, 'writes enabled').toContain('writes enabled')
    const runs = (await (await fetch(new URL('/api/runs', url))).json()) as { runs: { id: number }[] }
    expect(
      runs.runs.map((r) => r.id),
      'the seeded run',
    ).toEqual([runId])
    const page = await fetch(url)
    expect([page.status, (await page.text()).includes('Leaderboard: db-test')], 'leaderboard').toEqual([
      200,
      true,
    ])
    const write = await fetch(new URL(`/api/runs/${runId}/label`, url), {
      method: 'POST',
      headers: { authorization: 'Bearer cli-token', 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'from the CLI test' }),
    })
    expect(write.status, 'write with BENCH_TOKEN').toBe(200)
    cli.proc.kill('SIGINT')
    expect(await cli.exit, 'exit code on SIGINT').toBe(0)

    // The database was closed cleanly: it opens again and kept the label.
    const again = await createDb({ dataDir: dir })
    try {
      const [row] = await again.select({ label: runTable.label }).from(runTable)
      expect(row?.label, 'label stored').toBe('from the CLI test')
    } finally {
      await again.close()
    }
  })

  it('is read-only without BENCH_TOKEN and refuses a bad port', async () => {
    // The bad port alongside: independent children, started at once.
    const bad = start(['--port', 'http'])
    bad.url.catch(() => {}) // awaited below; it may reject before then
    dir = await freshPgliteDir()
    const cli = start(['--port', '0', '--db', dir, '--no-worker'])
    const url = await cli.url
    expect(cli.output().stdout, 'read-only notice').toContain('read-only: set BENCH_TOKEN')
    const write = await fetch(new URL('/api/runs/1/label', url), { method: 'POST', body: '{}' })
    expect(write.status, 'writes refused').toBe(403)
    cli.proc.kill('SIGTERM')
    expect(await cli.exit, 'exit code on SIGTERM').toBe(0)

    await expect(bad.url, 'no server').rejects.toThrow(/--port expects an integer/)
    expect(await bad.exit, 'exit code').toBe(1)
  })
})
