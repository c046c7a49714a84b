import { describe, expect, it } from 'vitest'
import { PrometheusParseError, parsePrometheusText } from '../../../harness/server-metrics/parse.ts'
import { diffScrapes } from '../../../harness/server-metrics/session.ts'
import { summarizeServerMetrics } from '../../../harness/server-metrics/summary.ts'

/** What prometheus_client (vLLM, SGLang) serves in format 0.0.4: labels, _created gauges, histograms. */
const vllmText = (
  prompt: number,
  count: number,
  sum: number,
) => `# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="m"} ${prompt}.0
# HELP vllm:prompt_tokens_created Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_created gauge
vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7e+09
# TYPE vllm:request_queue_time_seconds histogram
vllm:request_queue_time_seconds_bucket{engine="0",le="0.3",model_name="m"} ${count}.0
vllm:request_queue_time_seconds_bucket{engine="0",le="+Inf",model_name="m"} ${count}.0
vllm:request_queue_time_seconds_count{engine="0",model_name="m"} ${count}.0
vllm:request_queue_time_seconds_sum{engine="0",model_name="m"} ${sum}
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
`

describe('parsePrometheusText', () => {
  it('reads labelled counters, gauges and histograms (count and sum per label set)', () => {
    const families = parsePrometheusText(vllmText(100, 4, 0.5))
    expect(
      families.map((f) => [f.name, f.kind, f.series.length]),
      'families',
    ).toEqual([
      ['vllm:prompt_tokens_total', 'counter', 1],
      ['vllm:prompt_tokens_created', 'gauge', 1],
      ['vllm:request_queue_time_seconds', 'histogram', 1],
      ['vllm:kv_cache_usage_perc', 'gauge', 1],
      ['process_cpu_seconds_total', 'counter', 1],
    ])
    expect(families[0]!.help, 'help').toBe('Number of prefill tokens processed.')
    expect(families[2]!.series[0], 'histogram series: le dropped').toEqual({
      name: 'vllm:request_queue_time_seconds',
      kind: 'histogram',
      labels: { engine: '0', model_name: 'm' },
      count: 4,
      sum: 0.5,
    })
  })

  it('escapes, special values, timestamps, untyped and summaries', () => {
    const families = parsePrometheusText(
      [
        '# HELP a_total back\\\\slash\\nnewline',
        '# TYPE a_total counter',
        'a_total{path="C:\\\\x",q="say \\"hi\\"",nl="1\\n2",} 3 1700000000000',
        'weird NaN',
        'hot +Inf',
        '# TYPE s summary',
        's{quantile="0.5"} 1',
        's_count 2',
        's_sum 3.5e0',
        '# EOF',
      ].join('\n'),
    )
    const [a, weird, hot, s] = families
    expect(a!.help, 'HELP unescaped').toBe('back\\slash\nnewline')
    expect(a!.series[0]!.labels, 'label escapes').toEqual({ path: 'C:\\x', q: 'say "hi"', nl: '1\n2' })
    expect(a!.series[0]!.value, 'value before the timestamp').toBe(3)
    expect([weird!.kind, weird!.series[0]!.value], 'untyped NaN').toEqual(['untyped', Number.NaN])
    expect(hot!.series[0]!.value, '+Inf').toBe(Number.POSITIVE_INFINITY)
    expect([s!.kind, s!.series[0]!.count, s!.series[0]!.sum], 'summary').toEqual(['summary', 2, 3.5])
  })

  it.each([
    ['x{a="1" 2', 'line 1: x: expected , or } after label a'],
    ['x 1 2 3', 'line 1: x: expected "value [timestamp]", got " 1 2 3"'],
    ['x one', 'line 1: x: value "one" is not a number'],
    ['x{a="1",a="2"} 1', 'line 1: x: label a given twice'],
    ['x 1\nx 2', 'line 2: x given twice'],
    ['x 1\n# TYPE x gauge', 'line 2: TYPE x after its samples'],
    ['# TYPE x meter', 'line 1: TYPE x: unknown type "meter"'],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1', 'line 3: histogram h lacks its _sum'],
    ['# TYPE h histogram\nh 1', 'line 2: histogram h: a sample without _bucket, _count or _sum'],
    ['{a="1"} 1', 'line 1: not a sample: "{a=\\"1\\"} 1"'],
    ['x{a="1\\t"} 1', 'line 1: x: bad escape \\t in label a'],
  ])('rejects %j', (text, message) => {
    expect(() => parsePrometheusText(text)).toThrow(PrometheusParseError)
    expect(() => parsePrometheusText(text)).toThrow(message)
  })
})

describe('diffScrapes', () => {
  it('counters as deltas, histograms as count/sum deltas, gauges as before/after/max; _created and process_* left out', () => {
    const before = parsePrometheusText(vllmText(100, 4, 0.5))
    const after = parsePrometheusText(vllmText(160, 10, 2))
    const record = diffScrapes('http://h/metrics', before, after, new Map(), 0)
    expect(record.state, 'ok').toBe('ok')
    expect(
      record.rows.map((r) => r.name),
      'kept',
    ).toEqual(['vllm:prompt_tokens_total', 'vllm:request_queue_time_seconds', 'vllm:kv_cache_usage_perc'])
    const [prompt, queue, kv] = record.rows
    expect([prompt!.before, prompt!.after, prompt!.delta], 'counter').toEqual([100, 160, 60])
    expect([queue!.before, queue!.after, queue!.delta, queue!.sumDelta], 'histogram').toEqual([4, 10, 6, 1.5])
    expect([kv!.before, kv!.after, kv!.delta, kv!.max], 'gauge').toEqual([0.25, 0.25, null, 0.25])
    const figures = summarizeServerMetrics(record.rows)
    expect(
      figures.find((f) => f.label === 'queue time (mean)'),
      'mean = 1.5 s / 6',
    ).toEqual({
      label: 'queue time (mean)',
      unit: 's',
      value: 0.25,
      source: 'Δ vllm:request_queue_time_seconds_sum / Δ vllm:request_queue_time_seconds_count',
    })
  })

  it('a series born during the run counts from 0; a counter that went down was reset', () => {
    const before = parsePrometheusText('# TYPE tgi_request_success counter\ntgi_request_success 50\n')
    const after = parsePrometheusText(
      '# TYPE tgi_request_success counter\ntgi_request_success 7\n# TYPE tgi_request_count counter\ntgi_request_count 9\n',
    )
    const record = diffScrapes('u', before, after)
    expect(
      record.rows.map((r) => [r.name, r.before, r.after, r.delta]),
      'rows',
    ).toEqual([
      ['tgi_request_success', 50, 7, 7],
      ['tgi_request_count', null, 9, 9],
    ])
    expect(record.reason, 'said').toBe(
      'counters went down during the run (server restarted?), counted from 0: tgi_request_success',
    )
  })
})
