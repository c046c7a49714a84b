/**
 * Where an engine's server is and what it sends, for scraping its /metrics with the run's own auth: the
 * openai engine's definition registers each engine it creates (engines/openai/definition.ts). Kept beside
 * the engine object rather than in its info, so the headers (an API key) never reach anything stored.
 * @module
 */

export interface ScrapeEndpoint {
  /** The engine's base URL, e.g. http://127.0.0.1:8000/v1 (`auto` scrapes its origin's /metrics). */
  baseUrl: string
  /** The headers the engine sends (Authorization included): secrets, never stored or printed. */
  headers: Readonly<Record<string, string>>
}

const endpoints = new WeakMap<object, ScrapeEndpoint>()

export function registerScrapeEndpoint(engine: object, endpoint: ScrapeEndpoint): void {
  endpoints.set(engine, endpoint)
}

/** The endpoint an engine was registered with; undefined for in-process engines (llama-cpp, onnx). */
export function scrapeEndpointOf(engine: object): ScrapeEndpoint | undefined {
  return endpoints.get(engine)
}

/** Whether a value is a ServerMetricsMode: auto, off, or an http(s) URL (light: the CLI's flag parser uses it). */
export function isServerMetricsMode(value: string): boolean {
  if (value === 'auto' || value === 'off') return true
  try {
    const u = new URL(value)
    // The value is stored with the scenario: a key in it would be at rest. Auth goes in the target's headers.
    const bare = u.username === '' && u.password === '' && u.search === ''
    return (u.protocol === 'http:' || u.protocol === 'https:') && bare
  } catch {
    return false
  }
}
export const SERVER_METRICS_MODE_MESSAGE =
  'must be "auto" (the endpoint\'s <origin>/metrics), "off", or the http(s) URL of a Prometheus /metrics without user:password or query (it is stored with the scenario; the target\'s auth headers are sent on its own origin), e.g. http://127.0.0.1:8000/metrics'

/** `serverMetrics` of a scenario or `bench run --server-metrics`: auto (default), off, or a /metrics URL. */
export type ServerMetricsMode = 'auto' | 'off' | (string & {})

/**
 * The URL and headers to scrape for a run of `engine`, or undefined when nothing is scraped: `off`; `auto`
 * for an engine without an endpoint. `auto` is the endpoint origin's /metrics; an explicit URL is scraped
 * with the endpoint's headers only on the endpoint's own origin (the key is never sent to another host).
 */
export function scrapeTarget(
  mode: ServerMetricsMode | undefined,
  engine: object,
): { url: string; headers: Readonly<Record<string, string>> } | undefined {
  if (mode === 'off') return undefined
  const endpoint = scrapeEndpointOf(engine)
  if (mode === undefined || mode === 'auto')
    return endpoint === undefined
      ? undefined
      : { url: `${new URL(endpoint.baseUrl).origin}/metrics`, headers: endpoint.headers }
  const sameOrigin = endpoint !== undefined && originOf(mode) === originOf(endpoint.baseUrl)
  return { url: mode, headers: sameOrigin ? endpoint.headers : {} }
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}
