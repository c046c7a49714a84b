/**
 * An independent reference client for a real server's TTFT: a fresh node:net socket per request (what
 * llama-server, which closes after every streamed response, leaves any client), a hand-written HTTP/1.1
 * POST, and the least parsing that finds the first content chunk — the first socket read holding a `data:`
 * line with a non-empty `"content"` or `"text"` — stamped with performance.now() when it left the socket.
 * TTFT = that stamp − the stamp taken just before connecting (the harness's tSend also comes before its
 * client opens or reuses a connection). Shares no code with the harness's clients.
 * @module
 */
import { connect } from 'node:net'

export interface RawRunOptions {
  /** Full URL of the streaming endpoint, e.g. http://127.0.0.1:8080/v1/completions */
  url: string
  /** One JSON body per request, sent in order by `concurrency` workers. */
  bodies: readonly string[]
  concurrency: number
}

export interface RawRunResult {
  ttftMs: number[]
  /** TTFT − the server's timings.prompt_ms, per request that reported timings. */
  ttftOverServerMs: number[]
  errors: string[]
}

export async function runRawClient(options: RawRunOptions): Promise<RawRunResult> {
  const url = new URL(options.url)
  const result: RawRunResult = { ttftMs: [], ttftOverServerMs: [], errors: [] }
  let next = 0
  const worker = async () => {
    while (next < options.bodies.length) {
      const body = options.bodies[next++]!
      try {
        const { ttftMs, promptMs } = await oneRequest(url, body)
        result.ttftMs.push(ttftMs)
        if (promptMs !== undefined) result.ttftOverServerMs.push(ttftMs - promptMs)
      } catch (error) {
        result.errors.push(String(error))
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  return result
}

const CONTENT = /"(?:content|text)":"(?:[^"\\]|\\.)/
const PROMPT_MS = /"prompt_ms":([0-9.eE+-]+)/

function oneRequest(url: URL, body: string): Promise<{ ttftMs: number; promptMs: number | undefined }> {
  return new Promise((resolve, reject) => {
    const sentAt = performance.now()
    const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true })
    let firstAt: number | undefined
    let text = ''
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')))
    socket.on('connect', () => {
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
          `accept: text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      )
    })
    socket.on('data', (bytes: Buffer) => {
      const at = performance.now()
      text += bytes.toString('latin1')
      if (firstAt !== undefined) {
        if (bytes.includes('\r\n0\r\n\r\n')) socket.end()
        return
      }
      if (!text.startsWith('HTTP/1.1 200')) {
        if (text.includes('\r\n\r\n')) socket.destroy(new Error(text.split('\r\n')[0]))
        return
      }
      for (const line of text.split('\n'))
        if (line.startsWith('data: ') && CONTENT.test(line)) {
          firstAt = at
          break
        }
      if (text.includes('\r\n0\r\n\r\n')) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => {
      if (firstAt === undefined) reject(new Error('closed before any content'))
      else {
        const promptMs = PROMPT_MS.exec(text)?.[1]
        resolve({ ttftMs: firstAt - sentAt, promptMs: promptMs === undefined ? undefined : Number(promptMs) })
      }
    })
  })
}
