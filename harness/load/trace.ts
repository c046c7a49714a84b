/**
 * Trace replay (AIPerf's fixed schedule, guidellm's Mooncake replay, `vllm bench serve`'s traces): each line
 * of a Mooncake-style JSONL trace is one request, sent at its timestamp divided by `timeScale`, with the
 * line's prompt and output lengths. Reading (`readTrace`) happens before any target starts, so a bad trace
 * stops the scenario before a run; the executor (`runTrace`) only sleeps to each offset and sends.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { type ConfigIssue, ScenarioError } from '../errors.ts'
import { runSchedule } from './open-loop.ts'
import type { LoadContext, LoadResult } from './types.ts'

/** A replayed trace refuses more lines than this unless the load raises `maxLines`. */
export const DEFAULT_TRACE_MAX_LINES = 10_000
/** A replayed trace refuses a scaled span (first to last send) above this unless raised. s. */
export const DEFAULT_TRACE_MAX_DURATION_S = 600
/** Longest prompt a line may ask: 1 Mi tokens (a longer one is a unit slip, not a workload). */
const MAX_INPUT_LENGTH = 1 << 20

/** One trace line as read. Lengths in tokens (one synthetic word each); timestamp in ms. */
export interface TraceEntry {
  /** ms since the trace's own origin (Mooncake `timestamp`). */
  timestampMs: number
  inputLength: number
  outputLength: number
  /** Mooncake's prefix-block ids: equal ids = equal block of `hashBlockTokens` tokens. */
  hashIds?: number[]
}

/** What a run replays: the entries kept and their send offsets after scaling. */
export interface Trace {
  entries: TraceEntry[]
  /** ms after the load's start: (timestamp − first timestamp) / timeScale, non-decreasing. */
  offsetsMs: number[]
}

export interface TraceLimits {
  /** Replay speed: 10 = ten times faster than recorded. */
  timeScale: number
  /** Replay only the first N lines. */
  requests?: number | undefined
  /** Replay only the lines whose scaled offset is below this. s. */
  durationS?: number | undefined
  /** @default DEFAULT_TRACE_MAX_LINES */
  maxLines?: number | undefined
  /** @default DEFAULT_TRACE_MAX_DURATION_S */
  maxDurationS?: number | undefined
}

/** Field names of other trace formats, with what to write instead (they are refused, not guessed). */
const FOREIGN_FIELDS: Record<string, string> = {
  TIMESTAMP: 'timestamp (ms since the trace start; Azure traces give a date: convert it)',
  ContextTokens: 'input_length',
  GeneratedTokens: 'output_length',
  input_tokens: 'input_length',
  output_tokens: 'output_length',
}
const KNOWN_FIELDS = new Set(['timestamp', 'input_length', 'output_length', 'hash_ids'])

/**
 * Reads a Mooncake-style JSONL trace: one object per line with `timestamp` (ms, ≥ 0, non-decreasing),
 * `input_length` and `output_length` (positive integers, tokens) and optional `hash_ids` (integers ≥ 0).
 * Any other field is refused with its line (Azure's `TIMESTAMP`/`ContextTokens`/`GeneratedTokens` with the
 * name to use), blank lines are skipped, every problem is reported at once. `field` names the load in
 * messages (`loads[0]`).
 */
export async function readTrace(file: string, limits: TraceLimits, field = 'load'): Promise<Trace> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ScenarioError(file, [
      { path: `${field}.path`, message: `cannot read ${file}: ${(err as Error).message}` },
    ])
  }
  const entries: TraceEntry[] = []
  const issues: ConfigIssue[] = []
  const lines = text.split(/\r?\n/)
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    // Lines past the requests cap are not replayed: not parsed either, so a long trace costs nothing.
    if (limits.requests !== undefined && entries.length >= limits.requests) break
    if (issues.length >= 20) {
      issues.push({ path: `line ${i + 1}`, message: 'and more lines not checked' })
      break
    }
    const at = `line ${i + 1}`
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      issues.push({ path: at, message: 'not valid JSON' })
      continue
    }
    const entry = parseLine(value, at, issues)
    if (entry === undefined) continue
    const previous = entries.at(-1)
    if (previous !== undefined && entry.timestampMs < previous.timestampMs) {
      issues.push({
        path: `${at}.timestamp`,
        message: `${entry.timestampMs} is before the previous line's ${previous.timestampMs}: sort the trace by timestamp`,
      })
      continue
    }
    entries.push(entry)
  }
  if (issues.length > 0) throw new ScenarioError(file, issues)
  if (entries.length === 0)
    throw new ScenarioError(file, [{ path: `${field}.path`, message: 'the trace holds no lines' }])

  const origin = (entries[0] as TraceEntry).timestampMs
  let offsetsMs = entries.map((e) => (e.timestampMs - origin) / limits.timeScale)
  let kept = entries
  if (limits.durationS !== undefined) {
    const endMs = limits.durationS * 1000
    const n = offsetsMs.findIndex((o) => o >= endMs)
    if (n >= 0) {
      kept = entries.slice(0, n)
      offsetsMs = offsetsMs.slice(0, n)
    }
  }
  const maxLines = limits.maxLines ?? DEFAULT_TRACE_MAX_LINES
  const maxDurationS = limits.maxDurationS ?? DEFAULT_TRACE_MAX_DURATION_S
  const refused: ConfigIssue[] = []
  if (kept.length > maxLines)
    refused.push({
      path: `${field}.maxLines`,
      message: `the trace replays ${kept.length} lines, more than maxLines ${maxLines}: replay part of it with requests, or raise maxLines`,
    })
  const spanS = (offsetsMs.at(-1) ?? 0) / 1000
  if (spanS > maxDurationS)
    refused.push({
      path: `${field}.maxDurationS`,
      message: `the replay spans ${spanS.toFixed(1)} s at timeScale ${limits.timeScale}, more than maxDurationS ${maxDurationS}: raise timeScale, replay part with durationS or requests, or raise maxDurationS`,
    })
  if (refused.length > 0) throw new ScenarioError(file, refused)
  return { entries: kept, offsetsMs }
}

function parseLine(value: unknown, at: string, issues: ConfigIssue[]): TraceEntry | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path: at, message: 'not a JSON object' })
    return undefined
  }
  const v = value as Record<string, unknown>
  const before = issues.length
  for (const key of Object.keys(v)) {
    if (KNOWN_FIELDS.has(key)) continue
    const instead = FOREIGN_FIELDS[key]
    issues.push({
      path: `${at}.${key}`,
      message: instead
        ? `not a Mooncake trace field: write ${instead}`
        : 'unknown field; a trace line has timestamp, input_length, output_length and optional hash_ids',
    })
  }
  const timestampMs = v.timestamp
  if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs) || timestampMs < 0)
    issues.push({ path: `${at}.timestamp`, message: 'give ms since the trace start, a number ≥ 0' })
  const lengths: number[] = []
  for (const name of ['input_length', 'output_length'] as const) {
    const n = v[name]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_INPUT_LENGTH)
      issues.push({
        path: `${at}.${name}`,
        message: `give a whole number of tokens, 1 to ${MAX_INPUT_LENGTH}`,
      })
    else lengths.push(n)
  }
  const hashIds = v.hash_ids
  if (
    hashIds !== undefined &&
    !(Array.isArray(hashIds) && hashIds.every((h) => typeof h === 'number' && Number.isInteger(h) && h >= 0))
  )
    issues.push({ path: `${at}.hash_ids`, message: 'give an array of integers ≥ 0, or leave hash_ids out' })
  if (issues.length > before) return undefined
  return {
    timestampMs: timestampMs as number,
    inputLength: lengths[0] as number,
    outputLength: lengths[1] as number,
    ...(hashIds !== undefined ? { hashIds: hashIds as number[] } : {}),
  }
}

/**
 * Sends request i at start + offsetsMs[i] (offsets non-decreasing), without waiting for earlier ones: a
 * fixed schedule, whatever the server does. Every line is sent (no maxInFlight gate: the trace decides the
 * concurrency, and its line cap bounds it); a late client sends at once and still passes the intended time,
 * so scheduleLagMs shows the lateness. Stops issuing at durationS or on abort; resolves once every request
 * it sent has settled.
 */
export function runTrace(
  offsetsMs: readonly number[],
  durationS: number | undefined,
  ctx: LoadContext,
): Promise<LoadResult> {
  return runSchedule(offsetsMs, { durationS, maxInFlight: Number.POSITIVE_INFINITY }, ctx)
}
