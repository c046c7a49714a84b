/**
 * Remote OpenAI-compatible endpoints (vLLM, llama-server, SGLang, OpenAI …) over HTTP streaming, with two
 * interchangeable clients: 'undici' (lean, the default) and 'sdk' (the openai package, the reference).
 * Both send the same body and read chunks with the same rules; see README.md beside this file for the
 * error mapping.
 * @module
 */
import type OpenAI from 'openai'
import { Pool } from 'undici'
import type { OpenAIClient } from '../../config/schema.ts'
import type { Engine, EngineInfo, GenerationRequest, StreamEvent } from '../engine.ts'
import { Http1Agent } from './http1/agent.ts'
import { API_PATHS, buildRequestBody, type OpenAIApi } from './openai-body.ts'
import { http1Transport } from './openai-http1.ts'
import { createSdkClient, streamWithSdk } from './openai-sdk.ts'
import { probeServer } from './openai-start.ts'
import { streamLean } from './openai-stream.ts'
import { undiciTransport } from './openai-undici.ts'

export { DEFAULT_OPENAI_CLIENT, OPENAI_CLIENTS, type OpenAIClient } from '../../config/schema.ts'
export * from './openai-body.ts'
export * from './openai-chunks.ts'
export * from './openai-scope.ts'
export * from './openai-sdk.ts'
export * from './openai-start.ts'
export * from './openai-stream.ts'
export * from './sse.ts'

export interface OpenAIEngineOptions {
  /** Endpoint base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string
  /** Served model id sent in every request. */
  model: string
  /** Which streaming API to call: `/chat/completions` or `/completions`. */
  api: OpenAIApi
  /** 'http1' and 'undici': the lean SSE reader over our HTTP/1.1 client or undici; 'sdk': the openai package (reference). */
  client: OpenAIClient
  /** The API key itself (the caller resolves it from the environment). Sent as a Bearer token, never stored in info or messages. */
  apiKey?: string
  /** Extra HTTP headers on every request. */
  headers?: Record<string, string>
  /** JSON fields merged last into every request body. */
  extraBody?: Record<string, unknown>
  /** Whole-request bound, headers through the last chunk; expiry throws RequestError 'timeout'. ms. @default 600000 */
  timeoutMs?: number
  /** Connections the undici pool may open to the server (upper bound on concurrent streams). @default 1024 */
  maxConnections?: number
  /**
   * Send `x-bench-sent-at` (SENT_AT_HEADER) with every generation request: this machine's monotonic clock
   * (ms) when the request is handed to the HTTP client. A `bench mock-server --client-clock` on the same
   * machine then counts its injected delays from that instant instead of its own arrival stamp, so what
   * `bench selftest` measures is the client alone. @default false
   */
  sendTimeHeader?: boolean
}

export interface OpenAIEngine extends Engine {
  /** Model ids the server listed at start() (empty before start). */
  readonly servedModels: readonly string[]
}

export const DEFAULT_TIMEOUT_MS = 600_000
export const DEFAULT_MAX_CONNECTIONS = 1024

export function createOpenAIEngine(options: OpenAIEngineOptions): OpenAIEngine {
  const url = new URL(options.baseUrl)
  const basePath = url.pathname.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const pool = new Pool(url.origin, {
    connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    pipelining: 1,
  })
  const auth: Record<string, string> =
    options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }
  const controlHeaders = { ...lowerKeys(options.headers), ...auth, accept: 'application/json' }
  const streamHeaders = {
    ...lowerKeys(options.headers),
    ...auth,
    'content-type': 'application/json',
    accept: 'text/event-stream',
  }
  const agent =
    options.client === 'http1'
      ? new Http1Agent(url.origin, { maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS })
      : undefined
  const leanTarget = {
    transport: agent === undefined ? undiciTransport(pool, url.origin) : http1Transport(agent),
    path: `${basePath}${API_PATHS[options.api]}${url.search}`,
    headers: streamHeaders,
    timeoutMs,
    sendTimeHeader: options.sendTimeHeader === true,
  }
  let sdk: OpenAI | undefined
  if (options.client === 'sdk') {
    const sdkOptions: Parameters<typeof createSdkClient>[0] = { baseUrl: options.baseUrl, timeoutMs }
    if (options.apiKey !== undefined) sdkOptions.apiKey = options.apiKey
    if (options.headers !== undefined) sdkOptions.headers = options.headers
    sdk = createSdkClient(sdkOptions)
  }

  const info: EngineInfo = {
    kind: 'openai',
    model: options.model,
    device: url.host,
    capabilities: { logprobs: true, scoreChoices: false, tokenize: false, memory: false, draft: false },
  }
  let servedModels: readonly string[] = []

  return {
    info,
    get servedModels() {
      return servedModels
    },
    async start(signal?: AbortSignal): Promise<void> {
      const result = await probeServer(
        {
          pool,
          baseUrl: options.baseUrl,
          basePath,
          headers: controlHeaders,
          hasApiKey: options.apiKey !== undefined,
          model: options.model,
        },
        signal,
      )
      servedModels = result.models
      if (result.engineVersion !== undefined) info.engineVersion = result.engineVersion
    },
    generate(request: GenerationRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
      const body = buildRequestBody(options.api, options.model, request, options.extraBody)
      return sdk === undefined
        ? streamLean(leanTarget, body, signal)
        : streamWithSdk(sdk, options.api, body, signal, timeoutMs, options.sendTimeHeader === true)
    },
    async [Symbol.asyncDispose](): Promise<void> {
      // Requests still in flight belong to runs that are over; do not wait for them.
      await Promise.all([pool.destroy(), agent?.destroy()])
    },
  }
}

function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers !== undefined)
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}
