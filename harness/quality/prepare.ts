/**
 * prepareQuality: a scenario's `quality` field → the corpus text and the run's spec, read before any target
 * starts, so a missing or non-UTF-8 corpus is a ScenarioError naming `quality.corpus`, not a half-run
 * scenario.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import type { QualityConfig } from '../config/schema.ts'
import { ScenarioError, toError } from '../errors.ts'
import type { QualitySpec } from '../results.ts'

export interface PreparedQuality {
  text: string
  spec: QualitySpec
}

/**
 * @param options.baseDir where a relative corpus path resolves (the scenario's directory)
 * @param options.source the scenario file, named in errors
 * @throws ScenarioError naming quality.corpus and the fix
 */
export function prepareQuality(
  config: QualityConfig,
  options: { baseDir: string; source: string },
): PreparedQuality {
  const path = resolve(options.baseDir, config.corpus)
  const refuse = (message: string): never => {
    throw new ScenarioError(options.source, [{ path: 'quality.corpus', message }])
  }
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat)
    return refuse(`${path}: no such file; point corpus at a UTF-8 text file (relative to the scenario)`)
  if (!stat.isFile()) return refuse(`${path} is not a file; point corpus at a UTF-8 text file`)
  const bytes = readFileSync(path)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (err) {
    return refuse(`${path} is not UTF-8 text (${toError(err).message}); convert it or choose another corpus`)
  }
  if (text.trim().length === 0) return refuse(`${path} is empty; a quality run needs text to score`)
  return {
    text,
    spec: {
      kind: 'quality',
      corpus: basename(path),
      corpusSha256: createHash('sha256').update(bytes).digest('hex'),
      reference: config.reference,
      contextTokens: config.contextTokens,
      maxTokens: config.maxTokens,
    },
  }
}
