/**
 * Renders run results for people (a table on stdout, Markdown for CI summaries) and machines (JSON).
 * @module
 */

import type { Distribution } from '../metrics/types.ts'
import { MICRO_COLUMNS, MICRO_FOOTNOTE, microRows } from '../micro/format.ts'
import type { LoadRunResult } from '../runner.ts'
import { describeRun } from './describe-run.ts'
import { VARIANT_COLUMNS, VARIANT_FOOTNOTE, variantRows } from './variant-table.ts'

export type OutputFormat = 'table' | 'json' | 'md'

const num = (v: number | undefined, digits = 1) =>
  v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits)
const pick = (d: Distribution | undefined, key: keyof Distribution, digits = 1) => num(d?.[key], digits)

const COLUMNS = [
  'target',
  'load',
  'state',
  'ok',
  'err',
  'req/s',
  'out tok/s',
  'TTFT p50',
  'TTFT p99',
  'TPOT p50',
  'TPOT p99',
  'ITL p99',
  'E2E p50',
  'goodput/s',
] as const

const isAccuracy = (r: LoadRunResult) => r.load.kind === 'accuracy'
const isQuality = (r: LoadRunResult) => r.load.kind === 'quality'
const isMicro = (r: LoadRunResult) => r.load.kind === 'micro'

export function resultRows(results: readonly LoadRunResult[]): string[][] {
  return results
    .filter((r) => !isAccuracy(r) && !isQuality(r) && !isMicro(r))
    .map((r) => {
      const m = r.metrics
      return [
        r.target,
        describeRun(r.load),
        m?.clientSaturated ? `${r.state}*` : r.state,
        String(m?.ok ?? 0),
        String(m?.errors ?? 0),
        num(m?.requestsPerS, 2),
        num(m?.outputTokensPerS),
        pick(m?.ttftMs, 'p50'),
        pick(m?.ttftMs, 'p99'),
        pick(m?.tpotMs, 'p50', 2),
        pick(m?.tpotMs, 'p99', 2),
        pick(m?.chunkGapsMs, 'p99', 2),
        pick(m?.e2eMs, 'p50'),
        num(m?.goodputRequestsPerS, 2),
      ]
    })
}

/** One line per run that failed, saying why (an engine error, or `error rate 20.0 % (40 of 200) > max 1 %: http 500 ×40`). */
function failureLines(results: readonly LoadRunResult[]): string[] {
  return results.filter((r) => r.error).map((r) => `${r.target} / ${describeRun(r.load)}: ${r.error}`)
}

const ACCURACY_COLUMNS = [
  'target',
  'scoring',
  'state',
  'items',
  'err',
  'acc ± stderr',
  'acc_norm',
  'macro',
  'subjects',
] as const

/** ± with the stderr, or the accuracy alone when there is none (one item). */
const accText = (acc: number | undefined, se: number | undefined) =>
  acc === undefined ? '-' : `${num(acc, 3)}${se === undefined ? '' : ` ± ${num(se, 3)}`}`

/** One row per accuracy run: acc ± stderr (METRICS.md), the macro average, each subject's acc. */
export function accuracyRows(results: readonly LoadRunResult[]): string[][] {
  return results.filter(isAccuracy).map((r) => {
    const a = r.accuracy
    const spec = r.load.kind === 'accuracy' ? r.load : undefined
    return [
      r.target,
      a?.scoring ?? spec?.scoring ?? '-',
      r.state,
      String(a?.n ?? 0),
      String(a?.errors ?? 0),
      accText(a?.acc, a?.accStderr),
      accText(a?.accNorm, a?.accNormStderr),
      accText(a?.summary?.macro.acc, a?.summary?.macro.accStderr),
      a?.summary?.subjects.map((s) => `${s.subject} ${num(s.acc, 2)}`).join(' ') ?? '-',
    ]
  })
}

const QUALITY_COLUMNS = [
  'target',
  'vs',
  'state',
  'tokens',
  'KLD ± SE',
  'KLD p50',
  'KLD p99',
  'KLD max',
  'top-1 ± SE',
  'RMS Δp',
  'ln PPL ratio',
] as const

/** A figure in nats or a ratio, 3 significant digits; below 0.001 in exponent form (KLDs of close variants are ~1e-5). */
const sig = (v: number | undefined): string => {
  if (v === undefined) return '-'
  if (!Number.isFinite(v) || v === 0) return String(v)
  return Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString()
}

/** One row per quality run: KLD ± SE and its spread, top-1 agreement ± SE, RMS Δp, ln(PPL/PPL_ref). */
export function qualityRows(results: readonly LoadRunResult[]): string[][] {
  return results.filter(isQuality).map((r) => {
    const q = r.quality?.summary
    const ok = q?.state === 'ok' ? q : undefined
    return [
      r.target,
      r.load.kind === 'quality' ? r.load.reference : '-',
      r.state,
      String(q?.count ?? 0),
      ok ? `${ok.approximate ? '≈ ' : ''}${sig(ok.klDivergence.mean)} ± ${sig(ok.klDivergence.se)}` : '-',
      sig(ok?.klDivergence.median),
      sig(ok?.klDivergence.p99),
      sig(ok?.klDivergence.max),
      ok ? `${num(ok.top1Agreement.p, 3)} ± ${num(ok.top1Agreement.se, 3)}` : '-',
      sig(ok?.deltaP.rms),
      ok ? `${sig(ok.lnPplRatio.mean)} ± ${sig(ok.lnPplRatio.se)}` : '-',
    ]
  })
}

const QUALITY_FOOTNOTE =
  'KLD = Σ p_ref·(ln p_ref − ln p_var) per scored token, nats (llama-perplexity --kl-divergence) · top-1 = same most likely token · Δp = p_var − p_ref of the actual next token · ≈ = from the top-20 lists of an endpoint (approximate)'

/** Why auto scoring did not use log-likelihoods, per target. */
function noticeLines(results: readonly LoadRunResult[]): string[] {
  return results.flatMap((r) => (r.accuracy?.notice ? [`${r.target}: ${r.accuracy.notice}`] : []))
}

const ACCURACY_FOOTNOTE =
  'acc = correct / scored items · stderr = sqrt(acc·(1−acc)/(n−1)) · acc_norm = argmax of loglik / choice length (mmlu-continuation) · macro = mean of subject accuracies'

function grid(header: readonly string[], body: readonly string[][], left: number): string[] {
  const rows = [header, ...body]
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (c < left ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)]
}

/** One line per target that measured llama-bench-style pp / tg (the same figures ride along with each of its runs). */
function nativeSpeedLines(results: readonly LoadRunResult[]): string[] {
  const seen = new Set<string>()
  const lines: string[] = []
  for (const r of results) {
    const n = r.metrics?.nativeSpeed
    if (!n || seen.has(r.target)) continue
    seen.add(r.target)
    const test = (name: string, t: typeof n.pp) =>
      t ? `${name}${t.tokens}${t.depth ? ` @ d${t.depth}` : ''} ${num(t.avgTs)} ± ${num(t.sdTs)} tok/s` : []
    const parts = [test('pp', n.pp), test('tg', n.tg)].flat()
    lines.push(
      `${r.target} nativeSpeed (llama-bench-style, no HTTP/tokenization/sampling): ${parts.join(' · ')}`,
    )
  }
  return lines
}

const FOOTNOTE =
  'times in ms · TPOT = (E2E − TTFT)/(tokens − 1) (vLLM TPOT, AIPerf ITL) · ITL = gap between content chunks (vLLM ITL) · * client saturated'

export function formatTable(results: readonly LoadRunResult[]): string {
  const loadRows = resultRows(results)
  const accRows = accuracyRows(results)
  const qualRows = qualityRows(results)
  const microRowsOf = microRows(results)
  // A scenario that measures accuracy, quality or micro tasks only prints no empty latency table.
  const latency =
    loadRows.length > 0 || (accRows.length === 0 && qualRows.length === 0 && microRowsOf.length === 0)
      ? [...grid(COLUMNS, loadRows, 3).map((l) => l.trimEnd()), '', FOOTNOTE, ...nativeSpeedLines(results)]
      : []
  const accuracy =
    accRows.length > 0
      ? [...(latency.length > 0 ? [''] : []), ...grid(ACCURACY_COLUMNS, accRows, 3), '', ACCURACY_FOOTNOTE]
      : []
  const quality =
    qualRows.length > 0
      ? [
          ...(latency.length > 0 || accuracy.length > 0 ? [''] : []),
          ...grid(QUALITY_COLUMNS, qualRows, 3),
          '',
          QUALITY_FOOTNOTE,
        ]
      : []
  const micro =
    microRowsOf.length > 0
      ? [
          ...(latency.length > 0 || accuracy.length > 0 || quality.length > 0 ? [''] : []),
          ...grid(MICRO_COLUMNS, microRowsOf, 3),
          '',
          MICRO_FOOTNOTE,
        ]
      : []
  const varRows = variantRows(results)
  const variants = varRows.length > 0 ? ['', ...grid(VARIANT_COLUMNS, varRows, 4), '', VARIANT_FOOTNOTE] : []
  return [
    ...latency,
    ...accuracy,
    ...quality,
    ...micro,
    ...variants,
    ...noticeLines(results),
    ...failureLines(results),
  ].join('\n')
}

/** A Markdown table: `left` columns left-aligned, the rest right-aligned; then its footnote in italics. */
function mdTable(
  header: readonly string[],
  body: readonly string[][],
  left: number,
  footnote: string,
): string[] {
  const esc = (s: string) => s.replaceAll('|', '\\|')
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, c) => (c < left ? ' --- ' : ' ---: ')).join('|')}|`,
    ...body.map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    `_${footnote}_`,
  ]
}

export function formatMarkdown(results: readonly LoadRunResult[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|')
  const failures = failureLines(results)
  const accRows = accuracyRows(results)
  const accuracy =
    accRows.length > 0
      ? [
          '',
          ...mdTable(ACCURACY_COLUMNS, accRows, 3, ACCURACY_FOOTNOTE),
          ...noticeLines(results).map((line) => `- ${esc(line)}`),
        ]
      : []
  const qualRows = qualityRows(results)
  const quality = qualRows.length > 0 ? ['', ...mdTable(QUALITY_COLUMNS, qualRows, 3, QUALITY_FOOTNOTE)] : []
  const microOf = microRows(results)
  const micro = microOf.length > 0 ? ['', ...mdTable(MICRO_COLUMNS, microOf, 3, MICRO_FOOTNOTE)] : []
  const varRows = variantRows(results)
  const variants = varRows.length > 0 ? ['', ...mdTable(VARIANT_COLUMNS, varRows, 4, VARIANT_FOOTNOTE)] : []
  const loadRows = resultRows(results)
  // As the table: no empty latency table when only accuracy, quality or micro runs were made.
  const latency =
    loadRows.length > 0 || (accRows.length === 0 && qualRows.length === 0 && microOf.length === 0)
      ? mdTable(COLUMNS, loadRows, 3, FOOTNOTE)
      : []
  return [
    ...latency,
    ...accuracy,
    ...quality,
    ...micro,
    ...variants,
    ...(failures.length > 0 ? ['', ...failures.map((line) => `- ${esc(line)}`)] : []),
  ].join('\n')
}

export function formatResults(results: readonly LoadRunResult[], format: OutputFormat): string {
  switch (format) {
    case 'table':
      return formatTable(results)
    case 'md':
      return formatMarkdown(results)
    case 'json':
      return JSON.stringify({ runs: results }, null, 2)
    default: {
      const never: never = format
      throw new Error(`unknown format ${String(never)}`)
    }
  }
}
