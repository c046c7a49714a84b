// The alerts page's Acknowledge / Dismiss buttons: POST /api/alerts/:id/(acknowledge|dismiss) with the bearer
// token typed into the page (writes.js keeps it), then update the row in place; on a refusal (401 wrong or
// missing token, 403 no token configured, 400, 404) show the server's message and leave the row as it was.
;(() => {
  const byId = (id) => document.getElementById(id)

  /** `2026-11-20 10:00 UTC`, as the server prints times. */
  const formatTime = (iso) => {
    const d = new Date(iso)
    return Number.isNaN(d.getTime()) ? '–' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
  }

  const showStatus = (text, kind) => {
    const status = byId('alert-status')
    if (!status) return
    status.textContent = text
    status.className = kind === 'error' ? 'status-error' : 'status-ok'
  }

  const updateRow = (row, alert) => {
    row.dataset.state = alert.state
    const state = row.querySelector('[data-field="state"]')
    if (state) {
      state.textContent = alert.state
      state.className = `state state-${alert.state}`
    }
    const acted = row.querySelector('[data-field="acted"]')
    if (acted)
      acted.textContent = alert.actedAt
        ? `${alert.state} by ${alert.actedBy ?? '–'} · ${formatTime(alert.actedAt)}`
        : ''
    const note = row.querySelector('[data-field="note"]')
    if (note) note.textContent = alert.note ?? ''
    const actions = row.querySelector('[data-field="actions"]')
    if (actions) actions.replaceChildren()
  }

  const decrementActiveCount = () => {
    const badge = document.querySelector('[data-nav-count="activeAlerts"]')
    if (!badge) return
    const n = Number(badge.textContent) - 1
    if (n > 0) badge.textContent = String(n)
    else badge.remove()
  }

  let readToken = () => ''

  const act = async (button) => {
    const id = button.dataset.alertId
    const action = button.dataset.alertAction
    const row = button.closest('tr')
    if (!id || !row || (action !== 'acknowledge' && action !== 'dismiss')) return
    const by = byId('alert-by')?.value.trim() ?? ''
    const note = byId('alert-note')?.value.trim() ?? ''
    const buttons = [...row.querySelectorAll('button[data-alert-action]')]
    for (const b of buttons) b.disabled = true
    try {
      const result = await window.benchWrites.sendJson(
        'POST',
        `/api/alerts/${encodeURIComponent(id)}/${action}`,
        { ...(by ? { by } : {}), ...(note ? { note } : {}) },
        readToken(),
      )
      if (!result.ok) {
        showStatus(`Alert #${id} not changed: ${result.message}`, 'error')
        row.dataset.error = result.message
        return
      }
      const { alert } = result.data
      delete row.dataset.error
      const wasActive = row.dataset.state === 'active'
      updateRow(row, alert)
      if (wasActive && alert.state !== 'active') decrementActiveCount()
      showStatus(`Alert #${id} ${alert.state}.`, 'ok')
    } finally {
      for (const b of buttons) if (b.isConnected) b.disabled = false
    }
  }

  const start = () => {
    readToken = window.benchWrites.bindTokenField(byId('alert-token'))
    document.addEventListener('click', (event) => {
      const target = event.target
      const button = target instanceof Element ? target.closest('button[data-alert-action]') : null
      if (button instanceof HTMLButtonElement) act(button)
    })
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
