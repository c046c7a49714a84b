/**
 * Peak RSS of an engine process over a window, two ways at once: samples at a fixed rate (≥ 10 Hz, what
 * METRICS.md asks for, and what works everywhere) and, on Linux, the kernel's own peak (VmHWM) reset at
 * the window start, which also catches a spike between two samples. The figure is the larger of the two.
 * @module
 */
import { type ProcMemory, readProcMemory, resetPeakRss } from './proc-status.ts'

/** Default sampling period: 20 Hz. ms. */
export const DEFAULT_RSS_INTERVAL_MS = 50

export interface RssWindow {
  /** Max RSS seen in the window, bytes; undefined when nothing could be read. */
  peakRssBytes?: number
  /** Samples taken in the window (the kernel peak, when used, is not counted). */
  samples: number
  /** True when the kernel's peak (VmHWM since the window start) contributed. */
  kernelPeak: boolean
}

export interface RssSampler {
  /** Records one externally obtained sample (a child reporting its own RSS over IPC), bytes. */
  record(rssBytes: number): void
  /** Ends the current window, returns it, and starts the next one. */
  cut(): RssWindow
  /** Reads /proc now (for a figure at a precise moment, e.g. right after load). */
  read(): ProcMemory | undefined
  stop(): void
}

export interface RssSamplerOptions {
  /** Process to watch. */
  pid: number
  /** Sampling period, ms. @default 50 */
  intervalMs?: number
  /**
   * Read /proc/<pid>/status. False when the process reports its RSS itself through record() (not Linux).
   * @default true
   */
  proc?: boolean
}

export function createRssSampler(options: RssSamplerOptions): RssSampler {
  const { pid } = options
  const useProc = options.proc ?? true
  let peak: number | undefined
  let samples = 0
  // Whether VmHWM currently means "peak since this window started".
  let hwmIsWindow = useProc && resetPeakRss(pid)
  const record = (bytes: number) => {
    samples++
    if (peak === undefined || bytes > peak) peak = bytes
  }
  const sample = () => {
    const m = readProcMemory(pid)
    if (m) record(m.rssBytes)
  }
  const timer = useProc ? setInterval(sample, options.intervalMs ?? DEFAULT_RSS_INTERVAL_MS) : undefined
  timer?.unref()
  if (useProc) sample()
  return {
    record,
    read: () => (useProc ? readProcMemory(pid) : undefined),
    cut() {
      let kernelPeak = false
      if (useProc) {
        const m = readProcMemory(pid)
        if (m) {
          record(m.rssBytes)
          if (hwmIsWindow && m.hwmBytes >= (peak ?? 0)) {
            peak = m.hwmBytes
            kernelPeak = true
          }
        }
      }
      const window: RssWindow = { ...(peak !== undefined ? { peakRssBytes: peak } : {}), samples, kernelPeak }
      peak = undefined
      samples = 0
      hwmIsWindow = useProc && resetPeakRss(pid)
      if (useProc) sample()
      return window
    },
    stop() {
      if (timer) clearInterval(timer)
    },
  }
}
