// Draws the charts the server embedded as JSON (<script type="application/json" data-chart-for="id">) with
// Chart.js, turning the configs' named behaviours (benchFormat, benchTooltip, benchLinks, point href) into
// functions; and makes filter selects submit their form on change. No inline script: the CSP forbids it.
;(() => {
  const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 })
  const formats = {
    number: (v) => number.format(v),
    percent: (v) => `${number.format(Math.round(v * 1000) / 10)} %`,
    date: (v) => new Date(v).toISOString().slice(0, 16).replace('T', ' '),
    day: (v) => new Date(v).toISOString().slice(0, 10),
    bytes: (v) => {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
      let x = v
      let i = 0
      while (Math.abs(x) >= 1024 && i < units.length - 1) {
        x /= 1024
        i++
      }
      return `${number.format(Math.round(x * 10) / 10)} ${units[i]}`
    },
  }
  const format = (name, v) => (formats[name] ?? formats.number)(v)

  /** Height of one bar's row (px) in a chart sized to its rows (options.benchRows), and the axes' share. */
  const BAR_ROW_PX = 22
  const BAR_EXTRA_PX = 80
  /** Chart.js gives a vertical axis at most half the chart's width; minus tick padding and tick marks. */
  const AXIS_SHARE = 0.5
  const AXIS_RESERVE_PX = 24

  /** CSS font string of a Chart.js font option (resolved scale or defaults). */
  const fontString = (font) => {
    const d = window.Chart?.defaults?.font ?? {}
    const f = { ...d, ...font }
    return `${f.style ?? 'normal'} ${f.weight ?? 'normal'} ${f.size ?? 12}px ${f.family ?? 'sans-serif'}`
  }

  /** `text` shortened in the middle (…) until it measures at most `maxPx` in `font`; unchanged if it fits. */
  const fitText = (ctx, font, text, maxPx) => {
    ctx.save()
    ctx.font = font
    const fits = (t) => ctx.measureText(t).width <= maxPx
    let out = text
    if (!fits(text)) {
      let lo = 0
      let hi = text.length
      while (lo < hi) {
        const n = Math.ceil((lo + hi) / 2)
        const t = `${text.slice(0, Math.ceil(n / 2))}…${text.slice(text.length - Math.floor(n / 2))}`
        if (fits(t)) lo = n
        else hi = n - 1
      }
      out = `${text.slice(0, Math.ceil(lo / 2))}…${text.slice(text.length - Math.floor(lo / 2))}`
    }
    ctx.restore()
    return out
  }

  /**
   * Labels points whose data carry `benchTag` (a Pareto front's targets) beside them, inside the chart
   * area and without overlapping one another: right, left, above or below the point, the first place that
   * is free. The placed boxes are kept on the chart (`$benchTags`) for tests to measure.
   */
  const pointTags = {
    id: 'benchPointTags',
    afterDatasetsDraw(chart) {
      const area = chart.chartArea
      const ctx = chart.ctx
      const font = fontString({ size: 11, weight: '600' })
      const points = []
      chart.data.datasets.forEach((dataset, d) => {
        const meta = chart.getDatasetMeta(d)
        if (meta.hidden) return
        dataset.data.forEach((raw, i) => {
          const el = meta.data[i]
          if (raw && typeof raw === 'object' && typeof raw.benchTag === 'string' && el)
            points.push({ text: raw.benchTag, x: el.x, y: el.y })
        })
      })
      points.sort((a, b) => a.x - b.x || a.y - b.y)
      ctx.save()
      ctx.font = font
      ctx.textBaseline = 'middle'
      const height = 13
      const placed = []
      const inside = (b) =>
        b.left >= area.left && b.right <= area.right && b.top >= area.top && b.bottom <= area.bottom
      const free = (b) =>
        placed.every((o) => b.right <= o.left || b.left >= o.right || b.bottom <= o.top || b.top >= o.bottom)
      for (const p of points) {
        const width = Math.min(ctx.measureText(p.text).width, (area.right - area.left) / 2)
        const text = width < ctx.measureText(p.text).width ? fitText(ctx, font, p.text, width) : p.text
        const box = (left, top) => ({ left, top, right: left + width, bottom: top + height })
        const options = [
          box(p.x + 10, p.y - height / 2),
          box(p.x - 10 - width, p.y - height / 2),
          box(p.x - width / 2, p.y - 12 - height),
          box(p.x - width / 2, p.y + 12),
          box(p.x + 10, p.y - height - 4),
          box(p.x + 10, p.y + 4),
          box(p.x - 10 - width, p.y - height - 4),
          box(p.x - 10 - width, p.y + 4),
        ]
        // Free and inside if possible, else inside (overlapping), else pulled inside the area.
        let b = options.find((o) => inside(o) && free(o)) ?? options.find(inside) ?? options[0]
        if (!inside(b)) {
          const left = Math.min(Math.max(b.left, area.left), area.right - width)
          const top = Math.min(Math.max(b.top, area.top), area.bottom - height)
          b = box(left, top)
        }
        placed.push({ ...b, text, font })
        ctx.lineWidth = 3
        ctx.strokeStyle = 'rgba(255,255,255,0.9)'
        ctx.strokeText(text, b.left, b.top + height / 2)
        ctx.fillStyle = '#222'
        ctx.fillText(text, b.left, b.top + height / 2)
      }
      ctx.restore()
      chart.$benchTags = placed
    },
  }

  /** A link stored on the element under the pointer: a point's href, or the dataset's benchLinks. */
  const hrefAt = (chart, element) => {
    const dataset = chart.data.datasets[element.datasetIndex]
    const raw = dataset?.data?.[element.index]
    const href = raw && typeof raw === 'object' ? raw.href : dataset?.benchLinks?.[element.index]
    return typeof href === 'string' && href.startsWith('/') && !href.startsWith('//') ? href : null
  }

  const prepare = (config) => {
    const options = config.options ?? {}
    for (const axis of Object.values(options.scales ?? {})) {
      if (axis?.benchTickLabels) {
        const labels = axis.benchTickLabels
        axis.ticks = { ...axis.ticks, autoSkip: true, callback: (value) => labels[String(value)] ?? '' }
      } else if (axis?.benchFitLabels) {
        axis.ticks = {
          ...axis.ticks,
          callback(value) {
            const label = String(this.getLabelForValue(value))
            const maxPx = this.chart.width * AXIS_SHARE - AXIS_RESERVE_PX
            return fitText(this.ctx, fontString(this.options.ticks?.font), label, maxPx)
          },
        }
      } else if (axis?.benchFormat) {
        const name = axis.benchFormat
        axis.ticks = { ...axis.ticks, callback: (value) => format(name, Number(value)) }
      }
    }
    const t = options.benchTooltip ?? {}
    const horizontal = options.indexAxis === 'y'
    options.plugins = options.plugins ?? {}
    options.plugins.tooltip = {
      ...options.plugins.tooltip,
      callbacks: {
        title: (items) => {
          const item = items[0]
          if (!item) return ''
          const raw = item.raw
          if (raw && typeof raw === 'object' && typeof raw.label === 'string') return raw.label
          return item.label ?? ''
        },
        label: (item) => {
          const raw = item.raw
          const parts = []
          if (raw && typeof raw === 'object') {
            parts.push(`${format(t.x, raw.x)}${t.xUnit ? ` ${t.xUnit}` : ''}`)
            parts.push(`${format(t.y, raw.y)}${t.yUnit ? ` ${t.yUnit}` : ''}`)
          } else {
            const f = horizontal ? t.x : t.y
            const unit = horizontal ? t.xUnit : t.yUnit
            parts.push(`${format(f, Number(raw))}${unit ? ` ${unit}` : ''}`)
          }
          return `${item.dataset.label}: ${parts.join(', ')}`
        },
      },
    }
    options.onClick = (_event, elements, chart) => {
      const href = elements[0] ? hrefAt(chart, elements[0]) : null
      if (href) window.location.assign(href)
    }
    options.onHover = (event, elements, chart) => {
      const target = event.native?.target
      if (target) target.style.cursor = elements[0] && hrefAt(chart, elements[0]) ? 'pointer' : 'default'
    }
    return config
  }

  const draw = () => {
    let drawn = 0
    if (typeof window.Chart === 'function') {
      for (const block of document.querySelectorAll('script[type="application/json"][data-chart-for]')) {
        const canvas = document.getElementById(block.dataset.chartFor)
        if (!(canvas instanceof HTMLCanvasElement)) continue
        const config = JSON.parse(block.textContent)
        // A bar chart as tall as its rows: every label has its line (CSSOM, which the CSP allows).
        const rows = config.options?.benchRows
        if (typeof rows === 'number' && canvas.parentElement)
          canvas.parentElement.style.height = `${Math.max(160, rows * BAR_ROW_PX + BAR_EXTRA_PX)}px`
        config.plugins = [pointTags]
        new window.Chart(canvas, prepare(config))
        drawn++
      }
    }
    document.documentElement.dataset.chartsDrawn = String(drawn)
  }

  const wireFilters = () => {
    for (const select of document.querySelectorAll('select[data-autosubmit]')) {
      select.addEventListener('change', () => {
        // data-resets="load": fields that belong to the old choice (a load step of the previous scenario)
        // are left out of the submission, so the new scenario opens on its own default.
        for (const name of (select.dataset.resets ?? '').split(' ').filter(Boolean)) {
          const field = select.form?.elements.namedItem(name)
          if (field && 'disabled' in field) field.disabled = true
        }
        select.form?.requestSubmit()
      })
    }
  }

  const start = () => {
    wireFilters()
    draw()
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
