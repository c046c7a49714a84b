/**
 * The OpenAPI document says what each route accepts, and the routes accept exactly that.
 *
 * - Every /api route is in the document and every documented operation is a route.
 * - The generated schemas describe what a client sends (dashboard/routes/openapi.ts wireSchema): an int
 *   parameter is an integer with its bounds and default, not zod's digit-string pattern; a date a string
 *   with its range in the description.
 * - Per route, the live app (PGlite, one seeded run) is probed with values made from the documented schema
 *   alone — each bound, one past it, each enum value, one outside, each example, a non-matching string, a
 *   type mismatch, a required member left out, an unknown one — and each answer must be what the document
 *   predicts (accepted: anything but 400; refused: 400; never a 5xx). A documented default must answer as
 *   leaving the parameter out does. A schema a route validates with that differs from the one documented
 *   (a bound, an enum value, a required field) shows here as a mismatch.
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { historyQuery, procurementQuery, requestsQuery, runsQuery } from '../../dashboard/params.ts'
import {
  type JsonSchema,
  OPENAPI_DOCUMENT,
  type Parameter,
  queryParameters,
  wireSchema,
} from '../../dashboard/routes/openapi.ts'
import { exportRun } from '../../db/export.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { createTestDatabase, removeTestDir, type TestDatabase, testTmpRoot } from '../helpers/db.ts'

const TOKEN = 'openapi-probe-token'
/** A number's "one past" its bound: the finest step the documented number parameters take (3 decimals). */
const STEP = 0.001
/** Too long for any text parameter, matches no pattern, no enum value, no number. */
const JUNK = '!'.repeat(201)
/**
 * A JSON scenario beside the catalogue's files, for POST /api/matrices: the route loads the file it is
 * sent for every accepted probe (~50 of them), and a .ts file goes through tsx each time (~0.5 s); the
 * documented example (mock-sweep.ts) is still probed, as the .ts file it is.
 */
const PROBE_SCENARIO = 'openapi-probe.json'

describe('OpenAPI document', () => {
  it('describes exactly the /api routes the app serves', async () => {
    // The routes table does not touch the database; a stand-in keeps this test free of one.
    const app = createApp({ db: {} as never, auth: {} })
    const served = new Set(
      app.routes
        .filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    const documented = new Set(
      Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${path}`),
      ),
    )
    expect([...served].sort(), 'routes = documented operations').toEqual([...documented].sort())
    const res = await app.request('/api/openapi.json')
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi, 'version').toBe('3.1.0')
    expect(Object.keys(doc.paths).length, 'paths served').toBe(Object.keys(OPENAPI_DOCUMENT.paths).length)
  })

  it('documents what a client sends, not what zod makes of it', () => {
    const byName = (params: Parameter[]) => Object.fromEntries(params.map((p) => [p.name, p]))
    const runs = byName(queryParameters(runsQuery, prose(runsQuery.shape)))
    expect(runs.limit, 'digits decoded to an int: an integer with bounds and default').toEqual({
      name: 'limit',
      in: 'query',
      description: 'limit',
      schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    })
    expect(runs.since?.schema, 'a time: a string, its range in the description').toMatchObject({
      type: 'string',
      maxLength: 40,
      description: expect.stringContaining('from 1900-01-01 to 9999-12-31'),
    })
    expect(runs.since?.schema, 'not a Date').not.toHaveProperty('format')
    expect(runs.scenario?.schema, 'a refinement is said in words').toEqual({
      type: 'string',
      maxLength: 200,
      description: 'Printable text: no control characters.',
    })
    const history = byName(queryParameters(historyQuery, prose(historyQuery.shape)))
    expect(history.fingerprint?.required, 'required').toBe(true)
    expect(history.points?.required, 'a default makes it optional').toBeUndefined()
    const requests = byName(queryParameters(requestsQuery, prose(requestsQuery.shape)))
    expect(requests.chunkGaps?.schema, 'the enum before its transform to a boolean').toEqual({
      type: 'string',
      enum: ['true', 'false'],
      default: 'false',
    })
    const procurement = byName(queryParameters(procurementQuery, prose(procurementQuery.shape)))
    expect(procurement.sloTtftMs?.schema, 'a decimal string decoded to a number').toMatchObject({
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 3_600_000,
    })
    expect(procurement.targets, 'an array: the name repeats').toMatchObject({
      style: 'form',
      explode: true,
      schema: { type: 'array', maxItems: 50, default: [] },
    })
    expect(wireSchema(runsQuery), 'a plain object: unknown parameters are not refused').not.toHaveProperty(
      'additionalProperties',
    )
  })
})

/** Each field's name as its prose (the wiring under test, not the words). */
function prose<T extends object>(shape: T): { [K in keyof T]: string } {
  return Object.fromEntries(Object.keys(shape).map((k) => [k, k])) as { [K in keyof T]: string }
}

// ---- the probe ----

type Operation = {
  parameters?: readonly Parameter[]
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema } } }
}

/** Values at and around each boundary the schema documents (the caller predicts each with `conforms`). */
function candidates(s: JsonSchema): unknown[] {
  const out: unknown[] = []
  if ('default' in s) out.push(s.default)
  if (Array.isArray(s.examples)) out.push(...s.examples)
  if (Array.isArray(s.anyOf)) for (const branch of s.anyOf as JsonSchema[]) out.push(...candidates(branch))
  if ('const' in s) out.push(s.const, typeof s.const === 'number' ? s.const + 1 : `${String(s.const)}x`)
  if (Array.isArray(s.enum)) out.push(...s.enum, 'not-in-the-enum')
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined)
  for (const type of types(s))
    switch (type) {
      case 'null':
        out.push(null)
        break
      case 'integer':
      case 'number': {
        const step = type === 'integer' ? 1 : STEP
        const [min, max, exMin] = [num('minimum'), num('maximum'), num('exclusiveMinimum')]
        if (min !== undefined) out.push(min - step, min)
        if (exMin !== undefined) out.push(exMin, exMin + step)
        if (max !== undefined) out.push(max, max + step)
        out.push(type === 'integer' ? 1.5 : 'x', 'x', 'a')
        break
      }
      case 'string': {
        out.push('a', 7)
        if (s.pattern !== undefined) out.push('!')
        else {
          const [min, max] = [num('minLength'), num('maxLength')]
          if (max !== undefined) out.push('a'.repeat(max), 'a'.repeat(max + 1))
          if (min !== undefined && min > 0) out.push('a'.repeat(min), 'a'.repeat(min - 1))
        }
        break
      }
      case 'array': {
        const items = (s.items ?? {}) as JsonSchema
        const valid = candidates(items).find((v) => conforms(v, items))
        for (const v of candidates(items)) out.push([v])
        const max = num('maxItems')
        if (max !== undefined && valid !== undefined)
          out.push(Array(max).fill(valid), Array(max + 1).fill(valid))
        break
      }
    }
  return out
}

function types(s: JsonSchema): string[] {
  return Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : []
}

/** Whether `v` is valid under `s` — the subset of JSON Schema the document uses. */
function conforms(v: unknown, s: JsonSchema): boolean {
  if (Array.isArray(s.anyOf) && !(s.anyOf as JsonSchema[]).some((b) => conforms(v, b))) return false
  if ('const' in s && v !== s.const) return false
  if (Array.isArray(s.enum) && !s.enum.includes(v)) return false
  const t = types(s)
  const is = (type: string) =>
    type === 'null'
      ? v === null
      : type === 'integer'
        ? Number.isInteger(v)
        : type === 'number'
          ? typeof v === 'number' && Number.isFinite(v)
          : type === 'array'
            ? Array.isArray(v)
            : type === 'object'
              ? v !== null && typeof v === 'object' && !Array.isArray(v)
              : typeof v === type
  if (t.length > 0 && !t.some(is)) return false
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) return false
    if (typeof s.maximum === 'number' && v > s.maximum) return false
    if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) return false
    if (typeof s.exclusiveMaximum === 'number' && v >= s.exclusiveMaximum) return false
  }
  if (typeof v === 'string') {
    if (typeof s.maxLength === 'number' && v.length > s.maxLength) return false
    if (typeof s.minLength === 'number' && v.length < s.minLength) return false
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(v)) return false
  }
  if (Array.isArray(v)) {
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) return false
    if (s.items && !v.every((x) => conforms(x, s.items as JsonSchema))) return false
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>
    const props = (s.properties ?? {}) as Record<string, JsonSchema>
    for (const k of (s.required ?? []) as string[]) if (!(k in o)) return false
    for (const [k, x] of Object.entries(o)) {
      const p = props[k]
      if (p) {
        if (!conforms(x, p)) return false
      } else if (s.additionalProperties === false) return false
    }
  }
  return true
}

/** A query value as sent: numbers in decimal, arrays as repeats; undefined for what a query cannot carry. */
function toWire(v: unknown): string[] | undefined {
  if (typeof v === 'number') return [String(v)]
  if (typeof v === 'string') return v === '' ? undefined : [v] // empty = absent (params.ts)
  if (Array.isArray(v)) {
    const parts = v.map(toWire)
    return parts.every((p) => p?.length === 1) ? parts.map((p) => (p as string[])[0] as string) : undefined
  }
  return undefined
}

/** What the route receives of a wire value, in the documented schema's terms (a number schema reads digits). */
function fromWire(wire: string[], s: JsonSchema): unknown {
  const one = (w: string, t: JsonSchema) =>
    types(t).some((x) => x === 'integer' || x === 'number') && /^-?\d+(\.\d+)?$/.test(w) ? Number(w) : w
  return types(s).includes('array')
    ? wire.map((w) => one(w, (s.items ?? {}) as JsonSchema))
    : one(wire[0] ?? '', s)
}

describe('OpenAPI document against the live app (pglite)', () => {
  let t: TestDatabase
  let app: ReturnType<typeof createApp>
  let runId: number
  let fingerprint: string
  let document: string
  const errors: unknown[] = []
  const cwd = process.cwd()
  /** A working directory whose scenarios/ is the catalogue (each file linked) plus PROBE_SCENARIO. */
  let launchDir = ''
  beforeAll(async () => {
    launchDir = mkdtempSync(path.join(testTmpRoot(), 'bench-openapi-'))
    const scenarios = path.join(launchDir, 'scenarios')
    mkdirSync(scenarios)
    for (const f of readdirSync(path.join(cwd, 'scenarios')))
      symlinkSync(path.join(cwd, 'scenarios', f), path.join(scenarios, f))
    writeFileSync(
      path.join(scenarios, PROBE_SCENARIO),
      JSON.stringify({
        name: 'openapi-probe',
        prompts: { kind: 'synthetic', promptTokens: 16, outputTokens: 8 },
        targets: [{ name: 'mock', engine: { kind: 'openai', model: 'mock-model', mock: {} } }],
        loads: [
          {
            kind: 'sweep',
            loads: [
              { kind: 'sequential', requests: 8 },
              { kind: 'concurrent', concurrency: 8, requests: 40 },
            ],
          },
        ],
      }),
    )
    t = await createTestDatabase('pglite')
    ;[runId] = (await seedRuns(t.db, [
      { tag: 5, startedAtIso: '2026-11-20T10:00:00Z', errorRequests: 1 },
    ])) as [number]
    document = ''
    await exportRun(t.db, runId, {
      format: 'json',
      env: {},
      write: (chunk) => {
        document += chunk
      },
    })
    fingerprint = (JSON.parse(document) as { run: { fingerprint: string } }).run.fingerprint
    app = createApp({ db: t.db, auth: { token: TOKEN }, logError: (e) => errors.push(e) })
  })
  afterAll(async () => {
    if (launchDir) removeTestDir(launchDir)
    await t?.dispose()
  })

  type Probe = { query: Record<string, string[]>; id?: unknown; body?: unknown }
  const send = async (method: string, path: string, p: Probe) => {
    const url = new URL(`http://dashboard${path.replace('{id}', encodeURIComponent(String(p.id)))}`)
    for (const [k, vs] of Object.entries(p.query)) for (const v of vs) url.searchParams.append(k, v)
    const res = await app.request(url.pathname + url.search, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(p.body !== undefined ? { body: typeof p.body === 'string' ? p.body : JSON.stringify(p.body) } : {}),
    })
    return { status: res.status, text: await res.text() }
  }

  /** Every query parameter name the document has, on any route. */
  const queryNames = new Set(
    Object.values(OPENAPI_DOCUMENT.paths).flatMap((ops) =>
      Object.values(ops as Record<string, Operation>).flatMap((op) =>
        (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      ),
    ),
  )

  it('has a value every documented query parameter refuses (for the probe of undocumented names)', () => {
    for (const [path, ops] of Object.entries(OPENAPI_DOCUMENT.paths))
      for (const op of Object.values(ops as Record<string, Operation>))
        for (const p of op.parameters ?? [])
          expect(conforms(fromWire([JUNK], p.schema), p.schema), `${path} ${p.name}`).toBe(false)
  })

  const operations = Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, ops]) =>
    Object.entries(ops as Record<string, Operation>).map(([method, op]) => ({ path, method, op })),
  )

  it.each(operations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s accepts what it documents and refuses what it does not',
    async (_name, { path, method, op }) => {
      const launch = method === 'post' && path === '/api/matrices'
      // The launch route reads scenarios/ of the cwd; only it runs in launchDir (a study file resolves
      // its paths from where it lies, so the study routes stay in the checkout).
      if (launch) {
        process.chdir(launchDir)
        onTestFinished(() => process.chdir(cwd))
      }
      // Values the seeded data has, preferred where the schema allows them (so reads find something).
      const known: Record<string, unknown> = {
        ...(launch ? { scenario: PROBE_SCENARIO } : {}),
        fingerprint,
        a: runId,
        b: runId,
        id: path.startsWith('/api/runs/') ? runId : 1,
      }
      const valid = (name: string, s: JsonSchema) =>
        [known[name], ...candidates(s)].find((v) => v !== undefined && conforms(v, s))
      const params = op.parameters ?? []
      const pathParam = params.find((p) => p.in === 'path')
      const queryParams = params.filter((p) => p.in === 'query')
      const bodySchema = op.requestBody?.content['application/json'].schema
      const isRunDocument = method === 'post' && path === '/api/runs'

      const baseline: Probe = { query: {} }
      if (pathParam) baseline.id = valid('id', pathParam.schema)
      for (const p of queryParams)
        if (p.required) baseline.query[p.name] = toWire(valid(p.name, p.schema)) ?? []
      if (isRunDocument) baseline.body = JSON.parse(document)
      else if (bodySchema) {
        const props = (bodySchema.properties ?? {}) as Record<string, JsonSchema>
        baseline.body = Object.fromEntries(
          ((bodySchema.required ?? []) as string[]).map((k) => [k, valid(k, props[k] ?? {})]),
        )
      }

      const mismatches: string[] = []
      let probes = 0
      const probe = async (what: string, p: Probe, accepted: boolean) => {
        probes++
        const res = await send(method, path, p)
        if (res.status >= 500) mismatches.push(`${what}: ${res.status} ${res.text.slice(0, 200)}`)
        else if ((res.status !== 400) !== accepted)
          mismatches.push(
            `${what}: documented as ${accepted ? 'accepted' : 'refused'}, got ${res.status} ${res.text.slice(0, 200)}`,
          )
        return res
      }

      const base = await probe('the baseline (required members only)', baseline, true)
      await probe(
        'an unknown query parameter (ignored)',
        { ...baseline, query: { ...baseline.query, zzUnknown: ['1'] } },
        true,
      )

      if (pathParam)
        for (const v of candidates(pathParam.schema)) {
          const wire = toWire(v)
          if (wire?.length !== 1) continue
          await probe(
            `path id=${wire[0]}`,
            { ...baseline, id: wire[0] },
            conforms(fromWire(wire, pathParam.schema), pathParam.schema),
          )
        }

      // A name another route documents, sent here with a value every documented schema refuses: ignored,
      // so a parameter the route takes but the document leaves out (e.g. dropped from its doc) shows here.
      for (const name of queryNames)
        if (!queryParams.some((p) => p.name === name))
          await probe(
            `${name} (not documented here)`,
            { ...baseline, query: { ...baseline.query, [name]: [JUNK] } },
            true,
          )

      for (const p of queryParams) {
        if (p.required) {
          const { [p.name]: _, ...without } = baseline.query
          await probe(`${p.name} left out (required)`, { ...baseline, query: without }, false)
        }
        for (const v of candidates(p.schema)) {
          const wire = toWire(v)
          if (wire === undefined || wire.length === 0) continue
          await probe(
            `${p.name}=${wire.join('&')}`.slice(0, 120),
            { ...baseline, query: { ...baseline.query, [p.name]: wire } },
            conforms(fromWire(wire, p.schema), p.schema),
          )
        }
        // A default answers as leaving the parameter out does.
        const dflt = p.schema.default
        const wire = dflt === undefined ? undefined : toWire(dflt)
        if (method === 'get' && base.status === 200 && wire !== undefined && wire.length > 0) {
          const explicit = await send(method, path, {
            ...baseline,
            query: { ...baseline.query, [p.name]: wire },
          })
          if (explicit.text !== base.text)
            mismatches.push(
              `${p.name}=${wire.join('&')}: the documented default answers differently from none`,
            )
        }
      }

      if (bodySchema && baseline.body && typeof baseline.body === 'object') {
        const body = baseline.body as Record<string, unknown>
        const props = (bodySchema.properties ?? {}) as Record<string, JsonSchema>
        await probe(
          'an unknown body member',
          { ...baseline, body: { ...body, zzUnknown: 1 } },
          bodySchema.additionalProperties !== false,
        )
        for (const k of (bodySchema.required ?? []) as string[]) {
          const { [k]: _, ...without } = body
          await probe(`body without ${k} (required)`, { ...baseline, body: without }, false)
        }
        // The run document's members are whole objects and arrays (their fields: test/db); every other
        // body is probed member by member.
        if (!isRunDocument)
          for (const [k, s] of Object.entries(props))
            for (const v of candidates(s))
              await probe(
                `body ${k}=${JSON.stringify(v)}`.slice(0, 120),
                { ...baseline, body: { ...body, [k]: v } },
                conforms({ ...body, [k]: v }, bodySchema),
              )
        else
          for (const [k, s] of Object.entries(props))
            if ('const' in s)
              await probe(
                `body ${k} other than ${String(s.const)}`,
                { ...baseline, body: { ...body, [k]: `${String(s.const)}x` } },
                false,
              )
        if (op.requestBody?.required) await probe('no body (required)', { ...baseline, body: '' }, false)
      }

      expect(mismatches, `${method} ${path}: documented vs accepted`).toEqual([])
      expect(errors, 'no 500s logged').toEqual([])
      // Every documented operation with parameters or a body is probed at each of its boundaries.
      expect(probes, 'probes sent').toBeGreaterThanOrEqual(2 + params.length + (bodySchema ? 2 : 0))
    },
  )
})
