/**
 * The part of autocannon 9.0.0 that `bench load` uses, typed here (the package ships no types), and the
 * package itself, loaded with require (it is CommonJS; the CLI build keeps packages external).
 * What is used is public API (autocannon's README): the options below, `requests[].setupRequest` and
 * `requests[].onResponse`, `setupClient`, the instance's `tick` / `reqError` events and `stop()`; beyond
 * it, the connection events of AutocannonClient.
 * @module
 */
import { createRequire } from 'node:module'

/** A request template: built again before every send when it has a setupRequest. */
export interface AutocannonRequest {
  method: 'POST' | 'GET'
  path: string
  headers?: Record<string, string>
  body?: string
  /**
   * Called with a copy of the template before each request of a connection is written (the first one of
   * each connection when the connection is created); returns the request to send. `context` is an object
   * of that connection, new for every request when the list has one template.
   */
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest
  /** Called with the whole response once it is complete (before autocannon counts it and sends the next). */
  onResponse?: (
    status: number,
    body: string,
    context: Record<string, unknown>,
    headers: Record<string, string | string[]>,
  ) => void
}

/**
 * One connection (autocannon's Client, lib/httpClient.js). Its events are autocannon's internals, pinned by
 * the exact version: 'request' just before it builds and writes a request (its first one excepted, built
 * in its constructor), 'connError' and 'timeout' just before autocannon counts the failure.
 */
export interface AutocannonClient {
  on(event: 'request' | 'connError' | 'timeout', listener: () => void): unknown
}

export interface AutocannonOptions {
  url: string
  /** Connections, each with one request in flight (pipelining 1). */
  connections: number
  /** Seconds; ignored by autocannon when `amount` is set (bench load adds its own time bound then). */
  duration: number
  /** Total requests, spread over the connections. */
  amount?: number
  /** Requests per second over all connections, as per-connection per-second budgets. */
  overallRate?: number
  /** Per-request timeout, s (≥ 1): a response not complete this long after its request was sent is a timeout (autocannon then drops the connection and opens a new one). */
  timeout: number
  requests: AutocannonRequest[]
  /** Called with each connection in its constructor, after its first request was built. */
  setupClient?: (client: AutocannonClient) => void
}

/** What autocannon reports at the end (the fields bench load reads). */
export interface AutocannonResult {
  /** Responses (any status). */
  requests: { total: number; sent: number }
  errors: number
  timeouts: number
  non2xx: number
  /** Seconds, 2 decimals. */
  duration: number
  statusCodeStats: Record<string, { count: number }>
}

export interface AutocannonInstance {
  on(event: 'tick', listener: (tick: { counter: number; bytes: number }) => void): this
  on(event: 'reqError', listener: (error: Error) => void): this
  stop(): void
}

type Autocannon = (
  options: AutocannonOptions,
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance

export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

/** The version bench load reports with its runs (package.json pins it exactly). */
export const AUTOCANNON_VERSION = (
  createRequire(import.meta.url)('autocannon/package.json') as { version: string }
).version
