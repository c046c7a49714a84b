/**
 * Building blocks of every page: an auto-escaping `h` template (hono/html: every interpolated string is
 * escaped; only HtmlEscapedString values pass through), JSON blocks safe inside a `<script>` element,
 * chart figures, links with query strings, metric names with their catalogue description as tooltip.
 * @module
 */
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import type { ChartSpec } from '../charts/types.ts'

export type Html = HtmlEscapedString

/** `html` for the synchronous templates the views build (no promises are ever interpolated). */
export const h = html as (strings: TemplateStringsArray, ...values: unknown[]) => Html

/**
 * JSON that cannot end or alter the `<script type="application/json">` element holding it: `<`, `>` and
 * `&` become \u escapes (still the same JSON), as do U+2028/2029.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/**
 * A chart: a titled figure with a canvas, and its config as JSON for dashboard/public/charts.js; `key`
 * (e.g. `familyKey`) goes under the canvas.
 */
export function chartFigure(
  spec: ChartSpec,
  size: 'normal' | 'tall' | 'short' = 'normal',
  key: Html | '' = '',
): Html {
  const rows = spec.config.options.benchRows !== undefined ? ' chart-rows' : ''
  return h`<figure class="chart chart-${size}${rows}">
  <figcaption>${spec.title}</figcaption>
  <div class="chart-box"><canvas id="${spec.id}" role="img" aria-label="${spec.title}"></canvas></div>
  ${key}
  <script type="application/json" data-chart-for="${spec.id}">${raw(safeJson(spec.config))}</script>
</figure>`
}

/**
 * What a chart's colours mean when they are variant families (charts/palette.ts familyColours): one
 * swatch per family, as HTML (wraps, never overflows; a chart legend of 28 targets did). The swatch is an
 * SVG square: the CSP forbids inline styles, and SVG presentation attributes are not styles.
 */
export function familyKey(colours: ReadonlyMap<string, string>): Html | '' {
  if (colours.size === 0) return ''
  return h`<p class="family-key"><span class="family-key-title">colour: variant family</span> ${[...colours].map(([family, colour]) => h`<span class="family" data-family="${family}"><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${colour}"/></svg> ${family}</span> `)}</p>`
}

/** `path?k=v…` from the defined, non-empty parameters (values encoded; the template escapes the rest). */
export function link(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') query.set(k, String(v))
  const q = query.toString()
  return q ? `${path}?${q}` : path
}

/**
 * A metric's name with its description (units, definition, other tools' names) as a tooltip. `wrap`
 * lets a narrow column header break the camelCase name between words.
 */
export function metricName(name: string, wrap = false): Html {
  const info = metricInfo(name)
  const text = wrap
    ? name.split(/(?=[A-Z])/).map((part, i) => (i === 0 ? h`${part}` : h`<wbr>${part}`))
    : name
  return info
    ? h`<abbr class="metric" title="${info.description}">${text}</abbr>`
    : h`<span class="metric">${text}</span>`
}

/** A `<select>` that submits its form on change (charts.js), with an "any" option. */
export function filterSelect(
  name: string,
  label: string,
  options: readonly string[],
  selected: string | undefined,
): Html {
  return h`<label>${label}
  <select name="${name}" data-autosubmit>
    <option value="">any</option>
    ${options.map((o) => h`<option value="${o}"${o === selected ? raw(' selected') : ''}>${o}</option>`)}
    ${selected !== undefined && !options.includes(selected) ? h`<option value="${selected}" selected>${selected}</option>` : ''}
  </select>
</label>`
}

export function notice(text: string | Html, kind: 'info' | 'warn' = 'info'): Html {
  return h`<p class="notice notice-${kind}">${text}</p>`
}
