/**
 * A raw HTTP load as run (`bench load`, harness/http-load/README.md): stored as the run's load
 * (`runs.load`, `load_kind` 'http-load'). Every field describes the work, so two loads of the same shape
 * against the same endpoint compare (the run fingerprint includes the scenario hash made from it).
 * @module
 */
export interface HttpLoadSpec {
  kind: 'http-load'
  /** Which OpenAI route was loaded, non-streamed: /chat/completions or /completions. */
  endpoint: 'chat' | 'completions'
  /** Keep-alive connections, one request in flight each (autocannon, pipelining 1). */
  connections: number
  /** autocannon's overallRate, requests/s over all connections (per-connection per-second budgets). */
  ratePerS?: number
  /** Time bound, s. */
  durationS: number
  /** Count bound, requests. */
  requests?: number
  /** Per-request timeout, s. */
  timeoutS: number
  /**
   * Where the bodies came from: `synthetic` prompts of promptTokens words, `jsonl` / `sharegpt` prompt
   * files (their name), or one `body` file sent as is (its name and sha256).
   */
  bodies:
    | { kind: 'synthetic'; promptTokens: number; outputTokens: number; seed: number }
    | { kind: 'jsonl' | 'sharegpt'; file: string; outputTokens: number }
    | { kind: 'body'; file: string; sha256: string }
  /** The load generator and its version, e.g. `autocannon 9.0.0`. */
  tool: string
}

/** `http-load chat 8 conn`, `http-load completions 50/s`. */
export function describeHttpLoad(spec: Pick<HttpLoadSpec, 'endpoint' | 'connections' | 'ratePerS'>): string {
  return `http-load ${spec.endpoint} ${spec.ratePerS !== undefined ? `${spec.ratePerS}/s` : `${spec.connections} conn`}`
}
