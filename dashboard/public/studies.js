// The Studies pages' writes and live progress (loaded after writes.js): the "Launch study" form posts the
// chosen study file with the token to /api/studies and opens the new study's page; a study's page, while
// the study is queued or running, asks /api/studies/<id> once a second and moves its progress bar, and
// reloads when the study has ended (the charts are drawn server-side from the stored rows); "Cancel study"
// posts to /api/studies/<id>/cancel. No inline script: the CSP forbids it.
;(() => {
  /** How often a live study's page asks for its progress, ms. */
  const POLL_MS = 1000
  const { bindTokenField, sendJson } = window.benchWrites

  const launch = document.getElementById('launch-study-form')
  if (launch) {
    const token = bindTokenField(launch.querySelector('[data-token-field]'))
    const status = launch.elements.namedItem('status')
    launch.addEventListener('submit', async (event) => {
      event.preventDefault()
      const study = launch.elements.namedItem('study').value
      const label = launch.elements.namedItem('label').value.trim()
      status.value = `launching ${study} …`
      const result = await sendJson('POST', '/api/studies', label ? { study, label } : { study }, token())
      if (!result.ok) {
        status.value = `not launched: ${result.message}`
        launch.dataset.launchError = result.message
        return
      }
      window.location.assign(`/studies/${result.data.study.id}`)
    })
  }

  const cancel = document.getElementById('cancel-study-form')
  const header = document.getElementById('study-status')
  if (cancel && header) {
    const token = bindTokenField(cancel.querySelector('[data-token-field]'))
    const status = cancel.elements.namedItem('status')
    cancel.addEventListener('submit', async (event) => {
      event.preventDefault()
      const result = await sendJson('POST', `/api/studies/${header.dataset.studyId}/cancel`, {}, token())
      if (result.ok) window.location.reload()
      else status.value = `not cancelled: ${result.message}`
    })
  }

  if (header && (header.dataset.state === 'queued' || header.dataset.state === 'running')) {
    const bar = header.querySelector('[data-study-progress]')
    const text = header.querySelector('[data-study-progress-text]')
    const poll = async () => {
      try {
        const response = await fetch(`/api/studies/${header.dataset.studyId}`, { credentials: 'omit' })
        if (response.ok) {
          const { study } = await response.json()
          if (study.state !== header.dataset.state && study.state !== 'queued' && study.state !== 'running') {
            window.location.reload()
            return
          }
          const pct = Math.round(study.progress * 100)
          if (bar) bar.value = pct
          if (text)
            text.textContent = `${pct} %${study.state === 'running' && study.progressMessage ? ` · ${study.progressMessage}` : ''}`
          if (study.state !== header.dataset.state) {
            header.dataset.state = study.state
            const badge = header.querySelector('[data-study-state]')
            if (badge) {
              badge.textContent = study.state
              badge.className = `state state-${study.state}`
              badge.dataset.studyState = study.state
            }
          }
        }
      } catch {
        // The dashboard restarting: try again at the next tick.
      }
      window.setTimeout(poll, POLL_MS)
    }
    window.setTimeout(poll, POLL_MS)
  }
})()
