// The procurement page's price forms: PUT /api/environments/:id/price (a native target's environment) and
// PUT /api/serving (an endpoint target's serving machine) with the bearer token typed into the page
// (writes.js keeps it), then reload so every figure is recomputed with the new price; on a refusal (401
// wrong or missing token, 403 no token configured, 400 bad input, 404 unknown environment or target) show
// the server's message next to the form.
;(() => {
  const show = (form, text, kind) => {
    const status = form.querySelector('.price-status')
    if (!status) return
    status.textContent = text
    status.className = `price-status ${kind === 'error' ? 'status-error' : 'status-ok'}`
  }

  let readToken = () => ''

  const save = async (form) => {
    const id = form.dataset.priceFor
    if (!id) return
    const field = (name) => String(new FormData(form).get(name) ?? '').trim()
    const price = field('usdPerHour')
    const note = field('note')
    const by = field('by')
    const button = form.querySelector('button')
    if (button) button.disabled = true
    try {
      // An empty or non-numeric field goes as null or its number, and the server says what is wrong.
      const result = await window.benchWrites.sendJson(
        'PUT',
        `/api/environments/${encodeURIComponent(id)}/price`,
        { usdPerHour: price === '' ? null : Number(price), ...(note ? { note } : {}), ...(by ? { by } : {}) },
        readToken(),
      )
      if (!result.ok) {
        show(form, `Price not saved: ${result.message}`, 'error')
        return
      }
      show(form, `Saved $${result.data.price?.usdPerHour}/h; recomputing…`, 'ok')
      window.location.reload()
    } finally {
      if (button) button.disabled = false
    }
  }

  const saveServing = async (form) => {
    const target = form.dataset.servingFor
    const scenario = form.dataset.scenario
    if (!target || !scenario) return
    const field = (name) => String(new FormData(form).get(name) ?? '').trim()
    const number = (name) => (field(name) === '' ? null : Number(field(name)))
    const button = form.querySelector('button')
    if (button) button.disabled = true
    try {
      const body = {
        scenario,
        target,
        hardware: field('hardware'),
        gpu: field('gpu') || null,
        gpuCount: number('gpuCount'),
        usdPerHour: number('usdPerHour'),
        ...(field('note') ? { note: field('note') } : {}),
        ...(field('by') ? { by: field('by') } : {}),
      }
      const result = await window.benchWrites.sendJson('PUT', '/api/serving', body, readToken())
      if (!result.ok) {
        show(form, `Serving machine not saved: ${result.message}`, 'error')
        return
      }
      show(form, `Saved $${result.data.serving?.usdPerHour}/h; recomputing…`, 'ok')
      window.location.reload()
    } finally {
      if (button) button.disabled = false
    }
  }

  const start = () => {
    readToken = window.benchWrites.bindTokenField(document.getElementById('bench-token'))
    for (const form of document.querySelectorAll('form[data-price-for]'))
      form.addEventListener('submit', (event) => {
        event.preventDefault()
        save(form)
      })
    for (const form of document.querySelectorAll('form[data-serving-for]'))
      form.addEventListener('submit', (event) => {
        event.preventDefault()
        saveServing(form)
      })
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
