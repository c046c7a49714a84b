/**
 * Garbage and CPU of this thread over a stretch of work, measured rather than inferred from p99: bytes the
 * JavaScript heap allocated, garbage collections by kind and their pauses, and the thread's own CPU time.
 * Used by `npm run bench:client` to put the client's garbage per chunk next to a bare reader's.
 *
 * Allocated bytes come from V8's sampling heap profiler (inspector `HeapProfiler.startSampling`, counting
 * objects that minor and major collections freed too): one sample per `samplingIntervalBytes` allocated,
 * so the total is exact up to ±1 interval per sample's worth of noise (a few % over tens of thousands of
 * chunks) and does not depend on when collections run. Heap growth plus what each collection freed
 * (GCProfiler) was tried first and overstated by up to half whenever scavenges fell in the stretch.
 * Collections come from GCProfiler. A full collection first clears garbage left from before, so the
 * stretch's collections are its own. Off-heap memory (Buffer contents) is not in it; the Buffer objects
 * themselves are. The figure still follows the run's timing where the work does: a paced stream whose
 * chunks arrive one per socket read allocates a read's objects per chunk, a burst fewer.
 * @module
 */
import { readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface AllocationSample {
  /** JavaScript heap bytes allocated by this thread (isolate) during the stretch (sampled); NaN with `heap: false`. */
  allocatedBytes: number
  /** Young-generation collections (scavenges). */
  scavenges: number
  /** Full (mark-sweep-compact) collections. */
  markSweeps: number
  /** Pause time of all collections, ms. */
  gcPauseMs: number
  /** CPU time of this thread, ns (Linux schedstat); undefined elsewhere. */
  threadCpuNs: number | undefined
  /** With `sites`: bytes by allocating function (`name file:line`), largest first. */
  sites?: { site: string; bytes: number }[]
}

export interface AllocationSampleOptions {
  /** Mean bytes between heap samples; smaller is finer and slower. @default 4096 */
  samplingIntervalBytes?: number
  /** Also return the bytes by allocating function (AllocationSample.sites). @default false */
  sites?: boolean
  /**
   * Run V8's sampling heap profiler (allocatedBytes, sites). It slows every allocation (measured: a
   * zero-delay bench:client phase at ~60 % of its speed, the harness client more than the bare reader), so
   * a stretch timed for throughput sets false and keeps only the cheap GC and CPU figures. @default true
   */
  heap?: boolean
}

let fullGc: (() => void) | undefined

/** A full garbage collection, now: V8's `gc`, exposed at run time (no `--expose-gc` on the command line). */
export function collectGarbage(): void {
  if (fullGc === undefined) {
    v8.setFlagsFromString('--expose-gc')
    fullGc = runInNewContext('gc') as () => void
  }
  fullGc()
}

/** CPU time this thread has run, ns, from /proc/thread-self/schedstat (ns resolution); undefined off Linux. */
export function threadCpuNs(): number | undefined {
  try {
    const text = readFileSync('/proc/thread-self/schedstat', 'latin1')
    return Number(text.slice(0, text.indexOf(' ')))
  } catch {
    return undefined
  }
}

interface SamplingNode {
  selfSize: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children: SamplingNode[]
}

function totalSize(node: SamplingNode): number {
  let total = node.selfSize
  for (const child of node.children) total += totalSize(child)
  return total
}

function addSites(node: SamplingNode, into: Map<string, number>): void {
  if (node.selfSize > 0) {
    const { functionName, url, lineNumber } = node.callFrame
    const site = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(harness|node_modules|test)\//, '$1/')}:${lineNumber + 1}`
    into.set(site, (into.get(site) ?? 0) + node.selfSize)
  }
  for (const child of node.children) addSites(child, into)
}

/**
 * Starts measuring, after a full collection (a pause of a few ms: start before a timed window, not in
 * it); call the returned function at the end of the stretch. One measurement at a time.
 */
export async function startAllocationSample(
  options: AllocationSampleOptions = {},
): Promise<() => Promise<AllocationSample>> {
  collectGarbage()
  const heap = options.heap !== false
  const session = new Session()
  if (heap) session.connect()
  // The two include flags (Chrome 111+, Node ≥ 20) are newer than @types/node's protocol types. Without
  // them the profile holds only objects still alive at the end, and garbage is what we want.
  const parameters: { samplingInterval: number } & Record<string, unknown> = {
    samplingInterval: options.samplingIntervalBytes ?? 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  }
  if (heap) await session.post('HeapProfiler.startSampling', parameters)
  const profiler = new v8.GCProfiler()
  profiler.start()
  const cpuAtStart = threadCpuNs()
  return async () => {
    const cpuAtEnd = threadCpuNs()
    const statistics = profiler.stop().statistics
    const profile = heap ? (await session.post('HeapProfiler.stopSampling')).profile : undefined
    if (heap) session.disconnect()
    let scavenges = 0
    let markSweeps = 0
    let gcPauseMs = 0
    for (const gc of statistics) {
      if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkCompact') scavenges++
      else if (gc.gcType === 'MarkSweepCompact') markSweeps++
      // GCProfiler reports cost in µs.
      gcPauseMs += gc.cost / 1000
    }
    const head = profile?.head as SamplingNode | undefined
    const sample: AllocationSample = {
      allocatedBytes: head === undefined ? Number.NaN : totalSize(head),
      scavenges,
      markSweeps,
      gcPauseMs,
      threadCpuNs: cpuAtStart === undefined || cpuAtEnd === undefined ? undefined : cpuAtEnd - cpuAtStart,
    }
    if (options.sites === true && head !== undefined) {
      const sites = new Map<string, number>()
      addSites(head, sites)
      sample.sites = [...sites].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes)
    }
    return sample
  }
}
