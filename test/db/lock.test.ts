import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { acquireLock, type LockInfo, readLock } from '../../db/pglite/lock.ts'

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(child.stdout)
}

describe('the lock file of an embedded database directory', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const lockFile = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-lock-'))
    dirs.push(dir)
    return path.join(dir, 'lock')
  }
  const write = (file: string, info: Partial<LockInfo>) =>
    writeFileSync(
      file,
      JSON.stringify({ host: os.hostname(), acquiredAt: '2026-01-01T00:00:00.000Z', ...info }),
    )

  it('is taken when free, published with a port, and removed on release', async () => {
    const file = lockFile()
    const attempt = await acquireLock(file)
    if (attempt.state !== 'acquired') return expect.unreachable('free lock not acquired')
    expect(readLock(file), 'written at once').toMatchObject({ pid: process.pid })
    attempt.lock.publish(5432, 'pw')
    expect(JSON.parse(readFileSync(file, 'utf8')), 'published').toMatchObject({
      pid: process.pid,
      port: 5432,
      password: 'pw',
    })
    expect((await acquireLock(file)).state, 'a second attempt sees it held').toBe('held')
    attempt.lock.release()
    expect(existsSync(file), 'released').toBe(false)
  })

  it('is taken over from a dead process', async () => {
    const file = lockFile()
    write(file, { pid: deadPid(), port: 1 })
    const attempt = await acquireLock(file)
    expect(attempt.state, 'stale lock').toBe('acquired')
    if (attempt.state === 'acquired') attempt.lock.release()
  })

  it('is taken over when the pid now names another process (reused pid)', async () => {
    const file = lockFile()
    // This process is alive, but it started at another time than the one recorded.
    write(file, { pid: process.pid, procStart: '1' })
    const attempt = await acquireLock(file)
    expect(attempt.state, 'reused pid').toBe(process.platform === 'linux' ? 'acquired' : 'held')
    if (attempt.state === 'acquired') attempt.lock.release()
  })

  it('is left alone when held by a live process, or by one on another host', async () => {
    const file = lockFile()
    write(file, { pid: process.ppid })
    expect((await acquireLock(file)).state, 'live holder').toBe('held')
    write(file, { pid: deadPid(), host: 'elsewhere.invalid' })
    expect((await acquireLock(file)).state, 'holder on another host cannot be checked').toBe('held')
  })

  it('lets exactly one of several racing processes take a stale lock', async () => {
    const file = lockFile()
    write(file, { pid: deadPid() })
    const script = `import { acquireLock } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../db/pglite/lock.ts'))}
const a = await acquireLock(${JSON.stringify(file)})
process.stdout.write(a.state)
if (a.state === 'acquired') await new Promise((r) => setTimeout(r, 1500))`
    const racers = Array.from({ length: 4 }, () =>
      import('node:child_process').then(
        ({ execFile }) =>
          new Promise<string>((resolve, reject) =>
            execFile(
              process.execPath,
              ['--import', 'tsx', '--input-type=module', '-e', script],
              { cwd: path.resolve(import.meta.dirname, '../..') },
              (err, stdout) => (err ? reject(err) : resolve(stdout)),
            ),
          ),
      ),
    )
    const states = await Promise.all(racers)
    expect(states.filter((s) => s === 'acquired').length, `winners among ${states.join(', ')}`).toBe(1)
  })
})
