/**
 * The CLI's edge: one redactor (harness/redact.ts) for everything a command prints or writes. Commands
 * that learn of more secrets (a scenario's apiKeyEnv and headers) add them with coverSecretsIn; files a
 * command writes take outputRedactor(). redactStandardStreams wraps process.stdout / process.stderr
 * themselves, so a log line, an error message, a progress bar or a table printed by any code in this
 * process (console.* included) passes through it too.
 *
 * The stream wrapper sees one write at a time: a secret split across two writes would pass. Commands
 * therefore redact their data before formatting it (the table, JSON, Markdown, files) and the wrapper is the
 * backstop for everything else, which is written a line at a time.
 * @module
 */
import { type ContextRedactor, createRedactor } from '../redact.ts'

let current: ContextRedactor = createRedactor()

/** The process-wide redactor: secret-looking environment variables and every context added so far. */
export function outputRedactor(): ContextRedactor {
  return current
}

/** Adds the secrets named in these values (scenarios: apiKeyEnv, headers, literal credentials). */
export function coverSecretsIn(context: unknown[]): void {
  current = current.extend(context)
}

let wrapped = false

/** Routes every write to stdout and stderr through outputRedactor(); idempotent. */
export function redactStandardStreams(): void {
  if (wrapped) return
  wrapped = true
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(redactChunk(chunk, rest[0]), ...rest)) as typeof stream.write
  }
  // Node prints an uncaught error (or unhandled rejection) straight to fd 2, past the wrapper: print it
  // here instead, redacted, and exit 1 as Node would.
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  })
}

function redactChunk(chunk: unknown, encoding: unknown): unknown {
  // Another encoding (hex, base64) is not text to search; nothing here writes one.
  if (typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8') return chunk
  if (typeof chunk === 'string') return current.text(chunk)
  if (chunk instanceof Uint8Array) {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8')
    const clean = current.text(text)
    return clean === text ? chunk : Buffer.from(clean)
  }
  return chunk
}
