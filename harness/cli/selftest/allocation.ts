/**
 * Garbage and CPU of this thread over a stretch of work, measured rather than inferred from p99: bytes the
 * JavaScript heap allocated, garbage collections by kind, and the thread's own CPU time. Used by `bench
 * selftest` and `npm run bench:client` to put the client's garbage per chunk next to a bare reader's.
 *
 * Allocated bytes = growth of the heap's used size + what every collection in between freed (V8's
 * GCProfiler reports the used size before and after each one). Objects still alive at the end count as
 * allocated too, so a workload should end with its requests done. The figure is deterministic for a fixed
 * workload up to what the run's timing changes (how many chunks one socket read carries, retries).
 * Off-heap memory (Buffer contents) is not in it; the Buffer objects themselves are.
 * @module
 */
import { readFileSync } from 'node:fs'
import v8 from 'node:v8'

export interface AllocationSample {
  /** JavaScript heap bytes allocated by this thread (isolate) during the stretch. */
  allocatedBytes: number
  /** Young-generation collections (scavenges). */
  scavenges: number
  /** Full (mark-sweep-compact) collections, incremental marking steps not counted separately. */
  markSweeps: number
  /** Pause time of all collections, ms. */
  gcPauseMs: number
  /** CPU time of this thread, ns (Linux schedstat); undefined elsewhere. */
  threadCpuNs: number | undefined
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

/** Starts measuring; call the returned function at the end of the stretch. One measurement at a time. */
export function startAllocationSample(): () => AllocationSample {
  const profiler = new v8.GCProfiler()
  const cpuAtStart = threadCpuNs()
  const usedAtStart = v8.getHeapStatistics().used_heap_size
  profiler.start()
  return () => {
    const usedAtEnd = v8.getHeapStatistics().used_heap_size
    const cpuAtEnd = threadCpuNs()
    const statistics = profiler.stop()?.statistics ?? []
    let freed = 0
    let scavenges = 0
    let markSweeps = 0
    let gcPauseMs = 0
    for (const gc of statistics) {
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
      if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkCompact') scavenges++
      else if (gc.gcType === 'MarkSweepCompact') markSweeps++
      // GCProfiler reports cost in µs.
      gcPauseMs += gc.cost / 1000
    }
    return {
      allocatedBytes: usedAtEnd - usedAtStart + freed,
      scavenges,
      markSweeps,
      gcPauseMs,
      threadCpuNs: cpuAtStart === undefined || cpuAtEnd === undefined ? undefined : cpuAtEnd - cpuAtStart,
    }
  }
}
