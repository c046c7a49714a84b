/**
 * A deliberately plain HTTP client for the mock-server tests (node:http, no SDK), so each test sees
 * exactly what went over the wire: status, raw body, `data:` payloads, whether the socket was cut.
 * @module
 */
import http from 'node:http'

export interface WireResponse {
  status: number
  headers: http.IncomingHttpHeaders
  raw: string
  /** Payloads of the `data:` lines, in order ('[DONE]' included). */
  data: string[]
  /** The body ended cleanly (false: the connection was cut mid-response). */
  complete: boolean
  /** performance.now() when each `data:` line arrived, parallel to `data`. */
  arrivedMs: number[]
  /** performance.now() just before the request was written. */
  sentMs: number
}

export function post(
  url: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal; onData?: (payload: string) => void } = {},
): Promise<WireResponse> {
  const json = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const sentMs = performance.now()
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(json),
          ...init.headers,
        },
        signal: init.signal,
        agent: false,
      },
      (res) => {
        const out: WireResponse = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          raw: '',
          data: [],
          complete: false,
          arrivedMs: [],
          sentMs,
        }
        let pending = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => {
          const now = performance.now()
          out.raw += text
          pending += text
          for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
            const line = pending.slice(0, nl)
            pending = pending.slice(nl + 1)
            if (!line.startsWith('data: ')) continue
            const payload = line.slice(6)
            out.data.push(payload)
            out.arrivedMs.push(now)
            init.onData?.(payload)
          }
        })
        res.on('end', () => {
          out.complete = true
          resolve(out)
        })
        // A cut connection surfaces as 'error' (ECONNRESET / aborted) or a close without 'end'.
        res.on('error', () => resolve(out))
        res.on('close', () => resolve(out))
      },
    )
    req.on('error', reject)
    req.end(json)
  })
}

export async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url)
  return { status: res.status, text: await res.text() }
}

/** The value of an unlabelled or labelled sample in Prometheus text, e.g. `mock_streams_in_flight`. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    if (line.slice(0, space) === sample) return Number(line.slice(space + 1))
  }
  return undefined
}

export const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'one two three four five' }],
  ...extra,
})

export interface LogprobEntry {
  token: string
  logprob: number
  bytes: number[]
  top_logprobs: { token: string; logprob: number; bytes: number[] }[]
}

/** The fields of OpenAI-compatible chunks and bodies that the tests read. */
export interface Choice {
  index: number
  delta?: { role?: string; content?: string | null }
  text?: string
  message?: { role: string; content: string }
  logprobs: { content: LogprobEntry[] } | null
  finish_reason: string | null
}

export interface Completion {
  id: string
  object: string
  model: string
  choices: Choice[]
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
  timings?: Record<string, number>
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** The first choice, which every mock response has (except the usage-only chunk). */
export function choice(c: Completion): Choice {
  const first = c.choices[0]
  if (first === undefined) throw new Error(`no choices in ${JSON.stringify(c)}`)
  return first
}

/** Text of a content chunk, chat or completions; '' for role-only, finish and usage chunks. */
export const chunkText = (c: Completion): string => {
  const first = c.choices[0]
  return first?.delta?.content ?? first?.text ?? ''
}

export const parseChunks = (payloads: string[]): Completion[] =>
  payloads.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Completion)
