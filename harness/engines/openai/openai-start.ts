/**
 * engine.start() for remote endpoints: a GET of `{baseUrl}/models` proves the server is there and takes
 * the key, and lists the served model ids; the server's version is picked up on the way when it tells it.
 * Not timed, and never on the request path.
 * @module
 */
import type { Pool } from 'undici'
import { EngineStartError } from '../../errors.ts'
import { errorMessageFromText } from './openai-chunks.ts'
import { describeError } from './openai-scope.ts'

/** Bound on each probe; a server that does not answer its model list in this time is not fit to measure. */
const START_TIMEOUT_MS = 30_000
/** `/version` is optional; do not let a server that hangs on it delay the start. */
const VERSION_TIMEOUT_MS = 2_000

export interface ProbeTarget {
  pool: Pool
  /** The base URL as configured (for messages). */
  baseUrl: string
  /** Path of the base URL, without a trailing slash, e.g. `/v1`. */
  basePath: string
  headers: Record<string, string>
  hasApiKey: boolean
  model: string
}

export interface ProbeResult {
  models: string[]
  engineVersion?: string
}

export async function probeServer(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  const fail = (message: string, cause?: unknown) =>
    new EngineStartError('openai', target.model, message, cause === undefined ? undefined : { cause })
  const timeout = AbortSignal.timeout(START_TIMEOUT_MS)
  const probeSignal = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  let statusCode: number
  let text: string
  let serverHeader: string | undefined
  try {
    const response = await target.pool.request({
      path: `${target.basePath}/models`,
      method: 'GET',
      headers: target.headers,
      signal: probeSignal,
    })
    statusCode = response.statusCode
    const server = response.headers.server
    serverHeader = typeof server === 'string' ? server : undefined
    text = await response.body.text()
  } catch (error) {
    if (signal?.aborted) throw signal.reason
    const why = timeout.aborted ? `no answer within ${START_TIMEOUT_MS} ms` : describeError(error)
    throw fail(`cannot reach ${target.baseUrl}: ${why}`, error)
  }
  if (statusCode === 401 || statusCode === 403) {
    throw fail(
      target.hasApiKey
        ? `${target.baseUrl} refused the API key (HTTP ${statusCode})`
        : `${target.baseUrl} requires an API key (HTTP ${statusCode}); set apiKeyEnv`,
    )
  }
  if (statusCode < 200 || statusCode > 299) {
    throw fail(
      `GET ${target.baseUrl}/models answered HTTP ${statusCode} (${errorMessageFromText(text)}); ` +
        'is the base URL right? It must include the API prefix, e.g. /v1',
    )
  }
  let models: string[]
  try {
    models = modelIds(JSON.parse(text))
  } catch (error) {
    throw fail(`GET ${target.baseUrl}/models did not answer an OpenAI model list`, error)
  }
  const version = await probeVersion(target, signal)
  const engineVersion = version ?? serverHeader
  return engineVersion === undefined ? { models } : { models, engineVersion }
}

function modelIds(body: unknown): string[] {
  const data = (body as { data?: unknown } | null)?.data
  if (!Array.isArray(data)) throw new Error('no data array')
  const ids: string[] = []
  for (const entry of data) {
    const id = (entry as { id?: unknown } | null)?.id
    if (typeof id === 'string') ids.push(id)
  }
  return ids
}

/** vLLM and others answer `GET /version` at the server root with `{"version": "…"}`. */
async function probeVersion(target: ProbeTarget, signal?: AbortSignal): Promise<string | undefined> {
  const timeout = AbortSignal.timeout(VERSION_TIMEOUT_MS)
  try {
    const response = await target.pool.request({
      path: '/version',
      method: 'GET',
      headers: target.headers,
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    })
    const text = await response.body.text()
    if (response.statusCode !== 200) return undefined
    const version = (JSON.parse(text) as { version?: unknown } | null)?.version
    return typeof version === 'string' && version.length > 0 ? version : undefined
  } catch {
    if (signal?.aborted) throw signal.reason
    return undefined
  }
}
