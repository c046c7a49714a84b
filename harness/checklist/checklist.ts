/**
 * `bench checklist`: the production checklist measured with real requests. The latency, throughput, error,
 * streaming and usage items come from one short load (sequential, then concurrent) through the ordinary
 * runner and openai engine (`runScenario`, results kept in memory); the rate-limit item from a bounded
 * burst through the same runner that stops at the first 429; health and auth from one plain request each
 * (`/health` or `<base>/models`; a generation request without the key). Verdicts: items.ts.
 * @module
 */
import { parseScenario } from '../config/index.ts'
import type { Scenario } from '../config/schema.ts'
import { createNullSink } from '../jsonl-sink.ts'
import { countErrors, formatErrorCounts } from '../metrics/error-rate.ts'
import type { RequestOutcome } from '../results.ts'
import { RunInterrupted, type RunnerEvent, runScenario } from '../runner.ts'
import {
  type AuthProbe,
  type BurstResult,
  type ChecklistItem,
  type HealthProbe,
  judgeAuth,
  judgeDecode,
  judgeErrorRate,
  judgeHealth,
  judgeQps,
  judgeRateLimit,
  judgeStreaming,
  judgeTls,
  judgeTtft,
  judgeUsage,
} from './items.ts'
import type { ChecklistThresholds } from './thresholds.ts'

export interface ChecklistOptions {
  /** With /v1, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: string
  model: string
  /** Name of the environment variable holding the API key (never the key). */
  apiKeyEnv?: string
  thresholds: ChecklistThresholds
  /** Streams of the concurrent load. @default 4 */
  concurrency: number
  /** Measured requests of the concurrent load. @default 40 */
  requests: number
  /** Measured requests of the sequential load before it (one stream, an idle server). @default 4 */
  sequentialRequests: number
  /** Synthetic prompt length, words ≈ tokens. */
  promptTokens: number
  /** Output tokens per request (fixed: min_tokens + ignore_eos). */
  outputTokens: number
  /** A request past it is a timeout error, ms. */
  requestTimeoutMs: number
  /** Each load stops issuing requests after this long, s (in-flight ones then finish within the timeout). */
  maxLoadS: number
  /** The rate-limit burst sends at most this many requests… */
  burstRequests: number
  /** …with this many in flight… */
  burstConcurrency: number
  /** …for at most this long, s, and stops at the first 429. */
  burstS: number
  /** Bound on each health or auth probe, ms. */
  probeTimeoutMs: number
  signal?: AbortSignal
  onEvent?: (event: RunnerEvent) => void
}

export interface ChecklistResult {
  items: ChecklistItem[]
  /** Unloaded TTFT p50 of the sequential load, ms (a reference beside the loaded percentiles). */
  sequentialTtftMsP50?: number
  interrupted: boolean
}

/** The server's root (the base URL without a trailing /v1), where llama-server and vLLM serve /health. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v\d+$/, '')
}

/** Runs every item; resolves with them in CHECKLIST_ITEMS order. */
export async function runChecklist(o: ChecklistOptions): Promise<ChecklistResult> {
  const url = new URL(o.baseUrl)
  const key = o.apiKeyEnv === undefined ? undefined : process.env[o.apiKeyEnv]
  const base = o.baseUrl.replace(/\/+$/, '')

  const health = await probeHealth(base, key, o.probeTimeoutMs)
  const auth = await probeAuth(base, o.model, o.probeTimeoutMs)

  // The load: sequential (streaming and usage on an idle server, the unloaded TTFT), then concurrent.
  const outcomes: RequestOutcome[][] = [[], []]
  let startError: string | undefined
  const load = await runScenario({
    scenario: checklistScenario(o, [
      { kind: 'sequential', requests: o.sequentialRequests, durationS: o.maxLoadS },
      { kind: 'concurrent', concurrency: o.concurrency, requests: o.requests, durationS: o.maxLoadS },
    ]),
    baseDir: process.cwd(),
    source: 'bench checklist',
    sink: createNullSink(),
    // Every error counts in the error-rate item; the runner's own verdict is not the checklist's.
    maxErrorRate: 1,
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
    onEvent: (event) => {
      if (event.type === 'request') outcomes[event.loadIndex]?.push(event.outcome)
      if (event.type === 'target-failed') startError = event.message
      o.onEvent?.(event)
    },
  })
  const sequential = load.runs.find((r) => r.loadIndex === 0)?.metrics
  const concurrent = load.runs.find((r) => r.loadIndex === 1)?.metrics
  const all = [...outcomes[0]!, ...outcomes[1]!]

  const burst = load.state === 'interrupted' ? undefined : await runBurst(o)
  const interrupted = load.state === 'interrupted' || burst?.interrupted === true

  const errors = all.filter((x) => x.state === 'error' && x.error.kind !== 'aborted').length
  const attempted = all.filter((x) => !(x.state === 'error' && x.error.kind === 'aborted')).length
  const ok = all.filter((x) => x.state === 'ok')
  const t = o.thresholds
  const c = o.concurrency
  const items: ChecklistItem[] = [
    judgeTtft('ttft-p50', concurrent?.ttftMs?.p50, t.ttftMsP50, c),
    judgeTtft('ttft-p95', concurrent?.ttftMs?.p95, t.ttftMsP95, c),
    judgeTtft('ttft-p99', concurrent?.ttftMs?.p99, t.ttftMsP99, c),
    judgeDecode(concurrent?.decodeTokensPerS?.p50, t.minDecodeTokensPerS, c),
    judgeQps(concurrent?.ok ? concurrent.requestsPerS : undefined, t.minQps, c),
    judgeErrorRate(errors, attempted, t.maxErrorRate, formatErrorCounts(countErrors(all)), startError),
    judgeHealth(health),
    judgeAuth(auth, key !== undefined),
    burst === undefined
      ? {
          id: 'rate-limit',
          verdict: 'WARN',
          value: '—',
          threshold: `HTTP 429 within ${o.burstRequests} requests`,
          note: 'not measured: interrupted',
        }
      : judgeRateLimit(burst.result),
    judgeStreaming(
      (outcomes[0]!.length > 0 ? outcomes[0]! : all).flatMap((x) =>
        x.state === 'ok' ? [{ chunks: x.chunks, spreadMs: x.e2eMs - x.ttftMs }] : [],
      ),
    ),
    judgeUsage(ok.filter((x) => x.tokensSource === 'server').length, ok.length),
    judgeTls(url),
  ]
  return {
    items,
    ...(sequential?.ttftMs !== undefined ? { sequentialTtftMsP50: sequential.ttftMs.p50 } : {}),
    interrupted,
  }
}

/** The checklist's scenario (validated like any scenario): streaming chat with fixed output lengths. */
export function checklistScenario(
  o: Pick<
    ChecklistOptions,
    'baseUrl' | 'model' | 'apiKeyEnv' | 'promptTokens' | 'outputTokens' | 'requestTimeoutMs'
  >,
  loads: unknown[],
  warmupRequests = 1,
): Scenario {
  return parseScenario(
    {
      name: 'checklist',
      description: 'bench checklist',
      prompts: { kind: 'synthetic', promptTokens: o.promptTokens, outputTokens: o.outputTokens },
      targets: [
        {
          name: 'endpoint',
          engine: {
            kind: 'openai',
            baseUrl: o.baseUrl,
            model: o.model,
            ...(o.apiKeyEnv !== undefined ? { apiKeyEnv: o.apiKeyEnv } : {}),
          },
        },
      ],
      loads,
      warmupRequests,
      requestTimeoutMs: o.requestTimeoutMs,
      fixedOutputLength: true,
      maxErrorRate: 1,
    },
    'bench checklist',
  )
}

/**
 * The rate-limit burst: a closed loop of `burstConcurrency` streams of one-token answers, at most
 * `burstRequests` requests and `burstS` seconds, ended at the first 429 (in-flight requests aborted).
 */
async function runBurst(o: ChecklistOptions): Promise<{ result: BurstResult; interrupted: boolean }> {
  const stop = new AbortController()
  const outcomes: RequestOutcome[] = []
  let first429At: number | undefined
  let startError: string | undefined
  const started = performance.now()
  const run = await runScenario({
    scenario: checklistScenario(
      { ...o, outputTokens: 1, promptTokens: Math.min(o.promptTokens, 8) },
      [
        {
          kind: 'concurrent',
          concurrency: Math.min(o.burstConcurrency, o.burstRequests),
          requests: o.burstRequests,
          durationS: o.burstS,
        },
      ],
      0,
    ),
    baseDir: process.cwd(),
    source: 'bench checklist',
    sink: createNullSink(),
    maxErrorRate: 1,
    stopLoad: stop.signal,
    // The burst's own timing is not measured: no event-loop monitor.
    monitorEventLoop: false,
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
    onEvent: (event) => {
      if (event.type === 'target-failed') startError = event.message
      if (event.type !== 'request') return
      outcomes.push(event.outcome)
      const x = event.outcome
      if (first429At === undefined && x.state === 'error' && x.error.status === 429) {
        first429At = x.seq + 1
        stop.abort(new RunInterrupted('rate limit met'))
      }
    },
  })
  const sent = outcomes.length
  const others = countErrors(outcomes).filter((e) => e.status !== 429)
  return {
    result: {
      maxRequests: o.burstRequests,
      sent,
      ...(first429At !== undefined ? { first429At } : {}),
      durationMs: performance.now() - started,
      ...(others.length > 0 ? { otherErrors: formatErrorCounts(others) } : {}),
      ...(startError !== undefined ? { startError } : {}),
    },
    interrupted: run.state === 'interrupted',
  }
}

/** GET <root>/health, then GET <base>/models (with the key): the first 2xx is the health item's value. */
async function probeHealth(base: string, key: string | undefined, timeoutMs: number): Promise<HealthProbe[]> {
  const probes: HealthProbe[] = []
  const root = serverRoot(base)
  for (const [path, where, headers] of [
    ['/health', `${root}/health`, {}],
    [`${new URL(base).pathname.replace(/\/+$/, '')}/models`, `${base}/models`, authHeader(key)],
  ] as const) {
    const probe = await request(where, { headers }, timeoutMs)
    probes.push({ path, ...probe })
    if (probe.status !== undefined && probe.status >= 200 && probe.status < 300) break
  }
  return probes
}

/** One small non-streamed chat request with no Authorization header. */
function probeAuth(base: string, model: string, timeoutMs: number): Promise<AuthProbe> {
  return request(
    `${base}/chat/completions`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }),
    },
    timeoutMs,
  )
}

function authHeader(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { authorization: `Bearer ${key}` }
}

/** The status of one bounded request (its body read and dropped), or why none came. */
async function request(
  where: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status?: number; error?: string }> {
  try {
    const res = await fetch(where, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    await res.arrayBuffer().catch(() => undefined)
    return { status: res.status }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } }
    return {
      error:
        e.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (e.cause?.code ?? e.message ?? String(err)),
    }
  }
}

/** The first model id of GET <base>/models (with the key), for a checklist without --model. */
export async function firstModel(
  baseUrl: string,
  key: string | undefined,
  timeoutMs: number,
): Promise<string> {
  const where = `${baseUrl.replace(/\/+$/, '')}/models`
  let body: unknown
  try {
    const res = await fetch(where, { headers: authHeader(key), signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    body = await res.json()
  } catch (err) {
    throw new Error(`GET ${where} failed (${err instanceof Error ? err.message : String(err)})`)
  }
  const id = (body as { data?: { id?: unknown }[] })?.data?.[0]?.id
  if (typeof id !== 'string' || id === '') throw new Error(`GET ${where} lists no model`)
  return id
}
