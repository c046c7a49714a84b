// What the pages that write share (alerts.js, procurement.js; loaded before them): the bearer token typed
// into a page's token field, kept in sessionStorage under one key so every page of this tab sees it (never
// a cookie, never a URL), and one JSON request helper that turns a refusal (401 wrong or missing token,
// 403 no token configured, 400, 404) into the server's own message. No inline script: the CSP forbids it.
;(() => {
  const TOKEN_KEY = 'bench-token'

  const readStoredToken = () => {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) ?? ''
    } catch {
      return ''
    }
  }
  const storeToken = (token) => {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token)
      else window.sessionStorage.removeItem(TOKEN_KEY)
    } catch {
      // Storage disabled: the token then lasts as long as the field's value.
    }
  }

  /** Fills the field from this tab's storage and keeps storage in step with it; returns a reader. */
  const bindTokenField = (input) => {
    if (input) {
      input.value = readStoredToken()
      input.addEventListener('input', () => storeToken(input.value.trim()))
    }
    return () => input?.value.trim() || readStoredToken()
  }

  /** The server's `{ error, problems }` as one line. */
  const describeFailure = async (response) => {
    try {
      const body = await response.json()
      const problems = Array.isArray(body.problems) ? body.problems.join('; ') : ''
      return `${response.status} ${body.error ?? response.statusText}${problems ? `: ${problems}` : ''}`
    } catch {
      return `${response.status} ${response.statusText}`
    }
  }

  /** `{ ok: true, data }` with the parsed answer, or `{ ok: false, message }` saying what went wrong. */
  const sendJson = async (method, url, body, token) => {
    try {
      const response = await fetch(url, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
        credentials: 'omit',
      })
      if (!response.ok) return { ok: false, message: await describeFailure(response) }
      // Read to the end: a page reload mid-body would abort the request.
      return { ok: true, data: await response.json() }
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) }
    }
  }

  window.benchWrites = { bindTokenField, sendJson }
})()
