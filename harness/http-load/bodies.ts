/**
 * The request bodies of an HTTP load: one per request from a prompt source (harness/prompts: synthetic
 * words, a JSONL or ShareGPT file) as a non-streamed chat or completions request, or one JSON file sent
 * as is for every request (`--body FILE`). Made when autocannon asks for the request, before its send time
 * is taken, so making them is never timed.
 * @module
 */
import { createHash, randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { HarnessError } from '../errors.ts'
import { loadPrompts, type Prompt, type PromptSource } from '../prompts/index.ts'
import type { HttpLoadSpec } from './spec.ts'

export interface BodyOptions {
  endpoint: 'chat' | 'completions'
  model: string
  /** A JSON file sent as is for every request. */
  bodyFile?: string
  /** A JSONL (`{"prompt"}` / `{"messages"}` per line) or ShareGPT (.json) prompt file. */
  promptsFile?: string
  /** Synthetic prompt length, words ≈ tokens. */
  promptTokens: number
  /** max_tokens of every request (a JSONL line's own outputTokens wins; ShareGPT: this for all). */
  outputTokens: number
  /** Sends min_tokens = ignore_eos-style fixed output lengths (vLLM, llama-server), as scenarios do. */
  fixedOutputLength: boolean
  /** Seed of the synthetic lengths. @default 1 */
  seed?: number
}

export interface BodySource {
  spec: HttpLoadSpec['bodies']
  /** The body of the `position`-th request and the index of its prompt in the source. */
  at(position: number): { body: string; promptIndex: number }
}

export async function openBodySource(o: BodyOptions): Promise<BodySource> {
  if (o.bodyFile !== undefined) return bodyFileSource(o.bodyFile)
  const seed = o.seed ?? 1
  let source: PromptSource
  let spec: HttpLoadSpec['bodies']
  if (o.promptsFile !== undefined) {
    const kind = o.promptsFile.toLowerCase().endsWith('.jsonl') ? 'jsonl' : 'sharegpt'
    if (kind === 'sharegpt' && !o.promptsFile.toLowerCase().endsWith('.json'))
      throw new HarnessError(
        `--prompts ${o.promptsFile}: give a .jsonl file ({"prompt"} or {"messages"} per line) or a ShareGPT .json array`,
      )
    source = await loadPrompts(
      kind === 'jsonl'
        ? { kind, path: o.promptsFile, outputTokens: o.outputTokens }
        : { kind, path: o.promptsFile, turns: 'first', outputTokens: o.outputTokens },
      { seed, baseDir: process.cwd() },
    )
    spec = { kind, file: path.basename(o.promptsFile), outputTokens: o.outputTokens }
  } else {
    source = await loadPrompts(
      { kind: 'synthetic', promptTokens: o.promptTokens, outputTokens: o.outputTokens },
      { seed, baseDir: process.cwd() },
    )
    spec = { kind: 'synthetic', promptTokens: o.promptTokens, outputTokens: o.outputTokens, seed }
  }
  // Synthetic text new in every run (harness/prompts/README.md): a server's prompt cache never answers it.
  const salt = randomInt(2 ** 31)
  return {
    spec,
    at(position) {
      const prompt = source.at(position, salt)
      return { body: JSON.stringify(requestBody(o, prompt)), promptIndex: prompt.index }
    },
  }
}

/** The non-streamed request of one prompt: model, messages or prompt, max_tokens, stream false. */
export function requestBody(
  o: Pick<BodyOptions, 'endpoint' | 'model' | 'fixedOutputLength'>,
  prompt: Prompt,
): Record<string, unknown> {
  const body: Record<string, unknown> = { model: o.model }
  if (o.endpoint === 'chat') body.messages = prompt.messages ?? [{ role: 'user', content: prompt.prompt }]
  else body.prompt = prompt.prompt
  body.max_tokens = prompt.outputTokens
  body.stream = false
  if (o.fixedOutputLength) {
    body.min_tokens = prompt.outputTokens
    body.ignore_eos = true
  }
  return body
}

/** `--body FILE`: a JSON object, sent byte for byte with every request; must not ask for a stream. */
function bodyFileSource(file: string): BodySource {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new HarnessError(`--body ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new HarnessError(
      `--body ${file}: not JSON (${(err as Error).message}); give one request body, e.g. {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}`,
    )
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new HarnessError(`--body ${file}: expected one JSON object (a request body), got ${typeof parsed}`)
  if ((parsed as { stream?: unknown }).stream === true)
    throw new HarnessError(
      `--body ${file}: "stream": true — bench load measures whole (non-streamed) responses; remove it or set it to false (streaming loads: bench run)`,
    )
  const sha256 = createHash('sha256').update(text).digest('hex')
  return {
    spec: { kind: 'body', file: path.basename(file), sha256 },
    at: () => ({ body: text, promptIndex: 0 }),
  }
}
