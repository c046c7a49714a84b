/**
 * What an importer makes of another tool's result file: runs in our terms (identity, summary metrics by
 * METRICS.md name, request rows), each with the original document and notes on how fields were mapped.
 * @module
 */

import { HarnessError } from '../../harness/errors.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import type { MetricRow } from '../../harness/metrics/types.ts'
import type { VariantIdentity } from '../../harness/results.ts'
import { canonicalJson, sha256Hex } from '../identity.ts'
import type { Redactor } from '../redact.ts'
import type { RequestFields } from '../request-rows.ts'
import type { ImportFormat, NewRun } from '../schema.ts'

/** A file that cannot be imported: the message names the file and what is wrong with it. */
export class ImportError extends HarnessError {
  override name = 'ImportError'
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`cannot import ${file}: ${problem}`)
  }
}

export interface ImportedRun {
  scenarioName: string
  scenarioHash: string
  /** What was run, in the tool's terms (stored as runs.scenario). */
  scenario: Record<string, unknown>
  targetName: string
  engineKind: string
  engineVersion: string | null
  engineModel: string
  engineDevice: string | null
  engineOptions: Record<string, unknown>
  load: Record<string, unknown>
  loadKind: string
  label: string | null
  fingerprint: string
  startedAt: Date
  finishedAt: Date | null
  variant?: VariantIdentity
  metrics: MetricRow[]
  /** Request rows without run id, in seq order (empty when the file has no per-request detail); a column left out is stored null (db/request-rows.ts). */
  requests: RequestFields[]
  /** The part of the file this run came from, as read. */
  document: unknown
  notes: string[]
}

/** Facts about the file an importer may need. */
export interface ImportContext {
  /** File name for messages. */
  file: string
  /** Overrides the scenario name the importer would choose. */
  scenarioName?: string
  /** When the file was last written: the time of a result that carries none. */
  fileModifiedAt: Date
}

/**
 * Comparability fingerprint of an imported run. The `imported` key is absent from the preimage of every
 * fingerprint of our own runs (db/identity.ts), so the two can never be equal: another tool's figures
 * never silently join the series of runs measured here.
 */
export function importFingerprint(format: ImportFormat, identity: Record<string, unknown>): string {
  return sha256Hex(canonicalJson({ imported: format, ...identity }))
}

/** A summary row with unit and direction from the metric catalogue (an unknown name is a bug here). */
export function metricRow(name: string, value: number, n: number): MetricRow {
  const info = metricInfo(name)
  if (!info) throw new Error(`metric ${name} is not in the catalogue`)
  return { name, value, unit: info.unit, direction: info.direction, n }
}

type IdentityColumn =
  | 'scenarioName'
  | 'scenarioHash'
  | 'targetName'
  | 'engineKind'
  | 'engineVersion'
  | 'engineModel'
  | 'engineDevice'
  | 'engineOptions'
  | 'load'
  | 'loadKind'
  | 'label'
  | 'fingerprint'

/**
 * The `runs` columns that say what an imported run measured, secrets redacted (a bench-run document's run,
 * or another tool's run as an importer made it): one mapping for db/import/bench-run.ts and store.ts.
 */
export function importedRunColumns(
  run: Pick<ImportedRun, IdentityColumn> & { scenario: unknown },
  redact: Redactor,
): Pick<NewRun, IdentityColumn | 'scenario'> {
  return {
    scenarioName: run.scenarioName,
    scenarioHash: run.scenarioHash,
    scenario: redact.value(run.scenario),
    targetName: run.targetName,
    engineKind: run.engineKind,
    engineVersion: run.engineVersion,
    engineModel: redact.text(run.engineModel),
    engineDevice: run.engineDevice,
    engineOptions: redact.value(run.engineOptions),
    load: run.load,
    loadKind: run.loadKind,
    label: run.label === null ? null : redact.text(run.label),
    fingerprint: run.fingerprint,
  }
}
