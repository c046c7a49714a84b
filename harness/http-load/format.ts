/**
 * `bench load`'s table: what was loaded, the requests and their fate, requests/s, the latency percentiles
 * of 2xx responses, the responses by status and the errors by kind. Plain text for a terminal or a log.
 * @module
 */
import { formatErrorCounts, percent } from '../metrics/error-rate.ts'
import type { HttpLoadSummary } from './metrics.ts'
import { describeHttpLoad, type HttpLoadSpec } from './spec.ts'

export interface HttpLoadReport extends HttpLoadSummary {
  baseUrl: string
  model: string
  load: HttpLoadSpec
  stoppedBy: string
  runId?: string
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))

export function formatHttpLoad(r: HttpLoadReport): string {
  const l = r.load
  const bounds = [`${l.durationS} s`, ...(l.requests !== undefined ? [`${l.requests} requests`] : [])]
  const lines = [
    `${describeHttpLoad(l)} · ${r.baseUrl} · model ${r.model} · ${bounds.join(' / ')} (stopped by ${r.stoppedBy}) · ${l.tool}`,
    `requests   ${r.attempted} (${r.ok} ok, ${r.errors} errors)${r.unfinished > 0 ? `, ${r.unfinished} unanswered at the stop (not counted)` : ''}`,
    `rps        ${r.requestsPerS.toFixed(1)} requests/s (2xx over the ${(r.windowMs / 1000).toFixed(2)} s window)${r.outputTokensPerS !== undefined ? ` · ${r.outputTokensPerS.toFixed(1)} output tokens/s` : ''}`,
  ]
  const d = r.e2eMs
  lines.push(
    d
      ? `latency ms p50 ${ms(d.p50)} · p90 ${ms(d.p90)} · p95 ${ms(d.p95)} · p99 ${ms(d.p99)} · p99.9 ${ms(d.p999)} · max ${ms(d.max)} · mean ${ms(d.mean)} (n ${d.n})`
      : 'latency ms — (no 2xx response)',
  )
  const statuses = Object.entries(r.statusCounts)
  lines.push(`status     ${statuses.length > 0 ? statuses.map(([s, n]) => `${s} ×${n}`).join(' · ') : '—'}`)
  lines.push(
    `errors     ${formatErrorCounts(r.errorRate.errorCounts)} · error rate ${percent(r.errorRate.errorRate, r.errorRate.maxErrorRate)} (max ${percent(r.errorRate.maxErrorRate)})`,
  )
  return lines.join('\n')
}
