/**
 * The lock file of an embedded database directory. PGlite has no locking of its own (two processes on one
 * directory silently lost a write), so exactly one process opens the directory and serves it to the
 * others on a loopback port. The lock file says who (pid, process start time, host) and, once serving,
 * where (port) and with which password. A lock left by a dead process is taken over.
 * @module
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

export interface LockInfo {
  pid: number
  /** Start time of the process in clock ticks since boot (Linux /proc), to tell a reused pid apart. */
  procStart?: string
  host: string
  /** ISO time the lock was taken. */
  acquiredAt: string
  /** Loopback port the holder serves the database on; absent while it is still starting. */
  port?: number
  password?: string
}

export interface HeldLock {
  readonly info: LockInfo
  /** Records where the database is served (atomically replaces the lock file's content). */
  publish(port: number, password: string): void
  /** Removes the lock file if it is still ours. */
  release(): void
}

export type LockAttempt = { state: 'acquired'; lock: HeldLock } | { state: 'held'; info: LockInfo }

/** A lock file that stays unreadable this long was abandoned mid-write. ms. */
const UNREADABLE_STALE_MS = 2_000

/** Takes the lock, or reports the live process that holds it. Stale locks (dead holder) are taken over. */
export async function acquireLock(file: string): Promise<LockAttempt> {
  let unreadableSince: number | undefined
  for (;;) {
    const info: LockInfo = {
      pid: process.pid,
      ...(procStartOf(process.pid) !== undefined ? { procStart: procStartOf(process.pid) } : {}),
      host: os.hostname(),
      acquiredAt: new Date().toISOString(),
    }
    try {
      const fd = openSync(file, 'wx', 0o600)
      try {
        writeSync(fd, JSON.stringify(info))
      } finally {
        closeSync(fd)
      }
      return { state: 'acquired', lock: heldLock(file, info) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const current = readLock(file)
    if (current === 'missing') continue
    if (current === 'unreadable') {
      // The holder creates the file and then writes it; give it time before calling it abandoned.
      unreadableSince ??= Date.now()
      if (Date.now() - unreadableSince < UNREADABLE_STALE_MS) {
        await sleep(20)
        continue
      }
      await takeOver(file, undefined)
      unreadableSince = undefined
      continue
    }
    unreadableSince = undefined
    if (isHolderAlive(current)) return { state: 'held', info: current }
    await takeOver(file, current)
  }
}

/** The lock file's content; 'missing' when there is none, 'unreadable' while it is being written. */
export function readLock(file: string): LockInfo | 'missing' | 'unreadable' {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
  try {
    const parsed = JSON.parse(text) as LockInfo
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : 'unreadable'
  } catch {
    return 'unreadable'
  }
}

/** True unless the holder is provably gone (on this host: no such pid, or the pid now names another process). */
function isHolderAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return true
  try {
    process.kill(info.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const start = procStartOf(info.pid)
  return info.procStart === undefined || start === undefined || start === info.procStart
}

function sameHolder(a: LockInfo, b: LockInfo): boolean {
  return a.pid === b.pid && a.acquiredAt === b.acquiredAt && a.host === b.host
}

/**
 * Removes a stale lock. Two processes may find the same stale lock; a short-lived guard file serializes
 * them and the lock is removed only if it is still the stale one (not the fresh lock of whoever won).
 */
async function takeOver(file: string, stale: LockInfo | undefined): Promise<void> {
  const guard = `${file}.takeover`
  for (;;) {
    try {
      const fd = openSync(guard, 'wx', 0o600)
      try {
        writeSync(
          fd,
          JSON.stringify({ pid: process.pid, host: os.hostname(), acquiredAt: new Date().toISOString() }),
        )
      } finally {
        closeSync(fd)
      }
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = readLock(guard)
      // The guard is held for microseconds; one whose owner died in that window is removed.
      if (holder !== 'unreadable' && holder !== 'missing' && !isHolderAlive(holder)) removeQuietly(guard)
      await sleep(10)
    }
  }
  try {
    const current = readLock(file)
    const stillStale =
      current === 'unreadable'
        ? stale === undefined
        : current !== 'missing' && stale !== undefined && sameHolder(current, stale)
    if (stillStale) removeQuietly(file)
  } finally {
    removeQuietly(guard)
  }
}

function heldLock(file: string, info: LockInfo): HeldLock {
  let current = info
  let released = false
  const ours = () => {
    const onDisk = readLock(file)
    return onDisk !== 'missing' && onDisk !== 'unreadable' && sameHolder(onDisk, info)
  }
  const release = () => {
    if (released) return
    released = true
    process.off('exit', release)
    if (ours()) removeQuietly(file)
  }
  // A process that exits without close() leaves no lock behind (a SIGKILL still does: it is stale, then).
  process.on('exit', release)
  return {
    get info() {
      return current
    },
    publish(port, password) {
      if (!ours()) throw new Error(`lock file ${file} was taken by another process`)
      current = { ...info, port, password }
      const tmp = `${file}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify(current), { mode: 0o600 })
      renameSync(tmp, file)
    },
    release,
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function procStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is parenthesized and may contain spaces; count fields after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}
