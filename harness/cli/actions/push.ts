/**
 * `bench push`: each run exported as `bench export --format json` writes it, POSTed to the dashboard's
 * /api/runs with BENCH_TOKEN.
 * @module
 */
import { createDb, type Database } from '../../../db/client.ts'
import { exportRun, RunNotFoundError } from '../../../db/export.ts'
import { HarnessError } from '../../errors.ts'
import { dbOptions } from '../commands/db.ts'

export interface PushedRun {
  /** Id in the local database. */
  runId: number
  /** Id on the dashboard. */
  remoteId: number
  url: string
  /** `created`: stored now; `exists`: the dashboard had this run already. */
  state: 'created' | 'exists'
}

export interface PushFlags {
  url: string
  json?: boolean
  db?: string
}

export async function pushCommand(runIds: number[], opts: PushFlags): Promise<undefined> {
  const token = process.env.BENCH_TOKEN
  if (!token)
    throw new HarnessError(
      'bench push needs the dashboard’s write token in the BENCH_TOKEN environment variable (the token that dashboard was started with): BENCH_TOKEN=<secret> bench push …',
    )
  const endpoint = ingestUrl(opts.url)
  const database = await createDb(dbOptions(opts.db))
  const pushed: PushedRun[] = []
  try {
    for (const runId of runIds) {
      const run = await pushRun(database, runId, endpoint, token)
      pushed.push(run)
      if (!opts.json) process.stdout.write(formatPushed(run))
    }
  } finally {
    await database.close()
    if (opts.json) process.stdout.write(`${JSON.stringify(pushed, null, 2)}\n`)
  }
  return undefined
}

/** `--url` → the ingest endpoint; a path prefix (a dashboard behind a proxy) is kept. */
export function ingestUrl(url: string): URL {
  let base: URL
  try {
    base = new URL(url)
  } catch {
    throw new HarnessError(
      `--url expects the dashboard's address such as http://127.0.0.1:8787, got "${url}"`,
    )
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new HarnessError(`--url expects an http:// or https:// address, got "${base.protocol}"`)
  if (base.username || base.password)
    throw new HarnessError('--url must not carry credentials: the token travels in BENCH_TOKEN')
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  base.search = ''
  base.hash = ''
  return new URL('api/runs', base)
}

async function pushRun(db: Database, runId: number, endpoint: URL, token: string): Promise<PushedRun> {
  // The document is held whole: the dashboard checks Content-Length against its limit before reading.
  const chunks: Buffer[] = []
  try {
    await exportRun(db, runId, { format: 'json', write: (chunk) => void chunks.push(Buffer.from(chunk)) })
  } catch (err) {
    if (err instanceof RunNotFoundError)
      throw new HarnessError(
        `run ${runId} does not exist in ${db.location}; \`bench runs list\` shows the ids`,
      )
    throw err
  }
  const body = Buffer.concat(chunks)
  chunks.length = 0
  let response: Response
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    })
  } catch (err) {
    const cause = (err as Error).cause
    const reason = cause instanceof Error ? cause.message : (err as Error).message
    throw new HarnessError(
      `cannot reach ${endpoint.href} (${reason}): is \`bench dashboard\` running there, and is --url right?`,
    )
  }
  const text = await response.text()
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    answer = undefined
  }
  if (response.status === 200 || response.status === 201) {
    const a = answer as Partial<PushedRun & { id: number }> | undefined
    if (typeof a?.id !== 'number' || typeof a.url !== 'string')
      throw new HarnessError(
        `${endpoint.href} answered ${response.status} without a run id: is --url a bench dashboard?`,
      )
    return { runId, remoteId: a.id, url: a.url, state: response.status === 201 ? 'created' : 'exists' }
  }
  throw new HarnessError(refusal(runId, endpoint, response.status, answer))
}

/** The dashboard's reason, and what to do about it. */
function refusal(runId: number, endpoint: URL, status: number, answer: unknown): string {
  const problems = (answer as { problems?: unknown } | undefined)?.problems
  const said = Array.isArray(problems) && problems.length > 0 ? `: ${problems.map(String).join('; ')}` : ''
  const head = `the dashboard refused run ${runId} (HTTP ${status})${said}`
  switch (status) {
    case 401:
      return `${head}. BENCH_TOKEN here must equal the BENCH_TOKEN the dashboard was started with`
    case 403:
      return `${head}. Restart that dashboard with BENCH_TOKEN set to enable writes`
    case 404:
      return `${head}. ${endpoint.href} has no ingest endpoint: is --url a bench dashboard of this version?`
    default:
      return status >= 500
        ? `${head}. See the dashboard's log; pushing again is safe (a run is stored once)`
        : head
  }
}

export function formatPushed(run: PushedRun): string {
  return run.state === 'created'
    ? `run ${run.runId} → run ${run.remoteId}: ${run.url}\n`
    : `run ${run.runId} was there already as run ${run.remoteId}: ${run.url}\n`
}
