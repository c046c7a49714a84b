/**
 * `bench dashboard` on the embedded database runs the job queue's worker in its own process (the PGlite
 * directory has one host, so a `bench worker` beside it would be refused): a study launched through the
 * dashboard's API with the token completes without any other process.
 * The real CLI in a child process; the study is scenarios/spec-fixture-study.ts on this run's fixtures.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BENCH_BIN } from '../helpers/cli.ts'
import { fixtureStudyDir, type StudyDir } from '../helpers/study-dir.ts'

const TOKEN = 'dashboard-worker-token'

interface Dashboard {
  url: string
  stderr: () => string
  proc: ChildProcess
}

function startDashboard(dataDir: string, extra: string[], studiesDirectory: string): Promise<Dashboard> {
  const proc = spawn(process.execPath, [BENCH_BIN, 'dashboard', '--port', '0', '--db', dataDir, ...extra], {
    env: { ...process.env, BENCH_TOKEN: TOKEN, BENCH_STUDIES_DIR: studiesDirectory },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  proc.stderr?.on('data', (d) => {
    stderr += d
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no dashboard URL in 60 s: ${stdout} ${stderr}`)), 60_000)
    proc.stdout?.on('data', (d) => {
      stdout += d
      const m = /bench dashboard: (http:\/\/\S+)\n/.exec(stdout)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1]!, stderr: () => stderr, proc })
      }
    })
    proc.on('exit', (code) => reject(new Error(`dashboard exited (${code}): ${stderr}`)))
  })
}

async function stop(d: Dashboard | undefined): Promise<void> {
  if (!d || d.proc.exitCode !== null) return
  const exited = new Promise((resolve) => d.proc.once('exit', resolve))
  d.proc.kill('SIGINT')
  await exited
}

const launch = (url: string) =>
  fetch(new URL('/api/studies', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ study: 'spec-fixture-study.ts' }),
  })

async function stateOf(url: string, id: number): Promise<string> {
  const body = (await (await fetch(new URL(`/api/studies/${id}`, url))).json()) as {
    study: { state: string }
  }
  return body.study.state
}

describe('bench dashboard runs launched jobs itself on the embedded database', () => {
  let studies: StudyDir
  let dir: string
  const running: Dashboard[] = []
  beforeAll(async () => {
    studies = await fixtureStudyDir()
    dir = mkdtempSync(join(tmpdir(), 'bench-dashboard-worker-'))
  })
  afterAll(async () => {
    await Promise.all(running.map(stop))
    studies?.dispose()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('a study launched with the token completes with no other process', async () => {
    const d = await startDashboard(join(dir, 'db'), [], studies.dir)
    running.push(d)
    const res = await launch(d.url)
    expect(res.status, await res.clone().text()).toBe(201)
    const { study } = (await res.json()) as { study: { id: number } }
    const deadline = Date.now() + 90_000
    let state = await stateOf(d.url, study.id)
    while (!['completed', 'failed'].includes(state) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
      state = await stateOf(d.url, study.id)
    }
    expect(state, d.stderr()).toBe('completed')
    expect(d.stderr()).toMatch(/bench dashboard: worker: running jobs launched here/)
  }, 120_000)
})
