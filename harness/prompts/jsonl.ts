/**
 * Prompts from a JSON-lines file: one object per line, `{ "prompt": "…" }` or `{ "messages": [...] }`,
 * optionally `"outputTokens": n`. Blank lines are skipped; every bad line is reported at once.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { type ConfigIssue, ScenarioError } from '../errors.ts'
import type { Prompt } from './types.ts'

const lineSchema = z
  .object({
    prompt: z.string().min(1).optional(),
    messages: z
      .array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }))
      .min(1)
      .optional(),
    outputTokens: z.number().int().positive().optional(),
  })
  .refine((l) => l.prompt !== undefined || l.messages !== undefined, {
    message: 'give "prompt" or "messages"',
  })

export async function readJsonlPrompts(file: string, defaultOutputTokens: number): Promise<Prompt[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ScenarioError(file, [
      { path: 'prompts.path', message: `cannot read ${file}: ${(err as Error).message}` },
    ])
  }
  const prompts: Prompt[] = []
  const issues: ConfigIssue[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      issues.push({ path: `line ${i + 1}`, message: 'not valid JSON' })
      return
    }
    const parsed = lineSchema.safeParse(value)
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({
          path: `line ${i + 1}${issue.path.map((p) => `.${String(p)}`).join('')}`,
          message: issue.message,
        })
      return
    }
    const { prompt, messages, outputTokens } = parsed.data
    prompts.push({
      index: prompts.length,
      prompt: prompt ?? messages?.map((m) => m.content).join('\n') ?? '',
      ...(messages ? { messages } : {}),
      outputTokens: outputTokens ?? defaultOutputTokens,
    })
  })
  if (issues.length > 0) throw new ScenarioError(file, issues)
  if (prompts.length === 0)
    throw new ScenarioError(file, [{ path: 'prompts.path', message: 'the file holds no prompts' }])
  return prompts
}
