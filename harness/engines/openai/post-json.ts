/**
 * One JSON POST to the endpoint outside the streaming hot path (scoring choices, top-k reads): a plain
 * undici request on the engine's pool with its control headers, bounded by a timeout, the answer kept as
 * status, text and parsed JSON (undefined when the body is not JSON) so the caller can tell a refusal
 * from a failure.
 * @module
 */
import { RequestError } from '../../errors.ts'
import { errorMessageFromText } from './openai-chunks.ts'
import { describeError } from './openai-scope.ts'
import type { ScoreTarget } from './openai-score.ts'

export interface Answer {
  status: number
  text: string
  json: unknown
}

/**
 * POSTs `body` as JSON to `path` (shown as `url` in errors). The caller's aborted signal rejects with its
 * reason, as every engine reports an aborted signal; any other failure is a RequestError 'http'.
 */
export async function postJson(
  target: Pick<ScoreTarget, 'pool' | 'headers'>,
  path: string,
  url: string,
  body: unknown,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Answer> {
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const response = await target.pool.request({
      path,
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    })
    const text = await response.body.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.statusCode, text, json }
  } catch (error) {
    if (signal?.aborted) throw signal.reason
    throw new RequestError('http', `POST ${url}: ${describeError(error)}`, undefined, { cause: error })
  }
}

/** 2xx. */
export const answeredOk = (a: Answer): boolean => a.status >= 200 && a.status <= 299

/** `HTTP 400: <the server's message>`. */
export const answerError = (a: Answer): string => `HTTP ${a.status}: ${errorMessageFromText(a.text)}`
