/**
 * The checklist's thresholds: defaults, a JSON file (`--thresholds FILE`) and flags, flags winning. A bad
 * value or an unknown key is one error naming it and the fix.
 * @module
 */
import { readFileSync } from 'node:fs'
import { HarnessError } from '../errors.ts'

export interface ChecklistThresholds {
  /** TTFT p50 / p95 / p99 bounds at the load's concurrency, ms; absent = informational. */
  ttftMsP50?: number
  ttftMsP95?: number
  ttftMsP99?: number
  /** Floor of the median per-stream decode speed, tokens/s; absent = informational. */
  minDecodeTokensPerS?: number
  /** Floor of completed requests/s at the concurrency; absent = informational. */
  minQps?: number
  /** Errors / attempted over the load, a fraction in [0, 1]. @default 0.01 */
  maxErrorRate: number
}

/** Bounds a first look at a chat endpoint can use (a tutorial's checklist: TTFT p95 ≤ 500 ms, ≥ 10 tokens/s). */
export const DEFAULT_THRESHOLDS: ChecklistThresholds = {
  ttftMsP50: 200,
  ttftMsP95: 500,
  ttftMsP99: 1000,
  minDecodeTokensPerS: 10,
  maxErrorRate: 0.01,
}

const KEYS = ['ttftMsP50', 'ttftMsP95', 'ttftMsP99', 'minDecodeTokensPerS', 'minQps', 'maxErrorRate'] as const
type Key = (typeof KEYS)[number]

/** The file's keys as flags, for messages. */
const FLAG: Record<Key, string> = {
  ttftMsP50: '--ttft-p50-ms',
  ttftMsP95: '--ttft-p95-ms',
  ttftMsP99: '--ttft-p99-ms',
  minDecodeTokensPerS: '--min-decode-tok-s',
  minQps: '--min-qps',
  maxErrorRate: '--max-error-rate',
}

/** Reads a thresholds file: a JSON object of the keys above, numbers (null drops a default bound). */
export function readThresholdsFile(path: string): Partial<Record<Key, number | null>> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new HarnessError(
      `--thresholds ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new HarnessError(`--thresholds ${path}: not JSON (${(err as Error).message})`)
  }
  return checkThresholds(parsed, `--thresholds ${path}`)
}

/** Checks a thresholds object (from a file): known keys, non-negative numbers or null. */
export function checkThresholds(value: unknown, where: string): Partial<Record<Key, number | null>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new HarnessError(
      `${where}: expected a JSON object like {"ttftMsP95": 500}, got ${JSON.stringify(value)}`,
    )
  const out: Partial<Record<Key, number | null>> = {}
  for (const [key, v] of Object.entries(value)) {
    if (!(KEYS as readonly string[]).includes(key))
      throw new HarnessError(`${where}: unknown key "${key}"; use ${KEYS.join(', ')}`)
    const k = key as Key
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new HarnessError(`${where}: ${k} must be a number ≥ 0 or null, got ${JSON.stringify(v)}`)
    if (k === 'maxErrorRate' && (v === null || v > 1))
      throw new HarnessError(
        `${where}: maxErrorRate is a fraction in [0, 1] (0.05 = 5 %), got ${JSON.stringify(v)}`,
      )
    out[k] = v
  }
  return out
}

/** Defaults, then the file, then the flags (each a number when given). */
export function resolveThresholds(
  file: Partial<Record<Key, number | null>> | undefined,
  flags: Partial<Record<Key, number | undefined>>,
): ChecklistThresholds {
  const merged: Record<string, number | undefined> = { ...DEFAULT_THRESHOLDS }
  for (const [k, v] of Object.entries(file ?? {})) merged[k] = v === null ? undefined : v
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v
  if (merged.maxErrorRate === undefined || merged.maxErrorRate > 1)
    throw new HarnessError(
      `${FLAG.maxErrorRate} expects a fraction in [0, 1] (0.05 = 5 %), got ${merged.maxErrorRate}`,
    )
  const out: ChecklistThresholds = { maxErrorRate: merged.maxErrorRate }
  for (const k of KEYS) if (k !== 'maxErrorRate' && merged[k] !== undefined) out[k] = merged[k]
  return out
}
