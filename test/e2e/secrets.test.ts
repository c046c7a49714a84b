/**
 * No secret in any artefact (issue 14): real `bench run` of a scenario with a known key (apiKeyEnv) and a
 * literal secret header, for each HTTP client, against a loopback server that echoes both in 401 / 500
 * bodies, in a stream error and in a failing start (`--out`, `--format json`, progress on); then `export`
 * to a file, and on PGlite (the same code reads either database) `push`, `gate` with a step summary and a
 * `--format md` run. Every file left under the working directory, the --out directory, the
 * database directory and the step summary is grepped as bytes; the database is dumped column by column
 * (every column of every table as text); every stdout and stderr is searched. The secrets must be nowhere.
 * @module
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db, selectRows } from '../../db/client.ts'
import { BENCH_BIN, type CliResult } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends, freshPgliteDir, type TestDatabase } from '../helpers/db.ts'

const random = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n)
// A fresh key each run: a leak can only come from this run. The variable's name does not look secret:
// it is a secret because the scenario names it in apiKeyEnv.
const KEY = `sk-test-${random(32)}`
const KEY_ENV = 'BENCH_E2E_ENDPOINT_CRED'
const HEADER_SECRET = `hdr-${random(32)}`
const PUSH_TOKEN = `tok-${random(32)}`
/** How OpenAI echoes a key it refuses: a prefix and the last four characters around a mask. */
const MASKED_KEY = `${KEY.slice(0, 11)}...${KEY.slice(-4)}`
const NEEDLES: Record<string, string> = {
  key: KEY,
  'middle of the key': KEY.slice(12, 28),
  'masked key': MASKED_KEY,
  'header secret': HEADER_SECRET,
  'middle of the header secret': HEADER_SECRET.slice(10, 26),
  'push token': PUSH_TOKEN,
}
const CLIENTS = ['http1', 'undici', 'sdk'] as const
/** One of each answer of the upstream's cycle per client. */
const REQUESTS = 4

/**
 * An OpenAI-compatible upstream that echoes what it is sent. Under /<client>/v1 the chat endpoint cycles:
 * a good stream; 401 echoing the key; 500 echoing the header and the masked key; a stream that breaks
 * with an error event echoing the key. Under /broken/v1 the model list fails with the key in its body.
 */
function startUpstream(): Promise<{ server: Server; url: string }> {
  const counts = new Map<string, number>()
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const sse = (res: ServerResponse, events: unknown[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const e of events) res.write(`data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`)
    res.end()
  }
  const chunk = (content: string) => ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'echo',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })
  const stop = { index: 0, delta: {}, finish_reason: 'stop' }
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const [, prefix, , ...rest] = (req.url ?? '/').split('/')
    const route = `/${rest.join('/')}`
    const auth = String(req.headers.authorization ?? '')
    if (prefix === 'version') return json(res, 404, { error: { message: 'no version here' } })
    if (route === '/models') {
      if (prefix === 'broken')
        return json(res, 500, { error: { message: `model list unavailable for ${auth} (${KEY})` } })
      return json(res, 200, { object: 'list', data: [{ id: 'echo', object: 'model' }] })
    }
    const n = counts.get(prefix ?? '') ?? 0
    counts.set(prefix ?? '', n + 1)
    switch (n % 4) {
      case 0:
        return sse(res, [chunk('hello'), chunk(' world'), { ...chunk(''), choices: [stop] }, '[DONE]'])
      case 1:
        return json(res, 401, {
          error: {
            message: `Incorrect API key provided: ${auth.replace(/^Bearer /, '')}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        })
      case 2:
        return json(res, 500, {
          error: { message: `upstream refused x-api-key ${req.headers['x-api-key']} (key ${MASKED_KEY})` },
        })
      default:
        return sse(res, [chunk('partial'), { error: { message: `stream broke for key ${KEY}` } }])
    }
  }
  return listen(createServer((req, res) => req.resume().on('end', () => handle(req, res))))
}

/** Stands in for a central dashboard: keeps what `bench push` sends, answers as POST /api/runs does. */
function startIngest(): Promise<{ server: Server; url: string; bodies: string[] }> {
  const bodies: string[] = []
  let id = 100
  const server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (b: Buffer) => parts.push(b))
    req.on('end', () => {
      // The token travels in the Authorization header, as it must; the document must not hold it.
      bodies.push(Buffer.concat(parts).toString('utf8'))
      id++
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id, url: `http://central/runs/${id}` }))
    })
  })
  return listen(server).then((s) => ({ ...s, bodies }))
}

function listen(server: Server): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  )
}

function scenario(upstream: string) {
  return {
    name: 'secret-echo',
    seed: 1,
    prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 4 },
    targets: [
      ...CLIENTS.map((client) => ({
        name: `echo-${client}`,
        engine: {
          kind: 'openai',
          baseUrl: `${upstream}/${client}/v1`,
          model: 'echo',
          client,
          apiKeyEnv: KEY_ENV,
          headers: { 'x-api-key': HEADER_SECRET, 'content-type': 'application/json' },
        },
      })),
      {
        name: 'echo-broken',
        engine: {
          kind: 'openai',
          baseUrl: `${upstream}/broken/v1`,
          model: 'echo',
          apiKeyEnv: KEY_ENV,
          headers: { 'x-api-key': HEADER_SECRET },
        },
      },
    ],
    loads: [{ kind: 'sequential', requests: REQUESTS }],
    warmupRequests: 0,
    // The echoes are errors by design; the runs still complete, so export, push and gate have runs to take.
    maxErrorRate: 1,
    requestTimeoutMs: 10_000,
  }
}

/** Every file under these directories, as bytes. */
function filesUnder(dirs: readonly string[]): string[] {
  const files: string[] = []
  const walk = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false })
    if (!st) return
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e))
    else if (st.isFile()) files.push(p)
  }
  for (const d of dirs) walk(d)
  return files
}

/** `what: needle` for each needle found in the text or bytes. */
function leaks(where: string, content: string | Buffer): string[] {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content
  return Object.entries(NEEDLES).flatMap(([what, needle]) =>
    bytes.includes(Buffer.from(needle)) ? [`${where}: ${what}`] : [],
  )
}

/**
 * Every column of every table (public, drizzle's), as text, holding a needle: `table.column: what`. One
 * select per table of every column cast to text, searched here (as strpos on `column::text` would), so no
 * needle is ever sent to the database and 300 columns × 6 needles are not 1,800 queries.
 */
async function databaseLeaks(db: Db): Promise<{ columns: number; rows: number; leaks: string[] }> {
  const columns = await selectRows<{ table_schema: string; table_name: string; column_name: string }>(
    db,
    sql`select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ('public', 'drizzle') order by 1, 2, 3`,
  )
  const tables = new Map<string, typeof columns>()
  for (const c of columns) {
    const key = `${c.table_schema}.${c.table_name}`
    tables.set(key, [...(tables.get(key) ?? []), c])
  }
  const found: string[] = []
  for (const cols of tables.values()) {
    const { table_schema: schema, table_name: table } = cols[0] as (typeof columns)[number]
    const rows = await selectRows<Record<string, string | null>>(
      db,
      sql`select ${sql.join(
        cols.map((c, i) => sql`${sql.identifier(c.column_name)}::text as ${sql.identifier(`c${i}`)}`),
        sql`, `,
      )} from ${sql.identifier(schema)}.${sql.identifier(table)}`,
    )
    cols.forEach((c, i) => {
      for (const [what, needle] of Object.entries(NEEDLES))
        if (rows.some((r) => r[`c${i}`]?.includes(needle))) found.push(`${table}.${c.column_name}: ${what}`)
    })
  }
  const [requests] = await selectRows<{ n: number | string }>(db, sql`select count(*) as n from requests`)
  return { columns: columns.length, rows: Number(requests?.n), leaks: found }
}

function bench(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BENCH_BIN, ...args],
      { cwd, env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

describe.each(dbBackends())('no secret in any artefact of a run on %s', (backend) => {
  let upstream: { server: Server; url: string }
  let ingest: Awaited<ReturnType<typeof startIngest>>
  let work: string
  /** The scenario: the input, which holds the header secret as written; not searched. */
  let input: string
  let pgliteDir: string | undefined
  let pg: TestDatabase | undefined
  beforeAll(async () => {
    upstream = await startUpstream()
    ingest = await startIngest()
    work = mkdtempSync(path.join(os.tmpdir(), 'bench-secrets-'))
    input = mkdtempSync(path.join(os.tmpdir(), 'bench-secrets-input-'))
    if (backend === 'pglite') pgliteDir = await freshPgliteDir()
    else pg = await createTestDatabase('postgres')
  })
  afterAll(async () => {
    upstream?.server.close()
    ingest?.server.close()
    await pg?.dispose()
    if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true })
    if (work) rmSync(work, { recursive: true, force: true })
    if (input) rmSync(input, { recursive: true, force: true })
  })

  it('leaves the key and the secret header in no file, database column, stdout or stderr', async () => {
    const file = path.join(input, 'scenario.json')
    writeFileSync(file, JSON.stringify(scenario(upstream.url), null, 2))
    const outDir = path.join(work, 'out')
    mkdirSync(outDir)
    const summary = path.join(work, 'step-summary.md')
    const db = pgliteDir ?? pg?.options.url ?? ''
    const { DATABASE_URL: _, ...base } = process.env
    const env = { ...base, [KEY_ENV]: KEY, BENCH_TOKEN: PUSH_TOKEN, GITHUB_STEP_SUMMARY: summary }
    const outputs: { args: string[]; result: CliResult }[] = []
    const cli = async (args: string[]) => {
      const result = await bench(args, work, env)
      outputs.push({ args, result })
      return result
    }
    const withDb = ['--db', db]

    const jsonRun = await cli([
      'run',
      file,
      '--out',
      path.join(outDir, 'results.jsonl'),
      '--format',
      'json',
      '--label',
      `nightly ${KEY}`,
      ...withDb,
    ])
    expect(jsonRun.code, `bench run exits 1 (the broken target): ${jsonRun.stderr}`).toBe(1)
    const runs = (JSON.parse(jsonRun.stdout) as { runs: { target: string; runId: string; state: string }[] })
      .runs
    expect(
      runs.map((r) => `${r.target} ${r.state}`),
      'each client ran; the broken one failed at start',
    ).toEqual(['echo-http1 completed', 'echo-undici completed', 'echo-sdk completed', 'echo-broken failed'])
    const ids = runs.filter((r) => r.state === 'completed').map((r) => r.runId)
    const broken = runs.find((r) => r.state === 'failed')?.runId ?? ''
    const exported = path.join(outDir, 'export.json')
    // The readers reach the database through the test's own connection (the one the dump below reads),
    // as CLI commands do beside a running dashboard: on PGlite each would otherwise boot PGlite itself, one
    // after another (~3 s of CPU each). The run above hosted its directory itself, and wrote every row.
    const database = pgliteDir ? await createDb({ dataDir: pgliteDir }) : pg?.db
    if (!database) throw new Error('no database')
    let dump: Awaited<ReturnType<typeof databaseLeaks>>
    try {
      const exportJson = cli(['export', ids[0] ?? '', '--out', exported, ...withDb])
      // What follows reads the database through the same code on either backend: once (on PGlite) is enough.
      if (backend === 'pglite') {
        // Markdown needs no database: it runs alongside the commands that read it.
        const [mdRun, push, gate] = await Promise.all([
          cli(['run', file, '--format', 'md', '--no-progress', '--no-db']),
          cli(['push', ...ids, broken, '--url', ingest.url, ...withDb]),
          cli(['gate', '--run', ids[2] ?? '', '--metric', 'ttftMsP50', '--scenario', file, ...withDb]),
        ])
        expect(push.code, `push: ${push.stderr}`).toBe(0)
        expect(ingest.bodies.length, 'documents pushed').toBe(4)
        expect(gate.code, `gate: ${gate.stderr}`).toBe(0)
        expect(readFileSync(summary, 'utf8'), 'gate step summary').toContain('bench gate')
        expect(mdRun.stdout, 'markdown table').toContain('| target |')
      }
      const exportResult = await exportJson
      expect(exportResult.code, `export: ${exportResult.stderr}`).toBe(0)
      dump = await databaseLeaks(database)
    } finally {
      if (pgliteDir) await database.close()
    }

    const found: string[] = []
    for (const { args, result } of outputs) {
      found.push(...leaks(`stdout of bench ${args[0]} ${args[1]}`, result.stdout))
      found.push(...leaks(`stderr of bench ${args[0]} ${args[1]}`, result.stderr))
    }
    ingest.bodies.forEach((body, i) => void found.push(...leaks(`push body ${i}`, body)))
    // Searched once every process that wrote them has closed the database (the test's own included).
    const files = filesUnder([work, ...(pgliteDir ? [pgliteDir] : [])])
    // The run left its files: the JSONL, the export (the summary, the database's pages on PGlite).
    expect(files.length, 'files searched').toBeGreaterThanOrEqual(pgliteDir ? 100 : 2)
    for (const f of files) found.push(...leaks(f, readFileSync(f)))
    expect(dump.columns, 'columns searched').toBeGreaterThan(50)
    expect(dump.rows, 'requests stored (one run per client)').toBe(CLIENTS.length * REQUESTS)
    found.push(...dump.leaks)
    expect(found, 'places holding a secret').toEqual([])
    // The echoes happened: outcomes carry the (redacted) messages, so the search above was not vacuous.
    const jsonl = readFileSync(path.join(outDir, 'results.jsonl'), 'utf8')
    expect(jsonl, 'the 401 echo, redacted').toContain(`Incorrect API key provided: [redacted:${KEY_ENV}]`)
    expect(jsonl, 'the header echo, redacted').toContain(
      'upstream refused x-api-key [redacted:header x-api-key]',
    )
    expect(statSync(path.join(outDir, 'results.jsonl')).mode & 0o777, 'JSONL mode').toBe(0o600)
    expect(statSync(exported).mode & 0o777, 'export mode').toBe(0o600)
  }, 120_000)
})
