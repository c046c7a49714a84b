/**
 * Memory of another process from Linux's /proc: current and peak resident set size, and resetting the peak
 * so it covers one measurement window. Elsewhere these return undefined / false and callers fall back to
 * the process reporting its own `process.memoryUsage.rss()`.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs'

export interface ProcMemory {
  /** VmRSS: resident set size now, bytes. */
  rssBytes: number
  /** VmHWM: the peak RSS since the process started or since resetPeakRss(), bytes. */
  hwmBytes: number
}

const KIB = 1024

/** VmRSS and VmHWM of `pid`, or undefined when /proc is absent or the process is gone. */
export function readProcMemory(pid: number): ProcMemory | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1')
  } catch {
    return undefined
  }
  return parseProcStatus(text)
}

/** The VmRSS / VmHWM lines of a /proc/<pid>/status text (values are in kB = KiB). */
export function parseProcStatus(text: string): ProcMemory | undefined {
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text)
  const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(text)
  if (!rss?.[1] || !hwm?.[1]) return undefined
  return { rssBytes: Number(rss[1]) * KIB, hwmBytes: Number(hwm[1]) * KIB }
}

/**
 * Resets VmHWM of `pid` to its current RSS (writing 5 to /proc/<pid>/clear_refs, Linux ≥ 4.0), so the next
 * VmHWM is the exact peak since now, between samples included. False when not permitted or not Linux.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}
