/**
 * Defence in depth against secrets at rest. The runner already strips secrets from engine options, but a
 * key can still leak through a header someone put in the scenario, or an upstream error message that
 * echoes it ("Incorrect API key provided: sk-…"). Everything the sink stores passes through a Redactor:
 * values of secret-looking environment variables (and of every variable a scenario names in `apiKeyEnv`)
 * are replaced wherever they appear, and values under credential-like keys are dropped.
 * @module
 */

const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH/i
/** Shorter values would match innocent text (flags, small numbers). */
const MIN_SECRET_LENGTH = 8
const CREDENTIAL_KEY =
  /^(authorization|proxy-authorization|x-api-key|api[-_]?key|access[-_]?token|password|secret|token)$/i

export interface Redactor {
  text(value: string): string
  /** A deep copy of a JSON-like value with secrets replaced. */
  value<T>(value: T): T
}

/**
 * @param env where secret values are looked up @default process.env
 * @param context values (scenario source, engine options) searched for `apiKeyEnv` names whose values are
 *   secrets whatever their name
 */
export function createRedactor(env: NodeJS.ProcessEnv = process.env, context: unknown[] = []): Redactor {
  const secrets = new Map<string, string>()
  const add = (name: string, minLength: number) => {
    const v = env[name]
    if (v !== undefined && v.length >= minLength) secrets.set(v, name)
  }
  for (const name of Object.keys(env)) if (SECRET_ENV_NAME.test(name)) add(name, MIN_SECRET_LENGTH)
  for (const name of apiKeyEnvNames(context)) add(name, 1)
  // Longest first, so a secret containing another is replaced whole.
  const ordered = [...secrets].sort((a, b) => b[0].length - a[0].length)

  const text = (s: string): string => {
    // PostgreSQL text and jsonb refuse NUL characters; one in an upstream message must not lose a batch.
    let out = s.includes('\0') ? s.replaceAll('\0', '') : s
    for (const [secret, name] of ordered)
      if (out.includes(secret)) out = out.split(secret).join(`[redacted:${name}]`)
    return out
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v)
    if (Array.isArray(v)) return v.map(walk)
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, inner] of Object.entries(v))
        out[k] = CREDENTIAL_KEY.test(k) && inner != null ? '[redacted]' : walk(inner)
      return out
    }
    return v
  }
  return { text, value: <T>(v: T) => walk(v) as T }
}

function apiKeyEnvNames(values: unknown[]): Set<string> {
  const names = new Set<string>()
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit)
    else if (v !== null && typeof v === 'object')
      for (const [k, inner] of Object.entries(v)) {
        if (k === 'apiKeyEnv' && typeof inner === 'string') names.add(inner)
        else visit(inner)
      }
  }
  values.forEach(visit)
  return names
}
