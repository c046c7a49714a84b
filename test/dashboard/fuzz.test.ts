/**
 * 1,000 random and hostile requests (paths and query strings with SQL and HTML injection, huge and odd
 * numbers, unicode, traversal, NUL and malformed escapes) against a seeded database: never a 5xx, never
 * markup echoed back unescaped. Seeded, so a failure reproduces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { createRandom } from '../../harness/random.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { seedGateResults } from './fixtures/gate-seed.ts'
import { type SeededHistory, seedDashboardHistory } from './fixtures/seed.ts'

const REQUESTS = 1000

/** Markup payloads: none may appear verbatim in any response. */
const MARKUP = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg/onload=alert(1)>",
  '</script><script>alert(document.cookie)</script>',
  '<iframe src=javascript:alert(1)>',
  '<b onmouseover=alert(1)>x</b>',
]
const OTHER = [
  "' OR 1=1 --",
  '1; DROP TABLE runs;--',
  "chat' UNION SELECT password FROM users--",
  '1 OR 1=1',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  'a\u0000b',
  '%E0%A4%A',
  '%',
  '9'.repeat(400),
  '1e309',
  '-1',
  '-0',
  '0x10',
  'NaN',
  'Infinity',
  '2147483648',
  '1.5',
  '１２３',
  '🙂🙂🙂',
  'Ω≈ç√∫˜µ≤≥÷',
  '\u202etxt.exe',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  '${7*7}',
  'a'.repeat(5000),
  '',
  ' ',
  'null',
  'undefined',
  '[object Object]',
  '__proto__',
  'constructor',
  'true',
]
const PATHS = [
  '/',
  '/history',
  '/runs',
  '/runs/{v}',
  '/compare',
  '/api/leaderboard',
  '/variants',
  '/api/variants',
  '/api/history',
  '/api/series',
  '/api/runs',
  '/api/runs/{v}',
  '/api/runs/{v}/requests',
  '/api/runs/{v}/label',
  '/api/compare',
  '/alerts',
  '/api/alerts',
  '/api/alerts/{v}/acknowledge',
  '/api/alerts/{v}/dismiss',
  '/procurement',
  '/api/procurement',
  '/api/environments',
  '/api/environments/{v}/price',
  '/api/openapi.json',
  '/{v}',
  '/api/{v}',
  '/public/{v}',
  '/runs/{v}/{v}',
]
const KEYS = [
  'scenario',
  'branch',
  'engine',
  'hardware',
  'method',
  'quant',
  'sort',
  'dir',
  'fingerprint',
  'metric',
  'points',
  'x',
  'since',
  'until',
  'target',
  'state',
  'limit',
  'offset',
  'a',
  'b',
  'chunkGaps',
  'load',
  'targets',
  'sloTtftMs',
  'sloTpotMs',
  'rank',
  'sortEngine',
  'role',
  '__proto__',
  '<script>',
]

describe('dashboard fuzz', () => {
  let t: TestDatabase
  let s: SeededHistory
  let fingerprint: string
  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    s = await seedDashboardHistory(t.db)
    await seedGateResults(t.db, s)
    const detail = (await (
      await createApp({ db: t.db, auth: {} }).request(`/api/runs/${s.slowRun}`)
    ).json()) as {
      detail: { run: { fingerprint: string } }
    }
    fingerprint = detail.detail.run.fingerprint
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it(`answers ${REQUESTS} hostile requests without a 5xx or an unescaped echo`, async () => {
    const logged: unknown[] = []
    const app = createApp({ db: t.db, auth: { token: 'fuzz-token' }, logError: (e) => logged.push(e) })
    const random = createRandom(20261125)
    const pick = <T>(xs: readonly T[]): T => xs[random.int(0, xs.length - 1)] as T
    // Valid values mixed in, so requests also get past validation and reach the queries.
    const valid = [
      String(s.slowRun),
      String(s.long[0]),
      'chat',
      'long',
      'main',
      'ttftMsP95',
      fingerprint,
      'llama-cpp',
      '50',
      '2026-11-12',
    ]
    const value = () => {
      const roll = random.next()
      return roll < 0.35 ? pick(MARKUP) : roll < 0.75 ? pick(OTHER) : pick(valid)
    }
    // Sometimes encoded, sometimes raw: the router and the URL parser must cope with both.
    const encode = (v: string) => (random.next() < 0.7 ? encodeURIComponent(v) : v)
    const failures: string[] = []
    let labelled = 0
    for (let i = 0; i < REQUESTS; i++) {
      const used: string[] = []
      const method = random.next() < 0.1 ? 'POST' : 'GET'
      // Half the writes go to a real run, so hostile labels get stored and rendered.
      const template = method === 'POST' && random.next() < 0.5 ? `/api/runs/${s.slowRun}/label` : pick(PATHS)
      const path = template.replace(/\{v\}/g, () => {
        const v = value()
        used.push(v)
        return encode(v)
      })
      const params: string[] = []
      for (let k = random.int(0, 4); k > 0; k--) {
        const v = value()
        used.push(v)
        params.push(`${encode(pick(KEYS))}=${encode(v)}`)
      }
      const url = `http://localhost${path}${params.length > 0 ? `?${params.join('&')}` : ''}`
      const label = value()
      if (method === 'POST') used.push(label)
      let res: Response
      try {
        res = await app.request(url, {
          method,
          ...(method === 'POST'
            ? {
                headers: { authorization: 'Bearer fuzz-token', 'content-type': 'application/json' },
                body: JSON.stringify({ label }),
              }
            : {}),
        })
      } catch (err) {
        // The URL parser itself refusing the string is the client's error, not the app's.
        if (err instanceof TypeError && /Invalid URL/.test(err.message)) continue
        throw err
      }
      const body = await res.text()
      if (method === 'POST' && res.status === 200) labelled++
      if (res.status >= 500) failures.push(`${res.status} ${method} ${url}: ${body.slice(0, 200)}`)
      for (const payload of MARKUP)
        if (body.includes(payload)) failures.push(`echoed ${JSON.stringify(payload)}: ${method} ${url}`)
      for (const v of used)
        if (/[<>]/.test(v) && body.includes(v)) failures.push(`echoed ${JSON.stringify(v)}: ${method} ${url}`)
    }
    expect(failures, 'no 5xx and no unescaped echo').toEqual([])
    expect(logged, 'no unexpected errors logged').toEqual([])
    expect(labelled, 'some writes went through').toBeGreaterThan(10)
    const runPage = await (await app.request(`/runs/${s.slowRun}`)).text()
    for (const payload of MARKUP) expect(runPage.includes(payload), `run page: ${payload}`).toBe(false)
  })
})
