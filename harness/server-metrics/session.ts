/**
 * The server's metrics around one run: a scrape before the measured requests, gauges sampled while they
 * run (their max), a scrape after, and the difference of the two as rows to store beside the run
 * (ServerMetricsRecord). Counters become deltas, gauges before/after/max, histograms and summaries the
 * delta of their `_count` (delta) and `_sum` (sumDelta), whose ratio is the mean observation in the run.
 * Only the serving engines' own families are kept (SERVER_METRIC_PREFIXES): not process_*, python_gc_* nor
 * the mock's mock_*. Nothing here throws: whatever goes wrong becomes the record's `reason`.
 * @module
 */
import type { MetricFamily, MetricKind } from './parse.ts'
import { labelKey } from './parse.ts'
import { DEFAULT_SCRAPE_TIMEOUT_MS, displayUrl, type Scrape, scrapeMetrics } from './scrape.ts'

/**
 * Families kept: vLLM `vllm:` (vllm/v1/metrics/loggers.py), llama-server `llamacpp:` (tools/server/
 * server-task.cpp to_metrics), TGI `tgi_` (router/src/server.rs), SGLang `sglang:`
 * (python/sglang/srt/metrics/collector.py).
 */
export const SERVER_METRIC_PREFIXES = ['vllm:', 'llamacpp:', 'tgi_', 'sglang:'] as const

/** Most series kept per run (a server with many label values; the rest are counted in the note). */
export const MAX_SERIES = 1_000

/** Gauge sampling interval while the run goes on, ms. @default 1000 */
export const DEFAULT_SAMPLE_INTERVAL_MS = 1_000

/** Delay of the first gauge sample after the scrape before, ms; the next ones double up to the interval. */
const FIRST_SAMPLE_MS = 100

/**
 * Gauges that count requests still inside the server. The scrape after the run is repeated (SETTLE_TRIES
 * times, SETTLE_WAIT_MS apart) while one is above 0: a server may update its counters just after the last
 * byte of a response has left.
 */
const IN_FLIGHT_GAUGES = new Set([
  'llamacpp:requests_processing',
  'vllm:num_requests_running',
  'sglang:num_running_reqs',
  'tgi_batch_current_size',
])
const SETTLE_TRIES = 5
const SETTLE_WAIT_MS = 100

export interface ServerMetricRow {
  name: string
  labels: Record<string, string>
  kind: MetricKind
  /** counter/gauge/untyped: the value; histogram/summary: `_count`. null: the series was absent then. */
  before: number | null
  after: number | null
  /** counter, histogram, summary: after − before (a series absent before counts from 0); gauges: null. */
  delta: number | null
  /** histogram, summary: the `_sum`'s delta (mean = sumDelta / delta); else null. */
  sumDelta: number | null
  /** gauge, untyped: the largest value seen before, during (sampled) and after the run; else null. */
  max: number | null
}

export interface ServerMetricsRecord {
  /** Where the metrics were read, without credentials or query string. */
  url: string
  /** ok: rows are the run's deltas; unavailable: no rows, `reason` says why. */
  state: 'ok' | 'unavailable'
  /** Why there are no rows; with `ok`, what to know about them (a counter reset, series left out). */
  reason?: string
  /** Scrapes during the run (gauge samples), besides before and after. */
  samples: number
  rows: ServerMetricRow[]
}

export interface ServerMetricsOptions {
  url: string
  /** The run's headers (Authorization included): sent with every scrape, never stored. */
  headers?: Readonly<Record<string, string>>
  /** @default DEFAULT_SCRAPE_TIMEOUT_MS (2000) */
  timeoutMs?: number
  /** Gauge sampling during the run, ms; 0 = none. @default DEFAULT_SAMPLE_INTERVAL_MS (1000) */
  sampleIntervalMs?: number
  signal?: AbortSignal
}

export interface ServerMetricsSession {
  /** Stops sampling, scrapes once more and diffs. Call once. */
  finish(): Promise<ServerMetricsRecord>
}

/** Scrapes before the run and starts sampling gauges; `finish()` after the run gives the record. */
export async function startServerMetrics(options: ServerMetricsOptions): Promise<ServerMetricsSession> {
  const url = displayUrl(options.url)
  const scrape = (keepLine?: (line: string) => boolean) =>
    scrapeMetrics({
      url: options.url,
      timeoutMs: options.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(keepLine ? { keepLine } : {}),
    })
  const before = await scrape()
  if (before.state !== 'ok') {
    const record: ServerMetricsRecord = {
      url,
      state: 'unavailable',
      reason: before.reason,
      samples: 0,
      rows: [],
    }
    return { finish: async () => record }
  }
  const maxima = new Map<string, number>()
  const noteMax = (families: readonly MetricFamily[]) => {
    for (const f of kept(families))
      if (f.kind === 'gauge' || f.kind === 'untyped')
        for (const s of f.series) {
          const key = seriesKey(f.name, s.labels)
          const v = s.value ?? Number.NaN
          if (!Number.isNaN(v)) maxima.set(key, Math.max(maxima.get(key) ?? v, v))
        }
  }
  noteMax(before.families)
  // Samples parse only the gauges' lines (the client's event loop pays for every scrape during the run).
  const gauges = new Set(
    kept(before.families)
      .filter((f) => f.kind === 'gauge' || f.kind === 'untyped')
      .map((f) => f.name),
  )
  const gaugeLine = (line: string) => {
    const name = line.startsWith('# TYPE ') ? line.slice(7, line.indexOf(' ', 7)) : /^[^{ ]*/.exec(line)![0]
    return gauges.has(name)
  }
  let samples = 0
  let inFlight: Promise<void> | undefined
  const interval = options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  // The first samples come sooner (FIRST_SAMPLE_MS, doubling up to the interval), so a run of a second or
  // less still has gauges seen while its requests were in flight; one sample at a time (a slow server).
  const next = (delayMs: number) => {
    timer = setTimeout(() => {
      inFlight = scrape(gaugeLine).then((s) => {
        inFlight = undefined
        if (s.state === 'ok') {
          samples++
          noteMax(s.families)
        }
        if (!stopped) next(Math.min(interval, delayMs * 2))
      })
    }, delayMs)
    timer.unref()
  }
  if (interval > 0) next(Math.min(FIRST_SAMPLE_MS, interval))
  return {
    async finish() {
      stopped = true
      if (timer) clearTimeout(timer)
      await inFlight
      let after: Scrape = await scrape()
      for (let i = 0; i < SETTLE_TRIES && after.state === 'ok' && stillBusy(after.families); i++) {
        noteMax(after.families) // a reading of the run's end: its gauges count
        await new Promise((resolve) => setTimeout(resolve, SETTLE_WAIT_MS))
        after = await scrape()
      }
      if (after.state !== 'ok')
        return { url, state: 'unavailable', reason: `after the run: ${after.reason}`, samples, rows: [] }
      noteMax(after.families)
      return diffScrapes(url, before.families, after.families, maxima, samples)
    },
  }
}

/** The rows of a run from the scrapes before and after it (and the gauges' maxima seen in between). */
export function diffScrapes(
  url: string,
  before: readonly MetricFamily[],
  after: readonly MetricFamily[],
  maxima: ReadonlyMap<string, number> = new Map(),
  samples = 0,
): ServerMetricsRecord {
  const beforeKept = kept(before)
  const afterKept = kept(after)
  if (afterKept.length === 0)
    return {
      url,
      state: 'unavailable',
      reason: `no ${SERVER_METRIC_PREFIXES.join(', ')} metrics among the ${after.length} families served`,
      samples,
      rows: [],
    }
  const old = new Map<string, { value?: number; count?: number; sum?: number }>()
  for (const f of beforeKept) for (const s of f.series) old.set(seriesKey(f.name, s.labels), s)
  const rows: ServerMetricRow[] = []
  const resets: string[] = []
  const seen = new Set<string>()
  for (const f of afterKept)
    for (const s of f.series) {
      const key = seriesKey(f.name, s.labels)
      seen.add(key)
      const was = old.get(key)
      const cumulative = f.kind === 'histogram' || f.kind === 'summary'
      const now = cumulative ? (s.count ?? null) : (s.value ?? null)
      const then = was === undefined ? null : cumulative ? (was.count ?? null) : (was.value ?? null)
      let delta: number | null = null
      let sumDelta: number | null = null
      if (f.kind === 'counter' || cumulative) {
        // A series born during the run (TGI and prometheus_client create some at first use) counts from 0;
        // one that went down was reset (the server restarted): the increase is its value since.
        const base = then ?? 0
        const reset = now !== null && now < base
        if (reset) resets.push(f.name)
        delta = now === null ? null : reset ? now : now - base
        if (cumulative && s.sum !== undefined) {
          const sumBase = was?.sum ?? 0
          sumDelta = reset ? s.sum : s.sum - sumBase
        }
      }
      const max = f.kind === 'gauge' || f.kind === 'untyped' ? (maxima.get(key) ?? now) : null
      rows.push({
        name: f.name,
        labels: { ...s.labels },
        kind: f.kind,
        before: then,
        after: now,
        delta,
        sumDelta,
        max,
      })
    }
  for (const f of beforeKept)
    for (const s of f.series) {
      const key = seriesKey(f.name, s.labels)
      if (seen.has(key)) continue
      const cumulative = f.kind === 'histogram' || f.kind === 'summary'
      const then = (cumulative ? s.count : s.value) ?? null
      rows.push({
        name: f.name,
        labels: { ...s.labels },
        kind: f.kind,
        before: then,
        after: null,
        delta: null,
        sumDelta: null,
        max: null,
      })
    }
  const notes: string[] = []
  if (resets.length > 0)
    notes.push(
      `counters went down during the run (server restarted?), counted from 0: ${[...new Set(resets)].join(', ')}`,
    )
  if (rows.length > MAX_SERIES)
    notes.push(`${rows.length - MAX_SERIES} series beyond the first ${MAX_SERIES} not kept`)
  return {
    url,
    state: 'ok',
    ...(notes.length > 0 ? { reason: notes.join('; ') } : {}),
    samples,
    rows: rows.slice(0, MAX_SERIES),
  }
}

/** The serving engines' families, without prometheus_client's `_created` timestamps of counters/histograms. */
function kept(families: readonly MetricFamily[]): MetricFamily[] {
  const names = new Set(families.map((f) => f.name))
  return families.filter(
    (f) =>
      SERVER_METRIC_PREFIXES.some((p) => f.name.startsWith(p)) &&
      !(
        f.name.endsWith('_created') &&
        (names.has(f.name.slice(0, -8)) || names.has(`${f.name.slice(0, -8)}_total`))
      ),
  )
}

function stillBusy(families: readonly MetricFamily[]): boolean {
  return families.some((f) => IN_FLIGHT_GAUGES.has(f.name) && f.series.some((s) => (s.value ?? 0) > 0))
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}\u0000${labelKey(labels)}`
}
