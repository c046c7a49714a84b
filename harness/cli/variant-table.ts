/**
 * The table a person chooses a variant with (issue 16): one row per target — a variant on an engine — with
 * what it is (method, quant, bits, file size) next to what it costs and what it keeps: peak RSS, TTFT p50,
 * output tok/s, acc ± stderr, KLD vs the reference and top-1 agreement, joined from that target's latency,
 * accuracy and quality runs of one invocation (each is a run of its own in the database).
 *
 * Which figure when a target has several latency runs: TTFT p50 of its first latency load (the scenario's
 * first step, sequential in the shipped scenarios: latency without queueing), output tok/s the highest of
 * its latency loads, peak RSS the highest of all its runs. The footnote says so.
 * @module
 */
import type { LoadRunResult } from '../runner.ts'

export const VARIANT_COLUMNS = [
  'target',
  'engine',
  'method',
  'quant',
  'bits',
  'size MB',
  'peak RSS MB',
  'TTFT p50',
  'out tok/s',
  'acc ± stderr',
  'KLD ± SE',
  'top-1',
] as const

export const VARIANT_FOOTNOTE =
  'per target: TTFT p50 (ms) of its first latency load · out tok/s the highest over its latency loads · peak RSS the highest over its runs · acc over its accuracy items · KLD (nats) and top-1 agreement vs the quality reference (≈: from the top-20 lists of an endpoint, approximate)'

const MB = 1024 * 1024
const fixed = (v: number | undefined, digits: number) =>
  v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits)
/** 3 significant digits; below 0.001 in exponent form (KLDs of close variants are ~1e-5). */
const sig = (v: number): string =>
  v === 0 || !Number.isFinite(v)
    ? String(v)
    : Math.abs(v) < 1e-3
      ? v.toExponential(2)
      : Number(v.toPrecision(3)).toString()

const isLatency = (r: LoadRunResult) =>
  r.load.kind !== 'accuracy' && r.load.kind !== 'quality' && r.load.kind !== 'micro'

/**
 * One row per target, in the order targets first appear. [] (no table) when it would add nothing to the
 * per-run tables: fewer than two targets, or one kind of run only and no variant identity to show.
 */
export function variantRows(results: readonly LoadRunResult[]): string[][] {
  const byTarget = new Map<string, LoadRunResult[]>()
  for (const r of results) {
    const list = byTarget.get(r.target)
    if (list) list.push(r)
    else byTarget.set(r.target, [r])
  }
  const kinds = new Set(results.map((r) => (isLatency(r) ? 'latency' : r.load.kind)))
  if (byTarget.size < 2 || (kinds.size < 2 && !results.some((r) => r.variant))) return []
  return [...byTarget].map(([target, runs]) => {
    const variant = runs.find((r) => r.variant)?.variant
    const latency = runs.filter((r) => isLatency(r) && r.metrics)
    const first = latency[0]?.metrics
    const best = latency.reduce<number | undefined>((top, r) => {
      const v = r.metrics?.outputTokensPerS
      return v !== undefined && Number.isFinite(v) && (top === undefined || v > top) ? v : top
    }, undefined)
    const rss = runs.reduce<number | undefined>((top, r) => {
      const v = r.metrics?.peakRssBytes
      return v !== undefined && (top === undefined || v > top) ? v : top
    }, undefined)
    const size = variant?.sizeBytes ?? runs.find((r) => r.metrics?.modelBytes)?.metrics?.modelBytes
    const accuracy = runs.find((r) => r.accuracy?.acc !== undefined)?.accuracy
    const quality = runs.find((r) => r.quality?.summary.state === 'ok')?.quality?.summary
    const ok = quality?.state === 'ok' ? quality : undefined
    return [
      target,
      runs.find((r) => r.engine)?.engine ?? '-',
      variant?.method ?? '-',
      variant?.quantLabel ?? '-',
      // Stored bits per weight, norms and scales included (4.579 for Q4_0): two decimals say enough.
      variant?.bits === undefined ? '-' : String(Number(variant.bits.toFixed(2))),
      size === undefined ? '-' : fixed(size / MB, 1),
      rss === undefined ? '-' : fixed(rss / MB, 0),
      fixed(first?.ttftMs?.p50, 1),
      fixed(best, 1),
      accuracy?.acc === undefined
        ? '-'
        : `${fixed(accuracy.acc, 3)}${accuracy.accStderr === undefined ? '' : ` ± ${fixed(accuracy.accStderr, 3)}`}`,
      ok ? `${ok.approximate ? '≈ ' : ''}${sig(ok.klDivergence.mean)} ± ${sig(ok.klDivergence.se)}` : '-',
      ok ? fixed(ok.top1Agreement.p, 3) : '-',
    ]
  })
}
