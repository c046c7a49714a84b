/**
 * What a run produces: one RequestOutcome per measured request (data, including failures) and a
 * RunSummary at the end. Timestamps are the run clock's milliseconds relative to the run's origin
 * (`RunMeta.clockOrigin`), so outcomes from a child process or another machine line up.
 * Names follow harness/metrics/README.md.
 * @module
 */

import type { RequestErrorKind } from './errors.ts'
import type { HttpLoadSpec } from './http-load/spec.ts'

export type TokensSource = 'server' | 'tokenizer' | 'chunks'

interface OutcomeBase {
  /** 0-based index among the measured requests of this run, in send order. */
  seq: number
  /** tSched: when the schedule intended the request to start (= startedAt for closed loops). ms. */
  scheduledAt: number
  /** tSend: when the request was handed to the engine. ms. */
  startedAt: number
  /** Index of the prompt in the prompt source. */
  promptIndex: number
}

export interface OkOutcome extends OutcomeBase {
  state: 'ok'
  /** t1 − tSend. */
  ttftMs: number
  /** tLast − tSend. */
  e2eMs: number
  /** tk − tk−1 for content chunks k ≥ 2. */
  chunkGapsMs: number[]
  /** Content chunks received. */
  chunks: number
  promptTokens?: number
  outputTokens: number
  tokensSource: TokensSource
  /** Both counts kept when both exist (tokenCountDiscrepancyPct). */
  serverOutputTokens?: number
  tokenizerOutputTokens?: number
  finishReason?: string
  serverTimings?: ServerTimings
  /** Times the request was resent on a fresh connection after a reused one closed before any response byte; absent = 0. */
  connectionRetries?: number
}

export interface ErrorOutcome extends OutcomeBase {
  state: 'error'
  error: { kind: RequestErrorKind; status?: number; message: string }
  /** Partial progress before the failure, when any content arrived. */
  ttftMs?: number
  e2eMs?: number
  chunks?: number
  /** As on OkOutcome. */
  connectionRetries?: number
}

export type RequestOutcome = OkOutcome | ErrorOutcome

/** A load profile as run (a sweep is expanded into one run per step). */
export type LoadSpec =
  | { kind: 'sequential'; requests?: number; durationS?: number }
  | {
      kind: 'concurrent'
      concurrency: number
      requests?: number
      durationS?: number
      /** Worker i of N sends its first request at start + i·rampUpMs/N. ms. Absent = 0 (all at once). */
      rampUpMs?: number
    }
  | {
      kind: 'constant-rate' | 'poisson'
      ratePerS: number
      /** Gamma shape γ of inter-arrivals; 1 = Poisson. Only for poisson. */
      burstiness?: number
      /** Open-loop arrivals beyond this many in flight are dropped and counted. */
      maxInFlight: number
      requests?: number
      durationS?: number
    }
  | {
      /** Replay of a Mooncake-style JSONL trace (harness/load/trace.ts): one request per line. */
      kind: 'trace'
      /** The trace file as the scenario names it (relative to the scenario file). */
      path: string
      /** Replay speed: 10 = ten times faster than recorded. */
      timeScale: number
      /** Tokens per `hash_ids` block (Mooncake: 512). */
      hashBlockTokens: number
      /** Refusal guards of the replay (lines, scaled span in s). */
      maxLines: number
      maxDurationS: number
      /** Only the first N lines. */
      requests?: number
      /** Only the lines whose scaled offset is below this. s. */
      durationS?: number
    }

/**
 * An accuracy evaluation as run (harness/accuracy/evaluate.ts): one run per target, stored like a load step
 * (`runs.load`, `load_kind` 'accuracy'), so liveness, export and the run pickers treat it as any run. Every
 * field here enters the run's comparability fingerprint: the same items (by content), shots and scoring.
 */
export interface AccuracySpec {
  kind: 'accuracy'
  /** The dataset's file or directory name (not its path: the same set elsewhere compares). */
  dataset: string
  format: 'mmlu-csv' | 'jsonl'
  split: 'dev' | 'val' | 'test'
  /** Dev examples before each item (lm-eval's first_n). */
  shots: number
  /** lm-eval task layout: `mmlu` (letters) or `mmlu-continuation` (choice texts; acc and acc_norm). */
  prompt: 'mmlu' | 'mmlu-continuation'
  /** The scoring actually used: `auto` resolved, after any fallback. */
  scoring: 'loglik' | 'generate'
  /** What the scenario asked for (`auto` may have become either). */
  requestedScoring: 'loglik' | 'generate' | 'auto'
  /** Items selected for scoring. */
  items: number
  /** sha256 (hex) of the selected items and their shots: what was asked, whatever the file is called. */
  itemsSha256: string
  /** Per-subject limit, when given. */
  limitPerSubject?: number
  /** Subjects filter, when given. */
  subjects?: string[]
  /** `first` (lm-eval's --limit) or a seeded `shuffle`. */
  order: 'first' | 'shuffle'
  seed: number
}

/**
 * A quality run (METRICS.md "Quality relative to a reference variant"; harness/quality/README.md): this
 * target's next-token distributions over a corpus against the reference target's, in llama-perplexity
 * --kl-divergence windows. Stored as the run's load (`runs.load`, `load_kind` 'quality').
 */
export interface QualitySpec {
  kind: 'quality'
  /** The corpus file's name (not its path). */
  corpus: string
  /** sha256 (hex) of the corpus bytes: what was scored, whatever the file is called. */
  corpusSha256: string
  /** The reference target's name in the scenario. */
  reference: string
  /** The reference's variant name, when it has one (a fixture manifest or a declared variant). */
  referenceVariant?: string
  /** Tokens per window (llama-perplexity -c); the second half of each is scored. */
  contextTokens: number
  /** Scored tokens asked for at most. */
  maxTokens: number
}

/**
 * A production checklist as run (`bench checklist`, harness/checklist/README.md): its items are the run's
 * metric rows (`checklist/<item>` = 1 pass, 0.5 warn, 0 fail), stored as the run's load (`load_kind`
 * 'checklist'). The load behind the latency items is described here, not stored as runs of its own.
 */
export interface ChecklistSpec {
  kind: 'checklist'
  /** Streams and measured requests of the concurrent load; requests of the sequential one before it. */
  concurrency: number
  requests: number
  sequentialRequests: number
  promptTokens: number
  outputTokens: number
  /** The rate-limit burst's bounds: requests and seconds. */
  burstRequests: number
  burstS: number
  /** The thresholds judged against (harness/checklist/thresholds.ts ChecklistThresholds). */
  thresholds: Record<string, number>
}

/**
 * One micro task (harness/micro/README.md): what one tinybench iteration does on a native engine, with no
 * HTTP, no request and no streaming. `tokenize`: the model's tokenizer over `chars` characters of seeded
 * English words. `forward`: one forward pass (evaluation) of `promptTokens` tokens from an empty context,
 * logits of the last only (llama-bench `-p P -n 0`). `prefill-decode`: the same evaluation, the next token
 * chosen greedily, then that token evaluated (one decode step) and the next chosen greedily again.
 */
export type MicroTask =
  | { kind: 'tokenize'; chars: number }
  | { kind: 'forward'; promptTokens: number }
  | { kind: 'prefill-decode'; promptTokens: number }

/** tinybench's bounds of one micro task (harness/micro/README.md "Bounds"). */
export interface MicroBounds {
  /** tinybench `time`: measured time per task; runs until this and `iterations` are both met. ms */
  timeMs: number
  /** tinybench `iterations`: measured iterations per task, at least. */
  iterations: number
  /** tinybench `warmupTime`, ms; 0 with warmupIterations 0 = no warmup. */
  warmupTimeMs: number
  /** tinybench `warmupIterations`. */
  warmupIterations: number
  /** Hard stop per task, warmup included: past it tinybench is aborted and what it measured is kept. ms */
  maxTimeMs: number
}

/**
 * A micro load as run (scenario `loads: [{ kind: 'micro', tasks, … }]`): one run per target, stored as the
 * run's load (`load_kind` 'micro'); its figures are the metric rows `micro/<task>/<stat>`.
 */
export interface MicroSpec extends MicroBounds {
  kind: 'micro'
  tasks: MicroTask[]
  /** Seed of the tokenize text and the forward passes' random token ids. */
  seed: number
}

/** What tinybench measured of one micro task (an engine's micro() answer; JSON, it crosses the isolate). */
export interface MicroTaskResult {
  task: MicroTask
  /** `tokenize-1000`, `forward-128`, `prefill-decode-128` (harness/micro/task.ts microTaskId). */
  id: string
  /** `completed`; `aborted`: maxTimeMs or the interrupt stopped tinybench, its statistics kept. */
  state: 'completed' | 'aborted'
  /** Measured iterations (tinybench latency.samplesCount), warmup excluded. */
  samples: number
  /** tinybench `latency`: per-iteration time, ms (sd: sample sd, n − 1; rme: relative margin of error at 95 %, %). */
  latencyMs: { mean: number; sd: number; p50: number; p99: number; min: number; max: number; rmePct: number }
  /** tinybench `throughput.mean`: mean over iterations of 1000 / latency, ops/s. */
  opsPerS: number
  /** Work of one iteration: characters (tokenize) or evaluated tokens (forward P; prefill-decode P + 1). */
  unitsPerOp: number
  /** tokenize: tokens the text became (the model's tokenizer, no BOS). */
  tokensPerOp?: number
  /** Wall time of the whole task, warmup and untimed resets included. ms */
  totalMs: number
}

export type { HttpLoadSpec }

/**
 * What one run measured: a load step, an accuracy evaluation, quality against a reference, a checklist,
 * micro tasks, or a raw HTTP load (`bench load`, harness/http-load/spec.ts).
 */
export type RunSpec = LoadSpec | AccuracySpec | QualitySpec | ChecklistSpec | MicroSpec | HttpLoadSpec

/** Why an item could not be scored (its error): a request failure, or an engine that cannot score at all. */
export type ItemErrorKind = RequestErrorKind | 'capability'

/**
 * One scored multiple-choice item of an accuracy run: data like a RequestOutcome, a failure included
 * (`error` set, `correct` null, left out of acc and counted in the run's item error rate).
 */
export interface ItemOutcome {
  /** 0-based position among the run's items, in scoring order. */
  seq: number
  /** `{subject}/{split}/{index}` (McItem.id): the same item in every run, so variants pair up. */
  itemId: string
  subject: string
  /** McItem.index: position in its subject and split. */
  itemIndex: number
  /** 0-based index of the right choice. */
  answer: number
  /** 0-based index of the chosen one; null when none was (an error, or a generation naming no letter). */
  predicted: number | null
  /** null on an error (not scored). */
  correct: boolean | null
  /** loglik mode: natural-log likelihood of each choice's continuation, in choice order. */
  logliks?: number[]
  /**
   * mmlu-continuation only, on scored items: the acc_norm choice, argmax of loglik / length of the choice
   * text. acc_norm counts it right when it equals `answer`.
   */
  predictedNorm?: number | null
  /** generate mode: the generated text as received. */
  generated?: string
  /** When scoring the item started, run clock ms relative to the run's origin. */
  startedAt: number
  /** How long the engine took for it, ms. */
  durationMs: number
  error?: { kind: ItemErrorKind; message: string }
}

/** Everything needed to know what a run was, written before its first request. */
export interface RunMeta {
  scenario: { name: string; description?: string; hash: string; source: unknown }
  target: { name: string; variant?: Record<string, unknown> }
  engine: EngineInfo
  /** Engine options as configured, secrets removed. */
  engineOptions: Record<string, unknown>
  load: RunSpec
  /** 0-based step when the load came from a sweep (an accuracy run: the number of load steps before it). */
  loadIndex: number
  label?: string
  /** Wall-clock ISO time of the run's clock origin. */
  startedAtIso: string
  /** Run clock value (ms) that outcome timestamps are relative to. */
  clockOrigin: number
  /** The model variant behind the target, when known (harness/environment.ts has no way to guess it). */
  variant?: VariantIdentity
  /** The machine the client (and any in-process engine) ran on: detectEnvironment(). */
  environment?: EnvironmentInfo
  /** Source revision being measured: detectGit(). */
  git?: GitInfo
  /** Groups the runs started by one `bench run` invocation. */
  invocationId?: string
}

/** A model variant: a base model or one derived from it. Stored once per distinct identity. */
export interface VariantIdentity {
  name: string
  family?: string
  method: 'base' | 'quantized' | 'pruned' | 'distilled'
  format: 'gguf' | 'onnx' | 'remote'
  /** Q4_K_M, Q8_0, AWQ-INT4, GPTQ-INT4, FP8-E4M3, INT8 … */
  quantLabel?: string
  /** Bits per weight (may be fractional for mixed quantizations). */
  bits?: number
  /** Model file size, bytes. */
  sizeBytes?: number
  /** sha256 of the model file, hex. */
  sha256?: string
  /** The variant this one was derived from. */
  parent?: VariantIdentity
}

export interface EnvironmentInfo {
  cpuModel: string
  /** Logical cores. */
  cores: number
  /** Total physical memory, bytes. */
  ramBytes: number
  /** Empty without a GPU. */
  gpus: { name: string; vramBytes?: number }[]
  /** e.g. `Linux 6.1.0-18-amd64 x64`. */
  os: string
  /** e.g. `v20.20.2`. */
  nodeVersion: string
  /** Versions of the engine packages present, e.g. `{ "node-llama-cpp": "3.21.1" }`. */
  engineVersions: Record<string, string>
}

export interface GitInfo {
  commit?: string
  branch?: string
  /** merge-base of the commit with the default (or PR base) branch. */
  mergeBase?: string
}

export type RunState = 'running' | 'completed' | 'failed' | 'interrupted'

// What an engine reports that is stored with every run. Here, not in the engine contract
// (engines/engine.ts re-exports them), so the metrics and the database read them without importing an engine.

/** A registered engine kind (engines/registry.ts: BuiltinEngineKind for the built-ins, more through registerEngine()). */
export type EngineKind = string

export interface EngineCapabilities {
  /** Can return top-k log-probabilities of generated tokens. */
  logprobs: boolean
  /** Implements scoreChoices() (log-likelihood of continuations). */
  scoreChoices: boolean
  /** Can count tokens itself (client-side tokenizer). */
  tokenize: boolean
  /** Reports its own memory use. */
  memory: boolean
  /** Supports a draft model (speculative decoding). */
  draft: boolean
  /** Implements tokenLogProbs() (full next-token distributions over a text: quality). Absent = false. */
  tokenLogProbs?: boolean
  /**
   * Implements topKLogProbs() (top-k lists at every position of a text: quality, approximate, against a
   * tokenLogProbs reference; whether a server can is found by a probe). Absent = false.
   */
  topKLogProbs?: boolean
}

/** Static facts stored with every run so results stay comparable. */
export interface EngineInfo {
  kind: EngineKind
  /** node-llama-cpp / onnxruntime version, or the server's reported version. */
  engineVersion?: string
  /** File name or served model id. */
  model: string
  /** 'cpu' | 'cuda:0' | remote host. */
  device?: string
  capabilities: EngineCapabilities
}

/** Server-side per-request timings (llama-server `timings`), kept as reported. ms unless named. */
export interface ServerTimings {
  promptN?: number
  promptMs?: number
  predictedN?: number
  predictedMs?: number
  cacheN?: number
  draftN?: number
  draftNAccepted?: number
}

/** One test (pp or tg) over its repetitions; tokens/s of repetition i = tokens / samplesNs[i] · 1e9. */
export interface NativeSpeedTest {
  /** Prompt tokens (pp) or generated tokens (tg) per repetition. */
  tokens: number
  depth: number
  /** Mean of samplesTs (llama-bench avg_ts). tokens/s */
  avgTs: number
  /** Sample standard deviation (n − 1) of samplesTs (llama-bench stddev_ts). tokens/s */
  sdTs: number
  samplesTs: number[]
  samplesNs: number[]
}

export interface NativeSpeedResult {
  pp?: NativeSpeedTest
  tg?: NativeSpeedTest
  /** Settings in effect as the native library reports them (threads, batch size, flash attention, mmap …). */
  settings: Record<string, unknown>
}
