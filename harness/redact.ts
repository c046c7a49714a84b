/**
 * The one redactor of every output: the JSONL file, the database (db/sink.ts, db/import), exports and
 * pushes (db/export.ts), and everything the CLI prints (harness/cli/output.ts wraps stdout and stderr).
 * A key can reach an output through a header someone put in the scenario, or an upstream error body that
 * echoes it ("Incorrect API key provided: sk-…"); the runner never writes it, but every output passes
 * through here anyway.
 *
 * What is a secret (each replaced by `[redacted:<where it came from>]` wherever it appears in text):
 * - the value of every environment variable a scenario or engine options name in `apiKeyEnv`;
 * - the value of every header in a `headers` map except the allow-listed ones (SAFE_HEADERS), and the
 *   credential after an auth scheme (`Bearer <credential>`);
 * - a literal value under a credential-like key (`apiKey`, `authorization`, `token` …);
 * - the value of every environment variable whose name looks secret (KEY, TOKEN, SECRET, PASSW, CREDENTIAL,
 *   AUTH, BEARER, COOKIE), and the password of any URL in an environment variable (DATABASE_URL);
 * Values shorter than MIN_SECRET_LENGTH are searched in text only when a scenario names them as the key
 * (apiKeyEnv): a short header or environment value would match innocent text (numbers, flags).
 *
 * Partial echoes of a key (apiKeyEnv values, header values, literal credentials — not the environment
 * values found by name, which may be paths and would eat innocent text):
 * - any run of FRAGMENT_LENGTH (8) or more consecutive characters of the key (a truncated echo, a key cut
 *   by a message limit);
 * - a masked echo as OpenAI prints it — a key prefix and/or suffix around a mask of `*`, `•`, `…` or dots
 *   (`sk-abc...wxyz`, `sk-proj-****wxyz`) — when prefix + suffix hold at least 4 of the key's characters.
 * Not covered: a key transformed on the way (base64, URL-encoded, split by line wraps), or fewer than 8
 * consecutive characters of it outside a mask.
 *
 * In structured values (`value()`), values under credential-like keys become `[redacted]`, and so do the
 * values of non-allow-listed headers in any `headers` map, whatever their length.
 * @module
 */

const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|BEARER|COOKIE/i
/** Shorter values would match innocent text (flags, small numbers). chars */
export const MIN_SECRET_LENGTH = 8
/** Runs of a key this long or longer are redacted wherever they appear. chars */
export const FRAGMENT_LENGTH = 8
/** A masked echo must show at least this many of the key's characters (prefix + suffix) to be redacted. */
const MASKED_MIN_SHOWN = 4
const CREDENTIAL_KEY =
  /^(authorization|proxy-authorization|x-api-key|api[-_]?key|access[-_]?token|password|secret|token|cookie)$/i
/**
 * Whether a header or option name reads like a credential (`authorization`, `x-goog-api-key`,
 * `x-gateway-token`): the run fingerprint counts such a header by name only, so a rotated key keeps history.
 */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_KEY.test(name) || SECRET_ENV_NAME.test(name)
}
/** `Bearer <credential>`: the credential alone is a secret too (a server may echo only it). */
const AUTH_SCHEME = /^(bearer|basic|token|digest|apikey)\s+(\S+)$/i
/** A run of mask characters in an echoed key: `*`, `•`, `…`, two or more dots. */
const MASK = /[*•]+|…+|\.{2,}/g
/** What a redacted value is replaced with in structured values. */
export const REDACTED = '[redacted]'

/**
 * Header names whose values are kept as written (lower case). Everything else in a `headers` map is a
 * secret: a scenario's custom header is more often a credential (`x-api-key`, `api-key`, `x-goog-api-key`,
 * a gateway token) than not, and its value is not a measurement.
 */
export const SAFE_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'anthropic-version',
  'cache-control',
  'connection',
  'content-type',
  'openai-beta',
  'user-agent',
])

export interface Redactor {
  text(value: string): string
  /** A deep copy of a JSON-like value with secrets replaced. */
  value<T>(value: T): T
}

/** What createRedactor returns: a Redactor that can take in more context. */
export interface ContextRedactor extends Redactor {
  /** This redactor plus the secrets named in more context values (scenarios loaded later). */
  extend(context: unknown[]): ContextRedactor
  /** How many distinct secret values it replaces (diagnostics and tests). */
  readonly size: number
}

interface Secret {
  value: string
  /** What the replacement names: the variable or header it came from (never the value). */
  name: string
  /** A key the scenario uses: its fragments and masked echoes are redacted too. */
  key: boolean
}

/**
 * @param env where secret values are looked up @default process.env
 * @param context values (scenario source, engine options) searched for `apiKeyEnv` names, headers and
 *   literal credentials whose values are secrets whatever their name
 */
export function createRedactor(
  env: NodeJS.ProcessEnv = process.env,
  context: unknown[] = [],
): ContextRedactor {
  const secrets = new Map<string, Secret>()
  for (const [name, v] of Object.entries(env)) {
    if (v === undefined) continue
    if (SECRET_ENV_NAME.test(name)) add(secrets, { value: v, name, key: false }, MIN_SECRET_LENGTH)
    const password = urlPassword(v)
    if (password !== undefined)
      add(secrets, { value: password, name: `${name} password`, key: false }, MIN_SECRET_LENGTH)
  }
  return build(env, secrets, context)
}

function build(env: NodeJS.ProcessEnv, base: Map<string, Secret>, context: unknown[]): ContextRedactor {
  const secrets = new Map(base)
  for (const s of contextSecrets(env, context)) add(secrets, s, s.minLength)
  // Longest first, so a secret containing another is replaced whole.
  const ordered = [...secrets.values()].sort((a, b) => b.value.length - a.value.length)
  const keys = ordered.filter((s) => s.key)
  const fragments = fragmentIndex(keys)

  const text = (s: string): string => {
    // PostgreSQL text and jsonb refuse NUL characters; one in an upstream message must not lose a batch.
    let out = s.includes('\0') ? s.replaceAll('\0', '') : s
    for (const { value, name } of ordered)
      if (out.includes(value)) out = out.split(value).join(`[redacted:${name}]`)
    if (keys.length === 0) return out
    out = redactMasked(out, keys)
    return fragments.grams.size > 0 && out.length >= FRAGMENT_LENGTH ? redactFragments(out, fragments) : out
  }
  const walk = (v: unknown, headers = false): unknown => {
    if (typeof v === 'string') return text(v)
    // Arrays of numbers (chunk gaps, one per token) are the bulk of an outcome: copied without a walk.
    if (Array.isArray(v)) return v.every((x) => typeof x === 'number') ? v.slice() : v.map((x) => walk(x))
    // A Date holds no text; other non-plain objects are redacted as what JSON would make of them.
    if (v instanceof Date) return v
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) !== Object.prototype) {
      const json = (v as { toJSON?: () => unknown }).toJSON
      if (typeof json === 'function') return walk(json.call(v), headers)
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, inner] of Object.entries(v)) {
        if (inner == null) out[k] = inner
        else if (headers ? !SAFE_HEADERS.has(k.toLowerCase()) : CREDENTIAL_KEY.test(k)) out[k] = REDACTED
        else out[k] = typeof inner === 'object' ? walk(inner, isHeaderMap(k, inner)) : walk(inner)
      }
      return out
    }
    return v
  }
  return {
    text,
    value: <T>(v: T) => walk(v) as T,
    extend: (more) => build(env, secrets, more),
    size: secrets.size,
  }
}

interface ContextSecret extends Secret {
  minLength: number
}

function add(secrets: Map<string, Secret>, s: Secret, minLength: number): void {
  if (s.value.length < minLength || s.value === REDACTED || s.value.startsWith('[redacted')) return
  const known = secrets.get(s.value)
  // A value both found by name and used as a key keeps its first name and is treated as a key (fragments
  // covered too).
  if (!known) secrets.set(s.value, s)
  else if (s.key && !known.key) secrets.set(s.value, { ...known, key: true })
}

function isHeaderMap(key: string, v: unknown): boolean {
  return key.toLowerCase() === 'headers' && v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** apiKeyEnv values, non-allow-listed header values, literal credentials found in the context values. */
function contextSecrets(env: NodeJS.ProcessEnv, values: unknown[]): ContextSecret[] {
  const found: ContextSecret[] = []
  const literal = (value: string, name: string) => {
    found.push({ value, name, key: true, minLength: MIN_SECRET_LENGTH })
    const scheme = AUTH_SCHEME.exec(value)
    if (scheme?.[2]) found.push({ value: scheme[2], name, key: true, minLength: MIN_SECRET_LENGTH })
  }
  const visit = (v: unknown, headers: boolean) => {
    if (Array.isArray(v)) for (const inner of v) visit(inner, false)
    else if (v !== null && typeof v === 'object')
      for (const [k, inner] of Object.entries(v)) {
        if (k === 'apiKeyEnv' && typeof inner === 'string') {
          const value = env[inner]
          // Any length: the scenario says this is the key.
          if (value) found.push({ value, name: inner, key: true, minLength: 1 })
        } else if (typeof inner === 'string') {
          if (headers && !SAFE_HEADERS.has(k.toLowerCase())) literal(inner, `header ${k}`)
          else if (!headers && CREDENTIAL_KEY.test(k)) literal(inner, k)
        } else visit(inner, isHeaderMap(k, inner))
      }
  }
  for (const v of values) visit(v, false)
  return found
}

function urlPassword(value: string): string | undefined {
  if (!value.includes('://') || !value.includes('@')) return undefined
  try {
    const password = new URL(value).password
    return password === '' ? undefined : decodeURIComponent(password)
  } catch {
    return undefined
  }
}

/** Length of the aligned probes that find candidate fragments (FRAGMENT_LENGTH / 2). chars */
const PROBE_LENGTH = FRAGMENT_LENGTH / 2

interface FragmentIndex {
  /** Every FRAGMENT_LENGTH-long run of each key → the name of a key holding it. */
  grams: Map<string, string>
  /** Every PROBE_LENGTH-long run of those keys: a cheap first test. */
  probes: Set<string>
}

function fragmentIndex(keys: readonly Secret[]): FragmentIndex {
  const grams = new Map<string, string>()
  const probes = new Set<string>()
  for (const { value, name } of keys) {
    if (value.length <= FRAGMENT_LENGTH) continue
    for (let i = 0; i + FRAGMENT_LENGTH <= value.length; i++) {
      const gram = value.slice(i, i + FRAGMENT_LENGTH)
      if (!grams.has(gram)) grams.set(gram, name)
    }
    for (let i = 0; i + PROBE_LENGTH <= value.length; i++) probes.add(value.slice(i, i + PROBE_LENGTH))
  }
  return { grams, probes }
}

/**
 * Replaces each maximal stretch of text covered by key fragments. A fragment starting at i contains the
 * probe-aligned run at q = ceil(i / PROBE_LENGTH) · PROBE_LENGTH, so only those positions are looked up
 * (a quarter of the text's positions at 8 / 4) and the fragment starts before a hit are tried only then:
 * ~4× faster on long text (an export piped through stdout).
 */
function redactFragments(text: string, index: FragmentIndex): string {
  const { grams, probes } = index
  let out = ''
  let copied = 0
  for (let q = 0; q + PROBE_LENGTH <= text.length; q += PROBE_LENGTH) {
    if (!probes.has(text.slice(q, q + PROBE_LENGTH))) continue
    for (let i = Math.max(copied, q - PROBE_LENGTH + 1); i <= q && i + FRAGMENT_LENGTH <= text.length; i++) {
      const name = grams.get(text.slice(i, i + FRAGMENT_LENGTH))
      if (name === undefined) continue
      let end = i + FRAGMENT_LENGTH
      // Extend while the next window is also a fragment: overlapping windows cover one contiguous stretch.
      while (end < text.length && grams.has(text.slice(end - FRAGMENT_LENGTH + 1, end + 1))) end++
      out += `${text.slice(copied, i)}[redacted:${name}]`
      copied = end
      // The loop's next probe is the first whose candidates start at or after `end`.
      q = Math.ceil(end / PROBE_LENGTH) * PROBE_LENGTH - PROBE_LENGTH
      break
    }
  }
  return copied === 0 ? text : out + text.slice(copied)
}

/** `sk-abc...wxyz`: a key's prefix and/or suffix around a mask, with enough of the key shown. */
function redactMasked(text: string, keys: readonly Secret[]): string {
  if (!/[*•…]|\.\./.test(text)) return text
  const cuts: { start: number; end: number; name: string }[] = []
  for (const m of text.matchAll(MASK)) {
    const at = m.index
    const after = at + m[0].length
    for (const { value, name } of keys) {
      let prefix = 0
      for (let n = Math.min(value.length - 1, at); n > 0; n--)
        if (text.slice(at - n, at) === value.slice(0, n)) {
          prefix = n
          break
        }
      let suffix = 0
      for (let n = Math.min(value.length - 1, text.length - after); n > 0; n--)
        if (text.slice(after, after + n) === value.slice(value.length - n)) {
          suffix = n
          break
        }
      if (prefix + suffix >= MASKED_MIN_SHOWN && (prefix > 0 || suffix > 0)) {
        cuts.push({ start: at - prefix, end: after + suffix, name })
        break
      }
    }
  }
  if (cuts.length === 0) return text
  let out = ''
  let copied = 0
  for (const c of cuts) {
    if (c.start < copied) continue
    out += `${text.slice(copied, c.start)}[redacted:${c.name}]`
    copied = c.end
  }
  return out + text.slice(copied)
}
