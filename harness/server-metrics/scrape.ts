/**
 * One GET of a server's Prometheus /metrics, bounded in time and size, parsed strictly. Never throws: a
 * server without /metrics (404), a slow one, a refused connection or a malformed body is an `unavailable`
 * scrape whose reason says which, so a run is never failed by its server's metrics.
 * @module
 */
import { type MetricFamily, parsePrometheusText } from './parse.ts'

/** Longest a scrape may take, ms: a /metrics slower than this is not waited for. @default 2000 */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 2_000

/** Largest /metrics body read, bytes (a vLLM with many LoRA adapters serves ~100 kB). @default 16 MiB */
export const MAX_METRICS_BYTES = 16 * 1024 * 1024

export interface ScrapeOptions {
  url: string
  /** The run's own headers (its Authorization included): sent, never stored or printed. */
  headers?: Readonly<Record<string, string>>
  /** @default DEFAULT_SCRAPE_TIMEOUT_MS */
  timeoutMs?: number
  /** Stops the scrape early (the run was interrupted). */
  signal?: AbortSignal
  /** Lines kept for parsing (the gauge samples during a run read only the gauges). @default every line */
  keepLine?: (line: string) => boolean
}

export type Scrape =
  | { state: 'ok'; families: MetricFamily[]; bytes: number; elapsedMs: number }
  | { state: 'unavailable'; reason: string }

export async function scrapeMetrics(options: ScrapeOptions): Promise<Scrape> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS
  const where = `GET ${displayUrl(options.url)}`
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout
  const startedMs = performance.now()
  let text: string
  try {
    const { url, basic } = splitCredentials(options.url)
    const response = await fetch(url, {
      headers: { accept: 'text/plain', ...basic, ...options.headers },
      signal,
      redirect: 'error',
    })
    if (!response.ok) {
      await response.body?.cancel().catch(() => {})
      return unavailable(
        `${where}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
      )
    }
    text = await readBounded(response, MAX_METRICS_BYTES)
  } catch (err) {
    if (timeout.aborted) return unavailable(`${where}: no complete answer within ${timeoutMs} ms`)
    if (options.signal?.aborted) return unavailable(`${where}: the run was interrupted`)
    return unavailable(`${where}: ${scrub(describe(err), options.url)}`)
  }
  try {
    const kept = options.keepLine ? text.split('\n').filter(options.keepLine).join('\n') : text
    const families = parsePrometheusText(kept)
    return { state: 'ok', families, bytes: Buffer.byteLength(text), elapsedMs: performance.now() - startedMs }
  } catch (err) {
    return unavailable(`${where}: not Prometheus text: ${scrub(describe(err), options.url)}`)
  }
}

/** The URL as it may be stored and printed: no user:password, no query string (either may hold a key). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

/** user:password in the URL (fetch refuses it) becomes Basic auth; the run's own Authorization wins. */
function splitCredentials(url: string): { url: string; basic: Record<string, string> } {
  const u = new URL(url)
  if (u.username === '' && u.password === '') return { url, basic: {} }
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`
  u.username = ''
  u.password = ''
  return { url: u.href, basic: { authorization: `Basic ${Buffer.from(pair).toString('base64')}` } }
}

/** A message without the full URL (its credentials or query may hold a key). */
function scrub(message: string, url: string): string {
  let out = message.split(url).join(displayUrl(url))
  try {
    const u = new URL(url)
    for (const secret of [u.password, u.search.slice(1)])
      if (secret.length >= 3) out = out.split(secret).join('[redacted]')
  } catch {}
  return out
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > maxBytes) throw new Error(`body larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function unavailable(reason: string): Scrape {
  return { state: 'unavailable', reason }
}

/** An error's message with its cause's code (fetch hides ECONNREFUSED in `cause`). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as { code?: string; message?: string } | undefined
  if (cause?.code) return `${err.message} (${cause.code})`
  return cause?.message ? `${err.message}: ${cause.message}` : err.message
}
