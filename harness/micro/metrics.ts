/**
 * What a micro run's figures mean (METRICS.md "Micro tasks"): unit, direction and description of each
 * stat of the rows `micro/<task>/<stat>`; harness/metrics/catalogue.ts resolves those rows through it.
 * Pure data, so the catalogue, the dashboard and the run's rows share it.
 * @module
 */
import type { MetricRow } from '../metrics/types.ts'

/** One stat's meaning: as harness/metrics/catalogue.ts MetricInfo (whose units include ops/s and chars/s). */
interface MicroMetricInfo {
  unit: 'ms' | '%' | 'count' | 'ops/s' | 'tokens/s' | 'chars/s' | 'tokens' | 'bool'
  direction: MetricRow['direction']
  description: string
}

/** Per task, row `micro/<task>/<stat>`, e.g. `micro/forward-128/meanMs`; tinybench's names in the descriptions. */
export const MICRO_METRICS = {
  meanMs: {
    unit: 'ms',
    direction: 'lower',
    description: 'Mean time of one iteration of the task, warmup excluded (tinybench latency.mean).',
  },
  sdMs: {
    unit: 'ms',
    direction: 'none',
    description: 'Sample standard deviation (n − 1) of the iteration times (tinybench latency.sd).',
  },
  p50Ms: { unit: 'ms', direction: 'lower', description: 'Median iteration time (tinybench latency.p50).' },
  p99Ms: {
    unit: 'ms',
    direction: 'lower',
    description: '99th percentile of the iteration times (tinybench latency.p99).',
  },
  minMs: { unit: 'ms', direction: 'lower', description: 'Fastest iteration (tinybench latency.min).' },
  maxMs: { unit: 'ms', direction: 'lower', description: 'Slowest iteration (tinybench latency.max).' },
  rmePct: {
    unit: '%',
    direction: 'lower',
    description:
      'Relative margin of error of meanMs at 95 %: t(0.975, n − 1) · sdMs / √n / meanMs · 100 (tinybench latency.rme).',
  },
  samples: {
    unit: 'count',
    direction: 'none',
    description: 'Measured iterations behind the figures, warmup excluded (tinybench latency.samplesCount).',
  },
  opsPerS: {
    unit: 'ops/s',
    direction: 'higher',
    description:
      'Iterations per second: mean over iterations of 1000 / iteration ms (tinybench throughput.mean; not 1000 / meanMs).',
  },
  tokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description:
      'forward and prefill-decode: opsPerS × tokens evaluated per iteration (P, or P + 1): the mean of per-iteration tokens/s, as llama-bench avg_ts.',
  },
  charsPerS: {
    unit: 'chars/s',
    direction: 'higher',
    description: 'tokenize: opsPerS × characters per iteration.',
  },
  tokensPerOp: {
    unit: 'tokens',
    direction: 'none',
    description: 'tokenize: tokens the text became (the model’s tokenizer, no BOS).',
  },
  aborted: {
    unit: 'bool',
    direction: 'none',
    description:
      '1 when maxTimeMs or the interrupt stopped the task before timeMs and iterations were both reached; its figures cover the iterations that ran.',
  },
} as const satisfies Record<string, MicroMetricInfo>
export type MicroStat = keyof typeof MICRO_METRICS
