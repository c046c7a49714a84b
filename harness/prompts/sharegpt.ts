/**
 * ShareGPT-format conversations as prompts (`vllm bench serve --dataset-name sharegpt`, AIPerf, guidellm):
 * a JSON array of `{ "conversations": [{ "from": "human" | "gpt" | "system", "value": "…" }, …] }` (other
 * fields of an entry, such as `id`, are ignored). Each human turn answered by a gpt turn is a request: chat
 * engines get the conversation up to it as messages (human → user, gpt → assistant, system → system),
 * completion engines the human turn's text; the output length is the gpt answer's length in words (≈ tokens,
 * at least 1) unless a fixed `outputTokens` is given.
 * @module
 */
import { readFile } from 'node:fs/promises'
import type { ChatMessage } from '../engines/engine.ts'
import { type ConfigIssue, ScenarioError } from '../errors.ts'
import type { Prompt } from './types.ts'

const ROLES = { human: 'user', gpt: 'assistant', system: 'system' } as const
type From = keyof typeof ROLES

export interface ShareGptOptions {
  /** `first`: the first answered human turn of each conversation; `all`: every answered human turn. */
  turns: 'first' | 'all'
  /** Fixed output length; absent: the gpt answer's length in words. */
  outputTokens?: number | undefined
}

/**
 * Reads a ShareGPT file. Structural problems (not an array, an entry without a `conversations` array, a
 * turn without a known `from` or a string `value`) are errors naming the file and the entry's index, all at
 * once (the first 20). A well-formed conversation with no human turn answered by a gpt turn (ShareGPT dumps
 * hold empty ones) gives no request, as vLLM's sampler skips it; a file that gives none is an error.
 */
export async function readShareGptPrompts(file: string, options: ShareGptOptions): Promise<Prompt[]> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ScenarioError(file, [
      { path: 'prompts.path', message: `cannot read ${file} as JSON: ${(err as Error).message}` },
    ])
  }
  if (!Array.isArray(value))
    throw new ScenarioError(file, [
      {
        path: 'prompts.path',
        message: 'a ShareGPT file is a JSON array of { "conversations": [{ "from", "value" }] }',
      },
    ])
  const prompts: Prompt[] = []
  const issues: ConfigIssue[] = []
  for (const [i, entry] of value.entries()) {
    if (issues.length >= 20) {
      issues.push({ path: `[${i}]`, message: 'and more entries not checked' })
      break
    }
    const turns = parseEntry(entry, `[${i}]`, issues)
    if (turns === undefined) continue
    for (let t = 0; t + 1 < turns.length; t++) {
      const turn = turns[t] as { from: From; value: string }
      const answer = turns[t + 1] as { from: From; value: string }
      if (turn.from !== 'human' || answer.from !== 'gpt' || turn.value.trim() === '') continue
      const messages: ChatMessage[] = turns
        .slice(0, t + 1)
        .map((x) => ({ role: ROLES[x.from], content: x.value }))
      prompts.push({
        index: prompts.length,
        prompt: turn.value,
        messages,
        outputTokens: options.outputTokens ?? Math.max(1, countWords(answer.value)),
      })
      if (options.turns === 'first') break
    }
  }
  if (issues.length > 0) throw new ScenarioError(file, issues)
  if (prompts.length === 0)
    throw new ScenarioError(file, [
      { path: 'prompts.path', message: 'no conversation has a human turn answered by a gpt turn' },
    ])
  return prompts
}

function parseEntry(
  entry: unknown,
  at: string,
  issues: ConfigIssue[],
): { from: From; value: string }[] | undefined {
  const conversations = (entry as { conversations?: unknown } | null)?.conversations
  if (entry === null || typeof entry !== 'object' || !Array.isArray(conversations)) {
    issues.push({ path: `${at}.conversations`, message: 'give an array of { "from", "value" } turns' })
    return undefined
  }
  const before = issues.length
  const turns: { from: From; value: string }[] = []
  for (const [j, turn] of conversations.entries()) {
    const t = turn as { from?: unknown; value?: unknown } | null
    if (t === null || typeof t !== 'object') {
      issues.push({ path: `${at}.conversations[${j}]`, message: 'a turn is { "from", "value" }' })
      continue
    }
    if (typeof t.from !== 'string' || !Object.hasOwn(ROLES, t.from))
      issues.push({
        path: `${at}.conversations[${j}].from`,
        message: `got ${JSON.stringify(t.from) ?? 'nothing'}; use "human", "gpt" or "system"`,
      })
    if (typeof t.value !== 'string')
      issues.push({ path: `${at}.conversations[${j}].value`, message: 'give the turn text as a string' })
    if (issues.length === before) turns.push({ from: t.from as From, value: t.value as string })
  }
  return issues.length > before ? undefined : turns
}

function countWords(text: string): number {
  const trimmed = text.trim()
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length
}
