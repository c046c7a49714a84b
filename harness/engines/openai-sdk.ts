/**
 * The reference client: the official openai package (v6), no retries (a retry would hide a failure inside
 * a long latency), logging off, and the same chunk interpretation as the lean client. Its own `timeout`
 * only covers the wait for response headers, so the RequestScope timer bounds the whole stream.
 * @module
 */
import OpenAI from 'openai'
import { Client, fetch as undiciFetch } from 'undici'
import { monotonicMs } from '../clock.ts'
import { RequestError } from '../errors.ts'
import { wallNowMs } from './body-queue.ts'
import { lostOnReusedConnection, markConnectionRetries } from './connection-retry.ts'
import type { StreamEvent } from './engine.ts'
import { type OpenAIApi, SENT_AT_HEADER } from './openai-body.ts'
import {
  assertComplete,
  createChunkState,
  createDoneEvent,
  errorMessage,
  readChunk,
} from './openai-chunks.ts'
import { describeError, RequestScope } from './openai-scope.ts'

export interface SdkClientOptions {
  baseUrl: string
  apiKey?: string
  headers?: Record<string, string>
  timeoutMs: number
}

export function createSdkClient(options: SdkClientOptions): OpenAI {
  return new OpenAI({
    baseURL: options.baseUrl,
    // The SDK insists on a key; without one the Authorization header is removed below, so a key from the
    // environment (OPENAI_API_KEY) is never sent to a server it was not meant for.
    apiKey: options.apiKey ?? 'no-key',
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    fetch: fetchRetryingLostRequests(new URL(options.baseUrl).origin),
    timeout: options.timeoutMs,
    logLevel: 'off',
    defaultHeaders: { ...options.headers, ...(options.apiKey === undefined ? { Authorization: null } : {}) },
  })
}

/** Responses to requests sent a second time by fetchRetryingLostRequests. */
const RETRIED = new WeakSet<Response>()

/**
 * Node's fetch with the lean clients' rule for a request lost to a kept-alive connection that the server
 * closed (connection-retry.ts; llama-server closes after every streamed response, and fetch lost 1 of 60
 * at concurrency 4 against it): sent once more on a one-off connection (undici's own fetch over a `Client`
 * of its own, closed once the response is done). Everything else, HTTP errors included, is the SDK's as
 * before (`maxRetries: 0`: the SDK's own retries back off for seconds and also retry 429/5xx).
 */
function fetchRetryingLostRequests(origin: string): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, init)
    } catch (error) {
      if (init?.signal?.aborted || !lostOnReusedConnection((error as { cause?: unknown }).cause)) throw error
      const fresh = new Client(origin, { pipelining: 1 })
      // close() lets the request (and its body) finish first.
      const release = () => void fresh.close().catch(() => {})
      try {
        const response = (await undiciFetch(input as string, {
          ...(init as object),
          dispatcher: fresh,
        })) as unknown as Response
        RETRIED.add(response)
        release()
        return response
      } catch (retryError) {
        release()
        markConnectionRetries(retryError, 1)
        throw retryError
      }
    }
  }
}

/** Same contract as streamWithUndici. The SDK hides `[DONE]`, so only a finish_reason completes a stream. */
export async function* streamWithSdk(
  client: OpenAI,
  api: OpenAIApi,
  body: Record<string, unknown>,
  signal: AbortSignal,
  timeoutMs: number,
  sendTimeHeader = false,
): AsyncGenerator<StreamEvent> {
  if (signal.aborted) throw signal.reason
  const scope = new RequestScope(signal, timeoutMs)
  try {
    let stream: AsyncIterable<unknown>
    let connectionRetries = 0
    // tSend: just before the SDK builds and writes the request.
    let sentAtMs: number | undefined = wallNowMs()
    try {
      const requestOptions = {
        signal: scope.signal,
        timeout: timeoutMs,
        ...(sendTimeHeader ? { headers: { [SENT_AT_HEADER]: monotonicMs().toFixed(3) } } : {}),
      }
      // The body carries server-specific fields (top_k, min_tokens, extraBody) the SDK types do not know.
      const { data, response } = await (api === 'chat'
        ? client.chat.completions
            .create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming, requestOptions)
            .withResponse()
        : client.completions
            .create(body as unknown as OpenAI.CompletionCreateParamsStreaming, requestOptions)
            .withResponse())
      stream = data
      if (RETRIED.has(response)) connectionRetries = 1
    } catch (error) {
      throw scope.settle(error, classifyBeforeResponse)
    }
    const state = createChunkState()
    try {
      for await (const chunk of stream) {
        // The SDK keeps handing out chunks it had already decoded when the signal fired.
        if (scope.cut) break
        const token = readChunk(chunk, state)
        if (token === undefined) continue
        if (sentAtMs !== undefined) {
          token.sentAtMs = sentAtMs
          sentAtMs = undefined
        }
        yield token
      }
    } catch (error) {
      const failure = scope.settle(error, classifyInStream)
      if (failure instanceof RequestError) markConnectionRetries(failure, connectionRetries)
      throw failure
    }
    // The SDK's stream ends quietly when its signal aborts.
    scope.throwIfCut()
    assertComplete(state)
    const done = createDoneEvent(state)
    if (connectionRetries > 0) done.connectionRetries = connectionRetries
    yield done
  } finally {
    scope.dispose()
  }
}

function classifyBeforeResponse(error: unknown): RequestError {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new RequestError('timeout', 'no response headers within the timeout', undefined, { cause: error })
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    const message = errorMessage({ error: error.error }, error.message)
    return new RequestError('http', `HTTP ${error.status}: ${message}`, error.status, { cause: error })
  }
  return new RequestError('http', `request failed: ${describeError(error)}`, undefined, { cause: error })
}

function classifyInStream(error: unknown): RequestError {
  if (error instanceof OpenAI.APIError) {
    // An `{"error": …}` chunk or an `event: error` message; the SDK gives it no status.
    return new RequestError(
      'stream',
      `server error in stream: ${errorMessage({ error: error.error }, error.message)}`,
      undefined,
      {
        cause: error,
      },
    )
  }
  if (error instanceof SyntaxError) {
    return new RequestError('stream', `malformed chunk (not JSON): ${error.message}`, undefined, {
      cause: error,
    })
  }
  return new RequestError('stream', `connection dropped mid-stream: ${describeError(error)}`, undefined, {
    cause: error,
  })
}
