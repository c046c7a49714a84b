/**
 * Memory of engine processes: /proc readers, a ≥ 10 Hz RSS sampler with the kernel's peak, and the mapping
 * of an engine's MemorySample onto RunMetrics fields.
 * @module
 */
import type { MemorySample } from '../engines/engine.ts'
import type { RunMetrics } from '../metrics/types.ts'

export { type ProcMemory, parseProcStatus, readProcMemory, resetPeakRss } from './proc-status.ts'
export {
  createRssSampler,
  DEFAULT_RSS_INTERVAL_MS,
  type RssSampler,
  type RssSamplerOptions,
  type RssWindow,
} from './rss-sampler.ts'

export type MemoryMetrics = Pick<
  RunMetrics,
  | 'peakRssBytes'
  | 'peakRssSamplesN'
  | 'loadRssBytes'
  | 'loadPeakRssBytes'
  | 'loadMs'
  | 'modelBytes'
  | 'vramBytes'
>

/** The RunMetrics fields of a memory sample; figures the engine could not tell stay absent. */
export function memoryMetrics(sample: MemorySample | undefined): MemoryMetrics {
  if (!sample) return {}
  const out: MemoryMetrics = {}
  if (sample.peakRssBytes !== undefined) {
    out.peakRssBytes = sample.peakRssBytes
    out.peakRssSamplesN = sample.rssSamples ?? 0
  }
  if (sample.loadRssBytes !== undefined) out.loadRssBytes = sample.loadRssBytes
  if (sample.loadPeakRssBytes !== undefined) out.loadPeakRssBytes = sample.loadPeakRssBytes
  if (sample.loadMs !== undefined) out.loadMs = sample.loadMs
  if (sample.modelBytes !== undefined) out.modelBytes = sample.modelBytes
  if (sample.vramBytes !== undefined) out.vramBytes = sample.vramBytes
  return out
}
