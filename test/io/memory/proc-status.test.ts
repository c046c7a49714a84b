import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { parseProcStatus, readProcMemory, resetPeakRss } from '../../../harness/memory/proc-status.ts'

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t 1234567 kB
VmSize:\t 1200000 kB
VmHWM:\t  204800 kB
VmRSS:\t  153600 kB
RssAnon:\t  100000 kB
Threads:\t11
`

describe('parseProcStatus', () => {
  it('reads VmRSS and VmHWM in kB as bytes', () => {
    expect(parseProcStatus(STATUS), 'rss and peak').toEqual({
      rssBytes: 153_600 * 1024,
      hwmBytes: 204_800 * 1024,
    })
  })

  it('is undefined without both lines (a kernel thread, another OS)', () => {
    expect(parseProcStatus('Name:\tkthreadd\nState:\tS\n'), 'no Vm lines').toBeUndefined()
    expect(parseProcStatus('VmRSS:\t 10 kB\n'), 'no VmHWM').toBeUndefined()
  })
})

describe.runIf(process.platform === 'linux')('/proc of a real child process', () => {
  it('reads its memory, resets its peak, and is undefined once it is gone', async () => {
    // Allocates and touches 64 MiB, frees it, then waits: the peak stays far above the RSS.
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '-e',
        `let b = Buffer.alloc(64 * 1024 * 1024, 1); b = null; globalThis.gc(); process.stdout.write('ready\\n'); setTimeout(() => {}, 60000)`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    await new Promise((resolve) => child.stdout.once('data', resolve))
    const pid = child.pid!
    const before = readProcMemory(pid)
    expect(before?.hwmBytes, 'peak includes the 64 MiB buffer').toBeGreaterThan(64 * 1024 * 1024)
    expect(before?.rssBytes, 'rss > 0').toBeGreaterThan(0)
    expect(resetPeakRss(pid), 'reset permitted').toBe(true)
    const after = readProcMemory(pid)
    expect(after?.hwmBytes, 'peak reset to about the current RSS').toBeLessThan(before!.hwmBytes)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    expect(readProcMemory(pid), 'gone').toBeUndefined()
  })
})
