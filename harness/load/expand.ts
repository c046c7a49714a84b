/**
 * From configured loads to the profiles actually run: sweeps flattened into their steps, and a short
 * label per profile for tables and progress bars.
 * @module
 */
import path from 'node:path'
import type { LoadConfig, StepLoadConfig } from '../config/schema.ts'
import type { LoadSpec } from '../results.ts'

/**
 * One LoadSpec per run, in order: each sweep contributes its steps in place. Micro loads are no request
 * load: they are left out here and run by harness/micro/run.ts (microSpecs).
 */
export function expandLoads(loads: readonly LoadConfig[]): LoadSpec[] {
  return loads.flatMap((load) =>
    load.kind === 'micro' ? [] : load.kind === 'sweep' ? load.loads.map(toSpec) : [toSpec(load)],
  )
}

/** Copies only the fields a LoadSpec has, so specs stored with runs carry nothing else. */
function toSpec(load: StepLoadConfig): LoadSpec {
  const limits = {
    ...(load.requests !== undefined && { requests: load.requests }),
    ...(load.durationS !== undefined && { durationS: load.durationS }),
  }
  switch (load.kind) {
    case 'sequential':
      return { kind: 'sequential', ...limits }
    case 'concurrent':
      return {
        kind: 'concurrent',
        concurrency: load.concurrency,
        // Only a real ramp: 0 runs as before, and the stored spec (hashed into the run fingerprint) stays the same.
        ...(load.rampUpMs !== undefined && load.rampUpMs > 0 && { rampUpMs: load.rampUpMs }),
        ...limits,
      }
    case 'constant-rate':
      return { kind: 'constant-rate', ratePerS: load.ratePerS, maxInFlight: load.maxInFlight, ...limits }
    case 'poisson':
      return {
        kind: 'poisson',
        ratePerS: load.ratePerS,
        burstiness: load.burstiness,
        maxInFlight: load.maxInFlight,
        ...limits,
      }
    case 'trace':
      return {
        kind: 'trace',
        path: load.path,
        timeScale: load.timeScale,
        hashBlockTokens: load.hashBlockTokens,
        maxLines: load.maxLines,
        maxDurationS: load.maxDurationS,
        ...limits,
      }
    default: {
      const never: never = load
      throw new Error(`unknown load kind ${JSON.stringify(never)}`)
    }
  }
}

/**
 * The shape of a load in a few words: "sequential", "concurrent 8", "concurrent 8 ramp 100ms",
 * "constant-rate 5/s", "poisson 5/s γ=0.5", "trace conv.jsonl ×10". It is the only load label of a result-table row, so every
 * field that changes the schedule shows.
 */
export function describeLoad(spec: LoadSpec): string {
  switch (spec.kind) {
    case 'sequential':
      return 'sequential'
    case 'concurrent':
      return spec.rampUpMs
        ? `concurrent ${spec.concurrency} ramp ${spec.rampUpMs}ms`
        : `concurrent ${spec.concurrency}`
    case 'constant-rate':
      return `constant-rate ${spec.ratePerS}/s`
    case 'poisson': {
      const gamma = spec.burstiness ?? 1
      return gamma === 1 ? `poisson ${spec.ratePerS}/s` : `poisson ${spec.ratePerS}/s γ=${gamma}`
    }
    case 'trace':
      return `trace ${path.basename(spec.path)} ×${spec.timeScale}`
    default: {
      const never: never = spec
      throw new Error(`unknown load kind ${JSON.stringify(never)}`)
    }
  }
}
