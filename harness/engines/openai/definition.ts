/**
 * The openai engine's definition (remote OpenAI-compatible endpoints: vLLM, llama-server, SGLang, OpenAI,
 * the built-in mock): its scenario config and how a target becomes an engine. Light on purpose: undici,
 * the openai package and our HTTP/1.1 client load when an engine is created (openai.ts).
 * @module
 */
import { z } from 'zod'
import { HarnessError } from '../../errors.ts'
import { registerScrapeEndpoint } from '../../server-metrics/endpoint.ts'
import { defineEngine } from '../definition.ts'

/** The openai engine's HTTP clients (openai.ts). */
export const OPENAI_CLIENTS = ['http1', 'undici', 'sdk'] as const
export type OpenAIClient = (typeof OPENAI_CLIENTS)[number]
/** The client that measured best on fidelity (bench selftest) and ceiling (npm run bench:client). */
export const DEFAULT_OPENAI_CLIENT: OpenAIClient = 'http1'

const openaiConfigSchema = z
  .object({
    kind: z.literal('openai'),
    /**
     * Endpoint base URL including the API prefix, e.g. http://127.0.0.1:8000/v1 (a query string is kept).
     * Omit when `mock` is given (harness/config adds `mock` to engines that accept it).
     */
    baseUrl: z.url().optional(),
    /** Served model id sent in every request. */
    model: z.string().min(1),
    /** 'chat' → /chat/completions, 'completions' → /completions. @default 'chat' */
    api: z.enum(['chat', 'completions']).default('chat'),
    /**
     * HTTP client: 'http1' (lean SSE reader over our own HTTP/1.1 client), 'undici' (the same reader over
     * undici) or 'sdk' (the openai package, the reference). @default 'http1'
     */
    client: z.enum(OPENAI_CLIENTS).default(DEFAULT_OPENAI_CLIENT),
    /** NAME of the environment variable holding the API key; the key itself is never stored or logged. */
    apiKeyEnv: z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]*$/,
        'must be an environment variable name like OPENAI_API_KEY, not the key',
      )
      .optional(),
    /** Extra HTTP headers. Values are secrets in every output (redacted) except SAFE_HEADERS of harness/redact.ts. */
    headers: z.record(z.string(), z.string()).optional(),
    /** Extra JSON fields merged last into every request body (server-specific options; can override ours). */
    extraBody: z.record(z.string(), z.unknown()).optional(),
    /**
     * Send this machine's monotonic send time in `x-bench-sent-at` (SENT_AT_HEADER), so a `bench mock-server
     * --client-clock` on the same machine counts its injected delays from the client's send (as `bench
     * selftest` does, so it measures the client alone). @default false
     */
    sendTimeHeader: z.boolean().optional(),
  })
  .strict()

type OpenAIConfig = z.output<typeof openaiConfigSchema>

/**
 * What the engine gets: the config with the endpoint and the key resolved (`baseUrl` required, `apiKey`
 * the key itself instead of the name of its variable), plus the knobs no scenario sets.
 */
export type OpenAIEngineOptions = Omit<OpenAIConfig, 'kind' | 'baseUrl' | 'apiKeyEnv'> & {
  baseUrl: string
  /**
   * The API key itself (the caller resolves it from the environment). Sent as a Bearer token, never stored
   * in info or messages. Without it no Authorization header is sent at all — not even OPENAI_API_KEY from
   * the environment, which the SDK would otherwise pick up.
   */
  apiKey?: string
  /** Connections the client may open to the server (the http1 agent's or the undici pool's; upper bound on concurrent streams). @default 1024 */
  maxConnections?: number
}

export const openaiEngine = defineEngine({
  kind: 'openai',
  schema: openaiConfigSchema,
  variantFormat: 'remote',
  capabilities: {
    logprobs: true,
    // Echo + prompt logprobs (vLLM) or one-token choices from the next token's top-k (llama-server);
    // a server with neither throws CapabilityError at its first answer (openai-score.ts).
    scoreChoices: true,
    // Top-k at every corpus position by echo + logprobs of token ids (vLLM); a server that cannot
    // throws CapabilityError at a probe before the first window (score-top-k.ts).
    topKLogProbs: true,
    tokenize: false,
    memory: false,
    draft: false,
    nativeSpeed: false,
  },
  acceptsMock: true,
  requiredEnv: (config) =>
    config.apiKeyEnv === undefined ? [] : [{ field: 'apiKeyEnv', variable: config.apiKeyEnv }],
  async create(config, { env, baseUrl = config.baseUrl }) {
    let apiKey: string | undefined
    if (config.apiKeyEnv !== undefined) {
      apiKey = env[config.apiKeyEnv]
      if (!apiKey)
        throw new HarnessError(
          `engine.apiKeyEnv names ${config.apiKeyEnv}, but that environment variable is empty; export it or remove apiKeyEnv`,
        )
    }
    if (baseUrl === undefined) throw new HarnessError('engine.baseUrl is required when no mock is configured')
    const { kind: _kind, baseUrl: _baseUrl, apiKeyEnv: _apiKeyEnv, ...rest } = config
    const { createOpenAIEngine } = await import('./openai.ts')
    const engine = createOpenAIEngine({ ...rest, baseUrl, ...(apiKey !== undefined ? { apiKey } : {}) })
    // The server's /metrics are read with the run's own headers (harness/server-metrics); never stored.
    registerScrapeEndpoint(engine, {
      baseUrl,
      headers: {
        ...Object.fromEntries(Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        ...(apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}),
      },
    })
    return {
      engine,
      storedOptions: { ...config },
      dispose: async () => await engine[Symbol.asyncDispose](),
    }
  },
})
