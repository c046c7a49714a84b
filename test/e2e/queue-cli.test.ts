/**
 * The queue's commands through the real CLI on the embedded database: `bench worker` hosts the PGlite
 * directory and a second worker process is refused with the reason and the way out (DATABASE_URL);
 * `bench matrix status` as a table and for a missing matrix. (Bad tags: test/unit/queue-plan.test.ts.)
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { BENCH_BIN, runCli } from '../helpers/cli.ts'
import { freshPgliteDir, removeTestDir } from '../helpers/db.ts'
import { startTinyMock, writeTinyMatrix } from '../io/queue/tiny-matrix.ts'

describe('bench enqueue / worker / matrix on PGlite', () => {
  let mock: MockServerHandle
  let dir: string
  // A test that times out skips its finally: afterAll still stops the worker it started.
  const children: ChildProcess[] = []
  const env = { DATABASE_URL: '' }

  beforeAll(async () => {
    mock = await startTinyMock()
    // A copy of the migrated template: creating a database takes 10–40 s of initdb on this box.
    dir = await freshPgliteDir()
  })
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await mock?.close()
    if (dir) removeTestDir(dir)
  })

  it('one worker process hosts the directory and drains the matrix; a second one is refused, saying why', async () => {
    const file = writeTinyMatrix({ baseUrl: mock.url, targets: 1, steps: 3, name: 'queue-cli' })
    const enqueued = await runCli(['enqueue', file, '--db', dir, '--json', '--label', 'cli'], { env })
    expect(enqueued.code, enqueued.stderr).toBe(0)
    const { matrixId } = JSON.parse(enqueued.stdout) as { matrixId: number }

    const host = spawn(process.execPath, [BENCH_BIN, 'worker', '--db', dir, '--concurrency', '2'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    children.push(host)
    let log = ''
    const exited = new Promise<number | null>((resolve) => host.once('exit', resolve))
    const drained = new Promise<void>((resolve, reject) => {
      host.stderr?.on('data', (d: Buffer) => {
        log += d.toString()
        if ((log.match(/run \d+ completed/g) ?? []).length === 3) resolve()
      })
      void exited.then((code) => reject(new Error(`the worker exited (${code}) before draining:\n${log}`)))
    })
    try {
      await drained
      // Independent children at once, while the worker hosts the directory: a second worker (refused) and
      // two readers (clients of the host, as db/pglite/README.md's contract has every other process).
      const [second, table, missing] = await Promise.all([
        runCli(['worker', '--db', dir], { env }),
        runCli(['matrix', 'status', String(matrixId), '--db', dir], { env }),
        runCli(['matrix', 'status', '999', '--db', dir], { env }),
      ])
      expect(second.code).toBe(1)
      expect(second.stderr).toMatch(/is open in another process; on PGlite one bench worker process hosts it/)
      expect(second.stderr).toMatch(/DATABASE_URL/)
      expect(table.code, table.stderr).toBe(0)
      expect(table.stdout).toMatch(new RegExp(`^matrix ${matrixId}: queue-cli \\(cli\\) — 3/3 completed`))
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/matrix 999 does not exist/)
    } finally {
      host.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 150_000)
})
