/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (what vLLM, llama-server, TGI and SGLang
 * serve on /metrics), reduced to what a before/after diff needs: every series' value, and a histogram's or
 * summary's `_count` and `_sum` (buckets and quantiles are checked for shape, then dropped). Strict means a
 * line that is not a comment, a HELP/TYPE line or a well-formed sample is an error naming its line: a
 * malformed /metrics is reported, never half-read. Why not a package: see README.md (Parser).
 * @module
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

const KINDS: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/** One series: a family's samples with the same labels (without `le` / `quantile`). */
export interface MetricSeries {
  /** The family's name (a histogram's without `_count`, `_sum`, `_bucket`). */
  name: string
  kind: MetricKind
  labels: Record<string, string>
  /** counter, gauge, untyped: the sample's value. */
  value?: number
  /** histogram, summary: `_count` and `_sum`. */
  count?: number
  sum?: number
}

export interface MetricFamily {
  name: string
  kind: MetricKind
  help: string
  series: MetricSeries[]
}

export class PrometheusParseError extends Error {
  override name = 'PrometheusParseError'
  constructor(
    /** 1-based line number. */
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`)
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/

/** Parses a whole exposition. Throws PrometheusParseError on the first malformed line. */
export function parsePrometheusText(text: string): MetricFamily[] {
  const families = new Map<string, MetricFamily>()
  /** Families whose samples have been seen: a TYPE after them is an error (the format's rule). */
  const sampled = new Set<string>()
  const seriesIndex = new Map<string, MetricSeries>()
  const lines = text.split('\n')
  const family = (name: string): MetricFamily => {
    let f = families.get(name)
    if (f === undefined) {
      f = { name, kind: 'untyped', help: '', series: [] }
      families.set(name, f)
    }
    return f
  }
  for (const [i, raw] of lines.entries()) {
    const n = i + 1
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line.trim() === '') continue
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line)
      if (meta === null) continue // a plain comment (and OpenMetrics' `# EOF`)
      const [, what, name, rest = ''] = meta
      if (!NAME.test(name!) || NAME.exec(name!)![0] !== name)
        throw new PrometheusParseError(n, `${what} names an invalid metric name ${JSON.stringify(name)}`)
      const f = family(name!)
      if (what === 'HELP') f.help = unescapeHelp(rest)
      else {
        const kind = rest.trim()
        if (!KINDS.has(kind))
          throw new PrometheusParseError(n, `TYPE ${name}: unknown type ${JSON.stringify(kind)}`)
        if (sampled.has(name!)) throw new PrometheusParseError(n, `TYPE ${name} after its samples`)
        if (f.kind !== 'untyped' && f.kind !== kind)
          throw new PrometheusParseError(n, `TYPE ${name} given twice (${f.kind}, ${kind})`)
        f.kind = kind as MetricKind
      }
      continue
    }
    const sample = parseSample(line, n)
    const { familyName, part } = familyOf(sample.name, families)
    const f = family(familyName)
    sampled.add(familyName)
    const labels = { ...sample.labels }
    if (part === 'bucket') {
      if (labels.le === undefined) throw new PrometheusParseError(n, `${sample.name} has no le label`)
      delete labels.le
    } else if (f.kind === 'summary' && part === 'value') {
      if (labels.quantile === undefined)
        throw new PrometheusParseError(n, `${sample.name} has no quantile label`)
      delete labels.quantile
    } else if (f.kind === 'histogram' && part === 'value')
      throw new PrometheusParseError(n, `histogram ${familyName}: a sample without _bucket, _count or _sum`)
    const key = `${familyName}\u0000${labelKey(labels)}`
    let series = seriesIndex.get(key)
    if (series === undefined) {
      series = { name: familyName, kind: f.kind, labels }
      seriesIndex.set(key, series)
      f.series.push(series)
    }
    if (part === 'count' || part === 'sum') {
      if (series[part] !== undefined)
        throw new PrometheusParseError(n, `${sample.name}${braces(labels)} given twice`)
      series[part] = sample.value
    } else if (part === 'value' && f.kind !== 'summary') {
      if (series.value !== undefined)
        throw new PrometheusParseError(n, `${sample.name}${braces(labels)} given twice`)
      series.value = sample.value
    }
  }
  for (const f of families.values())
    for (const s of f.series)
      if ((f.kind === 'histogram' || f.kind === 'summary') && (s.count === undefined || s.sum === undefined))
        throw new PrometheusParseError(
          lines.length,
          `${f.kind} ${f.name}${braces(s.labels)} lacks its ${s.count === undefined ? '_count' : '_sum'}`,
        )
  return [...families.values()].filter((f) => f.series.length > 0)
}

/** Which family a sample belongs to: its own name, or a declared histogram/summary it is a part of. */
function familyOf(
  name: string,
  families: ReadonlyMap<string, MetricFamily>,
): { familyName: string; part: 'value' | 'bucket' | 'count' | 'sum' } {
  const own = families.get(name)
  if (own !== undefined && own.kind !== 'untyped') return { familyName: name, part: 'value' }
  for (const part of ['bucket', 'count', 'sum'] as const) {
    const suffix = `_${part}`
    if (!name.endsWith(suffix)) continue
    const base = families.get(name.slice(0, -suffix.length))
    if (base?.kind === 'histogram' || (base?.kind === 'summary' && part !== 'bucket'))
      return { familyName: base.name, part }
  }
  return { familyName: name, part: 'value' }
}

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parseSample(line: string, n: number): Sample {
  const nameMatch = NAME.exec(line)
  if (nameMatch === null) throw new PrometheusParseError(n, `not a sample: ${excerpt(line)}`)
  const name = nameMatch[0]
  let at = name.length
  // No prototype: a label named __proto__ is a label like any other.
  const labels: Record<string, string> = Object.create(null)
  if (line[at] === '{') {
    at++
    for (;;) {
      at = skipSpaces(line, at)
      if (line[at] === '}') {
        at++
        break
      }
      const labelMatch = LABEL_NAME.exec(line.slice(at))
      if (labelMatch === null)
        throw new PrometheusParseError(n, `${name}: bad label name at ${excerpt(line.slice(at))}`)
      const label = labelMatch[0]
      at = skipSpaces(line, at + label.length)
      if (line[at] !== '=') throw new PrometheusParseError(n, `${name}: expected = after label ${label}`)
      at = skipSpaces(line, at + 1)
      if (line[at] !== '"') throw new PrometheusParseError(n, `${name}: label ${label}'s value is not quoted`)
      let value = ''
      at++
      for (;;) {
        const c = line[at]
        if (c === undefined)
          throw new PrometheusParseError(n, `${name}: label ${label}'s value is not closed`)
        if (c === '"') break
        if (c === '\\') {
          const next = line[at + 1]
          if (next === 'n') value += '\n'
          else if (next === '\\' || next === '"') value += next
          else throw new PrometheusParseError(n, `${name}: bad escape \\${next ?? ''} in label ${label}`)
          at += 2
        } else {
          value += c
          at++
        }
      }
      at++
      if (Object.hasOwn(labels, label))
        throw new PrometheusParseError(n, `${name}: label ${label} given twice`)
      labels[label] = value
      at = skipSpaces(line, at)
      if (line[at] === ',') at++
      else if (line[at] !== '}')
        throw new PrometheusParseError(n, `${name}: expected , or } after label ${label}`)
    }
  }
  const rest = line.slice(at)
  const parts = rest.trim().split(/[ \t]+/)
  if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2 || parts[0] === '')
    throw new PrometheusParseError(n, `${name}: expected "value [timestamp]", got ${excerpt(rest)}`)
  const value = parseValue(parts[0]!)
  if (value === undefined)
    throw new PrometheusParseError(n, `${name}: value ${excerpt(parts[0]!)} is not a number`)
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))
    throw new PrometheusParseError(n, `${name}: timestamp ${excerpt(parts[1])} is not an integer (ms)`)
  return { name, labels, value }
}

/** Go's ParseFloat forms the format allows: decimals, exponents, NaN, ±Inf. */
function parseValue(text: string): number | undefined {
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY
    case '-inf':
      return Number.NEGATIVE_INFINITY
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined
  return Number(text)
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'))
}

function skipSpaces(line: string, at: number): number {
  while (line[at] === ' ' || line[at] === '\t') at++
  return at
}

/** A stable key of a label set (sorted names), for series identity. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  )
}

function braces(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels)
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}
