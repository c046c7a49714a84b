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
        new window.Chart(canvas, prepare(JSON.parse(block.textContent)))
        drawn++
      }
    }
    document.documentElement.dataset.chartsDrawn = String(drawn)
  }

  const wireFilters = () => {
    for (const select of document.querySelectorAll('select[data-autosubmit]')) {
      select.addEventListener('change', () => select.form?.requestSubmit())
    }
  }

  const start = () => {
    wireFilters()
    draw()
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
