/**
 * Shapes of computed metrics. Definitions: harness/metrics/README.md (used verbatim).
 * @module
 */
import type { RequestErrorKind } from '../errors.ts'
import type { NativeSpeedResult } from '../results.ts'

/** Summary of one per-request quantity; percentiles by linear interpolation (numpy default). */
export interface Distribution {
  n: number
  mean: number
  sd: number
  min: number
  max: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
}

/** Service-level objectives for goodput: a request is good when ok and within every given bound. */
export interface Slo {
  ttftMs?: number
  tpotMs?: number
  e2eMs?: number
}

export interface RunMetrics {
  /** First measured tSend → last measured tLast (or last error), ms. */
  windowMs: number
  attempted: number
  ok: number
  errors: number
  errorsByKind: Partial<Record<RequestErrorKind, number>>
  requestsPerS: number
  outputTokensPerS: number
  totalTokensPerS: number
  peakOutputTokensPerS: number
  effectiveConcurrency: number
  errorRate: number
  /** Present when an SLO was given. */
  goodputRequestsPerS?: number
  goodFraction?: number
  droppedRequests: number
  /**
   * Requests the run's interrupt (Ctrl-C) aborted: in no other figure, errorRate included. Always set by
   * summarizeRun; absent in metrics stored before it existed.
   */
  abortedRequests?: number
  /**
   * Requests (of `attempted`) sent again on a fresh connection because a reused one closed before any
   * response byte. Always set by summarizeRun; absent in metrics stored before it existed.
   */
  connectionRetries?: number
  /** |server − tokenizer| / server over requests with both counts, % (flag > 10). */
  tokenCountDiscrepancyPct?: number
  /** Requests behind tokenCountDiscrepancyPct. */
  tokenCountDiscrepancyN?: number
  clientSaturated: boolean
  /** Event-loop delay p99 of the client during the window, ms (when measured). */
  eventLoopDelayP99Ms?: number
  ttftMs?: Distribution
  ttftSchedMs?: Distribution
  scheduleLagMs?: Distribution
  tpotMs?: Distribution
  chunkGapsMs?: Distribution
  e2eMs?: Distribution
  e2eSchedMs?: Distribution
  decodeTokensPerS?: Distribution
  prefillTokensPerS?: Distribution
  outputTokens?: Distribution
  promptTokens?: Distribution
  // Server truth (llama-server `timings`), for the ok requests that carry it, beside the client's view.
  /** The server's prompt evaluation time, timings.prompt_ms. */
  serverPromptMs?: Distribution
  /** The server's time per output token, predicted_ms / (predicted_n − 1). */
  serverTpotMs?: Distribution
  /** ttftMs − serverPromptMs per request: queueing, HTTP and client. */
  ttftOverServerMs?: Distribution
  /** tpotMs − serverTpotMs per request: transport and client per token. */
  tpotOverServerMs?: Distribution
  /** Ok requests whose prompt the server took at least half from its cache (timings.cache_n ≥ prompt_n). */
  promptCacheHits?: number
  /** Σ cache_n / Σ (prompt_n + cache_n) over ok requests with timings, %. */
  promptCachedTokensPct?: number
  /** Ok requests with server timings (behind the figures above). */
  serverTimingsN?: number
  /** Mean over ok requests with ≥ 2 chunks. */
  tokensPerChunk?: number
  /** Requests behind tokensPerChunk. */
  tokensPerChunkN?: number
  // Memory of the process hosting a native engine (isolated engines only; harness/memory).
  /** Max RSS of the engine process during the window, sampled ≥ 10 Hz (plus the kernel's peak on Linux), bytes. */
  peakRssBytes?: number
  /** RSS samples behind peakRssBytes. */
  peakRssSamplesN?: number
  /** RSS of the engine process right after the model loaded, bytes. */
  loadRssBytes?: number
  /** Max RSS of the engine process from its start to the end of the load, bytes. */
  loadPeakRssBytes?: number
  /** Model load time, ms. */
  loadMs?: number
  /** Model file size, bytes. */
  modelBytes?: number
  /** Device memory the engine reported in use, bytes. */
  vramBytes?: number
  /**
   * llama-bench-style pp / tg of the engine (targets with `nativeSpeed`), measured once per target after its
   * load, not from this run's requests; flattened as promptTokensPerS(Sd) / genTokensPerS(Sd), raw samples kept here.
   */
  nativeSpeed?: NativeSpeedResult
}

/** One flat row per scalar (what the database's run_metrics and the gate read). */
export interface MetricRow {
  /** e.g. `outputTokensPerS`, `ttftMsP95`, `chunkGapsMsP99`. */
  name: string
  value: number
  /** 'ms' | 'tokens/s' | 'requests/s' | 'ratio' | '%' | 'tokens' | 'count' | 'bool' | 'tokens/chunk' | 'bytes' */
  unit: string
  /** Which way is better; 'none' for descriptive figures. */
  direction: 'higher' | 'lower' | 'none'
  /** Samples behind the figure. */
  n: number
}
