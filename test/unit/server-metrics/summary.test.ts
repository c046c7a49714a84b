import { describe, expect, it } from 'vitest'
import { parsePrometheusText } from '../../../harness/server-metrics/parse.ts'
import { diffScrapes } from '../../../harness/server-metrics/session.ts'
import { summarizeServerMetrics } from '../../../harness/server-metrics/summary.ts'

/** label → value of the figures a before/after pair of expositions gives. */
function figures(before: string, after: string): Record<string, [number, string]> {
  const record = diffScrapes('u', parsePrometheusText(before), parsePrometheusText(after))
  return Object.fromEntries(summarizeServerMetrics(record.rows).map((f) => [f.label, [f.value, f.source]]))
}

/** TGI's router (metrics-rs exporter): no token counters, the length histograms' sums instead. */
const tgi = (
  n: number,
  input: number,
  generated: number,
  queueS: number,
  queued: number,
) => `# TYPE tgi_request_success counter
tgi_request_success ${n}
# TYPE tgi_queue_size gauge
tgi_queue_size ${queued}
# TYPE tgi_request_input_length histogram
tgi_request_input_length_bucket{le="+Inf"} ${n}
tgi_request_input_length_sum ${input}
tgi_request_input_length_count ${n}
# TYPE tgi_request_generated_tokens histogram
tgi_request_generated_tokens_bucket{le="+Inf"} ${n}
tgi_request_generated_tokens_sum ${generated}
tgi_request_generated_tokens_count ${n}
# TYPE tgi_request_queue_duration histogram
tgi_request_queue_duration_bucket{le="+Inf"} ${n}
tgi_request_queue_duration_sum ${queueS}
tgi_request_queue_duration_count ${n}
`

/** SGLang's TokenizerMetricsCollector / SchedulerMetricsCollector, labelled as it labels them. */
const sglang = (
  prompt: number,
  cached: number,
  generated: number,
  n: number,
  usage: number,
  retracted: number,
) => `# TYPE sglang:prompt_tokens_total counter
sglang:prompt_tokens_total{model_name="m"} ${prompt}
# TYPE sglang:cached_tokens_total counter
sglang:cached_tokens_total{model_name="m"} ${cached}
# TYPE sglang:generation_tokens_total counter
sglang:generation_tokens_total{model_name="m"} ${generated}
# TYPE sglang:num_requests_total counter
sglang:num_requests_total{model_name="m"} ${n}
# TYPE sglang:num_retracted_requests_total counter
sglang:num_retracted_requests_total{model_name="m"} ${retracted}
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="m"} ${usage}
`

describe('summarizeServerMetrics', () => {
  it('TGI: tokens from the length histograms’ sums, requests, queue time, queue size', () => {
    expect(figures(tgi(10, 1000, 500, 1, 0), tgi(14, 1480, 700, 3, 3))).toEqual({
      'prompt tokens': [480, 'Δ tgi_request_input_length_sum'],
      'generation tokens': [200, 'Δ tgi_request_generated_tokens_sum'],
      'requests finished': [4, 'Δ tgi_request_success'],
      'queue time (mean)': [0.5, 'Δ tgi_request_queue_duration_sum / Δ tgi_request_queue_duration_count'],
      'requests waiting (max)': [3, 'max tgi_queue_size'],
    })
  })

  it('SGLang: tokens, requests, retractions as preemptions, cached / prompt as the hit rate, token usage', () => {
    expect(figures(sglang(100, 0, 50, 2, 0.1, 0), sglang(500, 100, 250, 6, 0.4, 1))).toEqual({
      'prompt tokens': [400, 'Δ sglang:prompt_tokens_total'],
      'generation tokens': [200, 'Δ sglang:generation_tokens_total'],
      'requests finished': [4, 'Δ sglang:num_requests_total'],
      preemptions: [1, 'Δ sglang:num_retracted_requests_total'],
      'prefix-cache hit rate': [0.25, 'Δ sglang:cached_tokens_total / Δ sglang:prompt_tokens_total'],
      'KV-cache usage (max)': [0.4, 'max sglang:token_usage'],
    })
  })

  it('speculative decoding: accepted / drafted from llama-server’s counters; nothing drafted, no figure', () => {
    const spec = (
      drafted: number,
      accepted: number,
    ) => `# TYPE llamacpp:spec_decode_num_draft_tokens_total counter
llamacpp:spec_decode_num_draft_tokens_total ${drafted}
# TYPE llamacpp:spec_decode_num_accepted_tokens_total counter
llamacpp:spec_decode_num_accepted_tokens_total ${accepted}
`
    expect(figures(spec(10, 5), spec(50, 35))['draft tokens accepted / drafted']).toEqual([
      0.75,
      'Δ llamacpp:spec_decode_num_accepted_tokens_total / Δ llamacpp:spec_decode_num_draft_tokens_total',
    ])
    expect(
      figures(spec(10, 5), spec(10, 5))['draft tokens accepted / drafted'],
      'no draft in the run',
    ).toBeUndefined()
  })
})
