/**
 * Remote OpenAI-compatible endpoints (vLLM, llama-server, SGLang, OpenAI …) over HTTP streaming, with three
 * interchangeable clients: 'http1' (the lean SSE reader over our own HTTP/1.1 client, http1/; the default),
 * 'undici' (the same reader over undici) and 'sdk' (the openai package, the reference). All send the same
 * body and read chunks with the same rules; see README.md beside this file for the error mapping.
 * @module
 */
import type OpenAI from 'openai'
import { Pool } from 'undici'
import type {
  Engine,
  EngineInfo,
  GenerationRequest,
  StreamEvent,
  TopKLogProbs,
  TopKLogProbsOptions,
} from '../engine.ts'
import type { OpenAIEngineOptions } from './definition.ts'
import { Http1Agent } from './http1/agent.ts'
import { API_PATHS, buildRequestBody } from './openai-body.ts'
import { http1Transport } from './openai-http1.ts'
import { createChoiceScorer, type ScoreMode } from './openai-score.ts'
import { createSdkClient, streamWithSdk } from './openai-sdk.ts'
import { probeServer } from './openai-start.ts'
import { streamLean } from './openai-stream.ts'
import { undiciTransport } from './openai-undici.ts'
import { createTopKReader } from './score-top-k.ts'

export {
  DEFAULT_OPENAI_CLIENT,
  OPENAI_CLIENTS,
  type OpenAIClient,
  type OpenAIEngineOptions,
} from './definition.ts'
export * from './openai-body.ts'
export * from './openai-chunks.ts'
export * from './openai-scope.ts'
export * from './openai-score.ts'
export * from './openai-sdk.ts'
export * from './openai-start.ts'
export * from './openai-stream.ts'
export * from './score-top-k.ts'
export * from './sse.ts'

export interface OpenAIEngine extends Engine {
  /** Model ids the server listed at start() (empty before start). */
  readonly servedModels: readonly string[]
  /** How scoreChoices() scores on this server, decided by its first answer (openai-score.ts); undefined before. */
  readonly scoreMode: ScoreMode | undefined
  scoreChoices(prompt: string, choices: string[], signal?: AbortSignal): Promise<number[]>
  topKLogProbs(text: string, options: TopKLogProbsOptions, signal?: AbortSignal): Promise<TopKLogProbs>
}

const DEFAULT_MAX_CONNECTIONS = 1024

export function createOpenAIEngine(options: OpenAIEngineOptions): OpenAIEngine {
  const url = new URL(options.baseUrl)
  const basePath = url.pathname.replace(/\/+$/, '')
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
    sendTimeHeader: options.sendTimeHeader === true,
  }
  let sdk: OpenAI | undefined
  if (options.client === 'sdk') {
    const sdkOptions: Parameters<typeof createSdkClient>[0] = { baseUrl: options.baseUrl }
    if (options.apiKey !== undefined) sdkOptions.apiKey = options.apiKey
    if (options.headers !== undefined) sdkOptions.headers = options.headers
    sdk = createSdkClient(sdkOptions)
  }

  const info: EngineInfo = {
    kind: 'openai',
    model: options.model,
    device: url.host,
    // scoreChoices: implemented; whether this server can is known at its first answer (CapabilityError).
    capabilities: { logprobs: true, scoreChoices: true, tokenize: false, memory: false, draft: false },
  }
  let servedModels: readonly string[] = []
  const scoreTarget = {
    pool,
    baseUrl: options.baseUrl,
    basePath,
    search: url.search,
    headers: controlHeaders,
    model: options.model,
    ...(options.extraBody !== undefined ? { extraBody: options.extraBody } : {}),
  }
  const scorer = createChoiceScorer(scoreTarget)
  // topKLogProbs: implemented; whether this server can is known from a probe before the first window.
  const topK = createTopKReader(scoreTarget)

  return {
    info,
    get servedModels() {
      return servedModels
    },
    get scoreMode() {
      return scorer.mode
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
        : streamWithSdk(sdk, options.api, body, signal, options.sendTimeHeader === true)
    },
    scoreChoices(prompt: string, choices: string[], signal?: AbortSignal): Promise<number[]> {
      return scorer.score(prompt, choices, signal)
    },
    topKLogProbs(text: string, o: TopKLogProbsOptions, signal?: AbortSignal): Promise<TopKLogProbs> {
      return topK.read(text, o, signal)
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
