/**
 * Numbers as the pages print them: units from the metric catalogue, a sensible number of digits, bytes
 * in binary units, ratios as percentages. Pure; the JSON API returns raw values.
 * @module
 */

const digits = (v: number) => {
  const a = Math.abs(v)
  return a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 2 : 3
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  const d = digits(v)
  return v.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: d })
}

export function formatBytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let x = v
  let i = 0
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024
    i++
  }
  return `${formatNumber(x)} ${units[i]}`
}

/** A metric value with its unit (`12.3 ms`, `1,234 tokens/s`, `1.5 %` for a ratio, `512 MiB`). */
export function formatValue(v: number | null | undefined, unit: string | null | undefined): string {
  if (v === null || v === undefined) return '–'
  switch (unit) {
    case 'bytes':
      return formatBytes(v)
    case 'ratio':
      return `${formatNumber(v * 100)} %`
    case 'bool':
      return v ? 'yes' : 'no'
    case 'count':
      return formatNumber(v)
    case '%':
      return `${formatNumber(v)} %`
    case undefined:
    case null:
    case '':
      return formatNumber(v)
    default:
      return `${formatNumber(v)} ${unit}`
  }
}

/** Signed percentage, e.g. `+4.2 %`, `−12 %`. */
export function formatDeltaPct(v: number | null): string {
  if (v === null) return '–'
  const s = formatNumber(Math.abs(v))
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${s} %`
}

/** `2026-11-20 10:00 UTC`. */
export function formatTime(d: Date | string | null): string {
  if (d === null) return '–'
  const date = typeof d === 'string' ? new Date(d) : d
  if (Number.isNaN(date.getTime())) return '–'
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

export function shortSha(sha: string | null): string {
  return sha ? sha.slice(0, 8) : '–'
}

/** Units a table column states once in its header, so its cells show bare numbers. */
const HEADER_UNITS = new Set(['ms', 'tokens/s', 'requests/s', 'tokens', 'tokens/chunk'])

/** A table cell: a bare number when the header carries the unit, else the value with its unit. */
export function formatCell(v: number | null | undefined, unit: string | null | undefined): string {
  if (v === null || v === undefined) return '–'
  return unit && HEADER_UNITS.has(unit) ? formatNumber(v) : formatValue(v, unit)
}

/** The unit a column header shows (empty when its cells carry their own). */
export function headerUnit(unit: string | null | undefined): string {
  return unit && HEADER_UNITS.has(unit) ? unit : ''
}
