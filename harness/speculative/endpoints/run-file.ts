/**
 * An endpoint study file run for real: one openai engine (the lean http1 client) per endpoint, the API key
 * from the named environment variable (sent to the endpoints and their /metrics, never printed or
 * stored), /metrics at each base URL's origin unless the study says `metrics: false`.
 * @module
 */
import os from 'node:os'
import { createOpenAIEngine } from '../../engines/openai/openai.ts'
import { HarnessError } from '../../errors.ts'
import {
  type EndpointStudyResult,
  endpointStudyProblems,
  runEndpointStudy,
  type StudyEndpoint,
} from './study.ts'
import type { EndpointStudy } from './study-file.ts'

/** A finished endpoint study as it is stored (db/studies/endpoint-store.ts): the study, what it measured, when, where. */
export interface EndpointStudyRecord {
  /** The validated study file (defaults filled). */
  study: EndpointStudy
  result: EndpointStudyResult
  /** ISO time the study started. */
  startedAt: string
  /** Wall time of the whole study, ms. */
  durationMs: number
  /**
   * What makes figures of this study meaningless (study.ts endpointStudyProblems: an `on` endpoint that
   * drafted nothing, an `off` one that drafted), one line each naming the field; stored as the study's error.
   */
  problems?: string[]
  /** The client machine and its load average (os.loadavg(): 1, 5, 15 min) before and after. */
  environment: {
    cpus: number
    cpuModel: string
    node: string
    loadAverageBefore: number[]
    loadAverageAfter: number[]
  }
}

/**
 * `bench spec-endpoints`' line about the study (on stderr, beside its other notes: stdout stays the table):
 * the client machine's load around it, as `bench spec` prints it — on a loaded machine every tok/s, c and
 * speedup moves from one run to the next; the acceptance does not.
 */
export function endpointStudyLoadLine(r: EndpointStudyRecord): string {
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(', ')
  const e = r.environment
  return `${r.study.name}: ${r.study.prompts.length} prompt(s) × ${r.study.maxTokens} tokens, one request at a time${r.study.rounds > 1 ? `, ${r.study.rounds} rounds interleaved` : ''}; load average (uptime) before ${load(e.loadAverageBefore)}, after ${load(e.loadAverageAfter)} on ${e.cpus} CPUs: timings on a loaded machine are not final`
}

/** runEndpointStudyFile with its start, duration and the client machine's load around it. */
export async function runEndpointStudyRecord(
  study: EndpointStudy,
  o: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; onProgress?: (message: string) => void } = {},
): Promise<EndpointStudyRecord> {
  const started = Date.now()
  const loadAverageBefore = os.loadavg()
  const result = await runEndpointStudyFile(study, o.env, o.signal, o.onProgress)
  const problems = endpointStudyProblems(result, study)
  return {
    study,
    result,
    ...(problems.length > 0 ? { problems } : {}),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    environment: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverageBefore,
      loadAverageAfter: os.loadavg(),
    },
  }
}

export async function runEndpointStudyFile(
  study: EndpointStudy,
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
  onProgress?: (message: string) => void,
): Promise<EndpointStudyResult> {
  let apiKey: string | undefined
  if (study.apiKeyEnv !== undefined) {
    apiKey = env[study.apiKeyEnv]
    if (!apiKey)
      throw new HarnessError(
        `apiKeyEnv: the environment variable ${study.apiKeyEnv} is not set or empty; export it first`,
      )
  }
  const engines: StudyEndpoint['engine'][] = []
  /** `field`: where the study names this URL (`off`, `on[1].url (K = 2)`), so a failure says which to fix. */
  const endpoint = async (baseUrl: string, field: string): Promise<StudyEndpoint> => {
    const engine = createOpenAIEngine({
      baseUrl,
      model: study.model,
      api: study.api,
      client: 'http1',
      ...(apiKey !== undefined ? { apiKey } : {}),
    })
    engines.push(engine)
    try {
      await engine.start(signal)
    } catch (err) {
      if (signal?.aborted) throw err
      throw new HarnessError(`${field}: ${(err as Error).message}`, { cause: err })
    }
    return {
      engine,
      ...(study.metrics ? { metricsUrl: `${new URL(baseUrl).origin}/metrics` } : {}),
      ...(apiKey !== undefined ? { metricsHeaders: { authorization: `Bearer ${apiKey}` } } : {}),
    }
  }
  try {
    const off = await endpoint(study.off, 'off')
    const on = []
    for (const [i, { k, url }] of study.on.entries())
      on.push({ k, endpoint: await endpoint(url, `on[${i}].url (K = ${k})`) })
    return await runEndpointStudy({
      off,
      on,
      ...(study.draftAlone !== undefined
        ? { draftAlone: await endpoint(study.draftAlone, 'draftAlone') }
        : {}),
      ...(study.c !== undefined ? { c: study.c } : {}),
      prompts: study.prompts,
      maxTokens: study.maxTokens,
      rounds: study.rounds,
      warmup: study.warmup,
      ...(signal ? { signal } : {}),
      ...(onProgress ? { onProgress } : {}),
    })
  } finally {
    await Promise.all(engines.map((e) => e[Symbol.asyncDispose]()))
  }
}
