/**
 * The figures of a run's server metrics that a person reads first (the run page's "Server metrics"
 * table): prompt and generation tokens, requests, preemptions, prefix-cache hit rate, KV-cache usage,
 * queue time, from whichever server family the rows hold. Pure: rows in, figures out; a figure whose
 * metrics the server does not serve is left out, never shown as 0.
 * @module
 */
import type { ServerMetricRow } from './session.ts'

export interface ServerMetricFigure {
  /** What it is, for people: "prompt tokens". */
  label: string
  value: number
  unit: 'tokens' | 'requests' | 'ratio' | 's' | 'count'
  /** How it was computed from which metrics, e.g. "Δ vllm:prompt_tokens_total". */
  source: string
}

type Rows = readonly ServerMetricRow[]

/** Σ delta over every series of a metric (its label values), or undefined when the server has none. */
function delta(rows: Rows, name: string): number | undefined {
  const matching = rows.filter((r) => r.name === name && r.delta !== null)
  return matching.length === 0 ? undefined : matching.reduce((sum, r) => sum + (r.delta ?? 0), 0)
}

/** Largest value of a gauge over the run (max over its series). */
function max(rows: Rows, name: string): number | undefined {
  const values = rows.filter((r) => r.name === name && r.max !== null).map((r) => r.max as number)
  return values.length === 0 ? undefined : Math.max(...values)
}

/** Mean observation of a histogram in the run: Σ sumDelta / Σ delta (undefined when nothing was observed). */
function mean(rows: Rows, name: string): number | undefined {
  const matching = rows.filter((r) => r.name === name && r.delta !== null && r.sumDelta !== null)
  const count = matching.reduce((s, r) => s + (r.delta ?? 0), 0)
  return count > 0 ? matching.reduce((s, r) => s + (r.sumDelta ?? 0), 0) / count : undefined
}

interface Rule {
  label: string
  unit: ServerMetricFigure['unit']
  /** Candidate computations, first that yields a value wins (one per server family). */
  from: ((rows: Rows) => { value: number; source: string } | undefined)[]
}

const d = (name: string) => (rows: Rows) => {
  const value = delta(rows, name)
  return value === undefined ? undefined : { value, source: `Δ ${name}` }
}
const dSum = (name: string) => (rows: Rows) => {
  const matching = rows.filter((r) => r.name === name && r.sumDelta !== null)
  return matching.length === 0
    ? undefined
    : { value: matching.reduce((s, r) => s + (r.sumDelta ?? 0), 0), source: `Δ ${name}_sum` }
}
const m = (name: string) => (rows: Rows) => {
  const value = max(rows, name)
  return value === undefined ? undefined : { value, source: `max ${name}` }
}
const avg = (name: string) => (rows: Rows) => {
  const value = mean(rows, name)
  return value === undefined ? undefined : { value, source: `Δ ${name}_sum / Δ ${name}_count` }
}
/** hits / queries of two counters' deltas (undefined when nothing was queried). */
const ratio = (hits: string, queries: string | string[]) => (rows: Rows) => {
  const h = delta(rows, hits)
  const names = Array.isArray(queries) ? queries : [queries]
  const q = names.map((n) => delta(rows, n))
  if (h === undefined || q.some((v) => v === undefined)) return undefined
  const total = q.reduce((s: number, v) => s + (v ?? 0), 0)
  return total > 0 ? { value: h / total, source: `Δ ${hits} / Δ ${names.join(' + Δ ')}` } : undefined
}

const RULES: readonly Rule[] = [
  {
    label: 'prompt tokens',
    unit: 'tokens',
    from: [
      d('vllm:prompt_tokens_total'),
      d('sglang:prompt_tokens_total'),
      // llama-server counts the tokens it evaluated: a prompt's cached tokens are in prompt_tokens_cached_total.
      d('llamacpp:prompt_tokens_total'),
      dSum('tgi_request_input_length'),
    ],
  },
  {
    label: 'generation tokens',
    unit: 'tokens',
    from: [
      d('vllm:generation_tokens_total'),
      d('sglang:generation_tokens_total'),
      d('llamacpp:tokens_predicted_total'),
      dSum('tgi_request_generated_tokens'),
    ],
  },
  {
    label: 'requests finished',
    unit: 'requests',
    from: [d('vllm:request_success_total'), d('sglang:num_requests_total'), d('tgi_request_success')],
  },
  {
    label: 'preemptions',
    unit: 'count',
    from: [d('vllm:num_preemptions_total'), d('sglang:num_retracted_requests_total')],
  },
  {
    label: 'prefix-cache hit rate',
    unit: 'ratio',
    from: [
      ratio('vllm:prefix_cache_hits_total', 'vllm:prefix_cache_queries_total'),
      ratio('sglang:cached_tokens_total', 'sglang:prompt_tokens_total'),
      ratio('llamacpp:prompt_tokens_cached_total', [
        'llamacpp:prompt_tokens_cached_total',
        'llamacpp:prompt_tokens_total',
      ]),
    ],
  },
  {
    label: 'KV-cache usage (max)',
    unit: 'ratio',
    from: [m('vllm:kv_cache_usage_perc'), m('sglang:token_usage')],
  },
  {
    label: 'queue time (mean)',
    unit: 's',
    from: [
      avg('vllm:request_queue_time_seconds'),
      avg('sglang:queue_time_seconds'),
      avg('tgi_request_queue_duration'),
    ],
  },
  {
    label: 'requests waiting (max)',
    unit: 'requests',
    from: [
      m('vllm:num_requests_waiting'),
      m('llamacpp:requests_deferred'),
      m('sglang:num_queue_reqs'),
      m('tgi_queue_size'),
    ],
  },
  {
    label: 'requests running (max)',
    unit: 'requests',
    from: [
      m('vllm:num_requests_running'),
      m('llamacpp:requests_processing'),
      m('sglang:num_running_reqs'),
      m('tgi_batch_current_size'),
    ],
  },
  {
    label: 'draft tokens accepted / drafted',
    unit: 'ratio',
    from: [
      ratio('vllm:spec_decode_num_accepted_tokens_total', 'vllm:spec_decode_num_draft_tokens_total'),
      ratio('llamacpp:spec_decode_num_accepted_tokens_total', 'llamacpp:spec_decode_num_draft_tokens_total'),
    ],
  },
]

/** The headline figures the rows allow, in RULES order. */
export function summarizeServerMetrics(rows: Rows): ServerMetricFigure[] {
  const out: ServerMetricFigure[] = []
  for (const rule of RULES)
    for (const compute of rule.from) {
      const got = compute(rows)
      if (got === undefined) continue
      out.push({ label: rule.label, unit: rule.unit, ...got })
      break
    }
  return out
}
