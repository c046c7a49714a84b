/**
 * Counters of a mock server and its own schedule error (actual write time − deadline of each content
 * chunk), exposed as Prometheus text on /metrics and as an object for in-process callers.
 * @module
 */
import * as hdr from 'hdr-histogram-js'

export type FaultKind = '429' | '500' | 'drop' | 'malformed' | 'stall'
export const FAULT_KINDS: readonly FaultKind[] = ['429', '500', 'drop', 'malformed', 'stall']

export interface ScheduleErrorSummary {
  /** Content chunks measured. */
  count: number
  meanMs: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
}

/** Quantiles published on /metrics (summary `mock_schedule_error_seconds`). */
const SUMMARY_QUANTILES = [0.5, 0.9, 0.99, 0.999] as const

export class MockStats {
  /** `route status` → count. */
  readonly requests = new Map<string, number>()
  readonly faults: Record<FaultKind, number> = { '429': 0, '500': 0, drop: 0, malformed: 0, stall: 0 }
  /** Streamed (and non-streamed) generations whose connection is still open. */
  streamsInFlight = 0
  /** Completion tokens written to clients. */
  tokensGenerated = 0
  /** Prompt tokens of the generation requests accepted. */
  promptTokens = 0
  /** Content chunks written. */
  contentChunks = 0
  // Microseconds; a deadline missed by more than a minute is clamped (only an overloaded host gets there).
  #scheduleErrorUs = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  })
  #scheduleErrorSumMs = 0

  countRequest(route: string, status: number): void {
    const key = `${route} ${status}`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
  }

  recordScheduleError(errorMs: number): void {
    const us = Math.min(60_000_000, Math.max(0, Math.round(errorMs * 1000)))
    this.#scheduleErrorUs.recordValue(us)
    this.#scheduleErrorSumMs += errorMs
  }

  scheduleError(): ScheduleErrorSummary {
    const h = this.#scheduleErrorUs
    const at = (p: number) => h.getValueAtPercentile(p) / 1000
    return {
      count: h.totalCount,
      meanMs: h.totalCount === 0 ? 0 : this.#scheduleErrorSumMs / h.totalCount,
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      p999Ms: at(99.9),
      maxMs: h.maxValue / 1000,
    }
  }

  resetScheduleError(): void {
    this.#scheduleErrorUs.reset()
    this.#scheduleErrorSumMs = 0
  }

  /**
   * Prometheus text exposition format 0.0.4. `llamacppAliases`: add llama-server's names for the three
   * counters it shares (the default personality's /metrics; llama-server's own has the whole family).
   */
  toPrometheus(llamacppAliases = true): string {
    const out: string[] = []
    const metric = (name: string, type: string, help: string, samples: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples)
    }
    metric(
      'mock_requests_total',
      'counter',
      'HTTP requests by route and status.',
      [...this.requests].map(([key, n]) => {
        const [route, status] = key.split(' ')
        return `mock_requests_total{route="${route}",status="${status}"} ${n}`
      }),
    )
    metric(
      'mock_faults_injected_total',
      'counter',
      'Faults injected by kind.',
      FAULT_KINDS.map((kind) => `mock_faults_injected_total{kind="${kind}"} ${this.faults[kind]}`),
    )
    metric('mock_streams_in_flight', 'gauge', 'Generations whose connection is open.', [
      `mock_streams_in_flight ${this.streamsInFlight}`,
    ])
    metric('mock_tokens_generated_total', 'counter', 'Completion tokens written.', [
      `mock_tokens_generated_total ${this.tokensGenerated}`,
    ])
    metric('mock_prompt_tokens_total', 'counter', 'Prompt tokens of accepted generation requests.', [
      `mock_prompt_tokens_total ${this.promptTokens}`,
    ])
    metric('mock_content_chunks_total', 'counter', 'Content chunks written.', [
      `mock_content_chunks_total ${this.contentChunks}`,
    ])
    const h = this.#scheduleErrorUs
    metric(
      'mock_schedule_error_seconds',
      'summary',
      'Write time of each content chunk minus its deadline, since start.',
      [
        ...SUMMARY_QUANTILES.map(
          (q) => `mock_schedule_error_seconds{quantile="${q}"} ${h.getValueAtPercentile(q * 100) / 1e6}`,
        ),
        `mock_schedule_error_seconds_sum ${this.#scheduleErrorSumMs / 1000}`,
        `mock_schedule_error_seconds_count ${h.totalCount}`,
      ],
    )
    if (!llamacppAliases) return `${out.join('\n')}\n`
    metric('llamacpp:prompt_tokens_total', 'counter', 'Number of prompt tokens processed.', [
      `llamacpp:prompt_tokens_total ${this.promptTokens}`,
    ])
    metric('llamacpp:tokens_predicted_total', 'counter', 'Number of generation tokens processed.', [
      `llamacpp:tokens_predicted_total ${this.tokensGenerated}`,
    ])
    metric('llamacpp:requests_processing', 'gauge', 'Number of requests processing.', [
      `llamacpp:requests_processing ${this.streamsInFlight}`,
    ])
    return `${out.join('\n')}\n`
  }
}
