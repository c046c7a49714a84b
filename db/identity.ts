/**
 * Identity of what a run measured: variant and environment rows (one per distinct identity, found by
 * hash) and the comparability fingerprint — hash(variant sha256 or model id, engine kind + version +
 * options, scenario hash, environment hash). Runs compare only when fingerprints are equal.
 * @module
 */
import { createHash } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { canonicalJson } from '../harness/canonical-json.ts'
import { isCredentialName, REDACTED, SAFE_HEADERS } from '../harness/redact.ts'
import type { EnvironmentInfo, RunMeta, VariantIdentity } from '../harness/results.ts'
import type { Db } from './client.ts'
import { environments, variants } from './schema.ts'

// Re-exported for db/ and the CLI, which took it from here before it moved to harness/.
export { canonicalJson }

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export function variantIdentityHash(variant: VariantIdentity): string {
  return sha256Hex(canonicalJson(variant))
}

export function environmentHash(environment: EnvironmentInfo): string {
  return sha256Hex(canonicalJson(environment))
}

/**
 * The comparability fingerprint of a run (hex sha256). Label, git and time are deliberately not part of it.
 *
 * @param meta the run as stored: secrets redacted, so every custom header value reads `[redacted]`
 * @param rawEngineOptions the engine options before redaction, when known (the sink passes them): a custom
 *   header still separates series (`x-routing: a` vs `b`) through a digest of its value that never leaves
 *   this hash; credential headers (authorization, x-api-key …) count by name only, so a rotated key keeps
 *   the history
 */
export function runFingerprint(meta: RunMeta, rawEngineOptions?: Record<string, unknown>): string {
  return sha256Hex(
    canonicalJson({
      model: meta.variant?.sha256 ?? meta.engine.model,
      engine: {
        kind: meta.engine.kind,
        version: meta.engine.engineVersion ?? null,
        options: rawEngineOptions
          ? withHeaderDigests(meta.engineOptions, rawEngineOptions)
          : meta.engineOptions,
      },
      scenario: meta.scenario.hash,
      // Steps of one scenario (concurrency 1 vs 32) are different series.
      load: meta.load,
      environment: meta.environment ? environmentHash(meta.environment) : null,
    }),
  )
}

/** `options` with its `headers` replaced by digests of the raw header values (credentials by name only). */
function withHeaderDigests(
  options: Record<string, unknown>,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const headers = raw.headers
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return options
  const digests: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    const key = name.toLowerCase()
    digests[key] = SAFE_HEADERS.has(key)
      ? String(value)
      : isCredentialName(key)
        ? REDACTED
        : `sha256:${sha256Hex(String(value))}`
  }
  return { ...options, headers: digests }
}

/** Id of the variant row for this identity (and its parents), inserting what is missing. */
export async function upsertVariant(db: Db, variant: VariantIdentity): Promise<number> {
  const parentId = variant.parent ? await upsertVariant(db, variant.parent) : null
  const identityHash = variantIdentityHash(variant)
  const inserted = await db
    .insert(variants)
    .values({
      identityHash,
      name: variant.name,
      family: variant.family ?? null,
      method: variant.method,
      format: variant.format,
      quantLabel: variant.quantLabel ?? null,
      bits: variant.bits ?? null,
      sizeBytes: variant.sizeBytes ?? null,
      sha256: variant.sha256 ?? null,
      parentId,
    })
    .onConflictDoNothing({ target: variants.identityHash })
    .returning({ id: variants.id })
  return (
    inserted[0]?.id ??
    (await idOf(db.select({ id: variants.id }).from(variants).where(eq(variants.identityHash, identityHash))))
  )
}

/** Id of the environment row for this machine, inserting it when new. */
export async function upsertEnvironment(db: Db, environment: EnvironmentInfo): Promise<number> {
  const hash = environmentHash(environment)
  const inserted = await db
    .insert(environments)
    .values({
      hash,
      cpuModel: environment.cpuModel,
      cores: environment.cores,
      ramBytes: environment.ramBytes,
      gpus: environment.gpus,
      os: environment.os,
      nodeVersion: environment.nodeVersion,
      engineVersions: environment.engineVersions,
    })
    .onConflictDoNothing({ target: environments.hash })
    .returning({ id: environments.id })
  return (
    inserted[0]?.id ??
    (await idOf(db.select({ id: environments.id }).from(environments).where(eq(environments.hash, hash))))
  )
}

async function idOf(query: PromiseLike<{ id: number }[]>): Promise<number> {
  const row = (await query)[0]
  if (!row) throw new Error('identity row vanished between insert and select')
  return row.id
}
