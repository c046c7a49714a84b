/**
 * One response of the mock: its chunks, written by the shared scheduler at their deadlines, and the
 * injected faults that happen mid-response (drop, malformed, stall). Chunks are built as strings (no
 * JSON.stringify per chunk) because a zero-delay mock must out-run the client it benchmarks.
 * @module
 */
import { type BatchCapacity, CapacityDeadlines } from './capacity.ts'
import { ChunkDeadlines } from './deadlines.ts'
import { answerLogprobs, appendGenerated, echoLogprobs, withTokenIds } from './mock-tokens.ts'
import type { Delay, SpeculativeOptions } from './options.ts'
import type { StreamShape } from './personality.ts'
import type { GenerationPlan } from './protocol.ts'
import type { DeadlineScheduler, ScheduledTask } from './scheduler.ts'
import type { ResponseSink } from './sink.ts'
import { responseSpeculation, type SpeculationCounts } from './speculation.ts'
import type { FaultKind, MockStats } from './stats.ts'
import { type TokenLogprobs, tokenIndex, tokenLogprobs, tokenText } from './text.ts'

export interface GenerationContext {
  scheduler: DeadlineScheduler
  stats: MockStats
  now(): number
  ttft: Delay
  itl: Delay
  tokensPerChunk: number
  /** The personality's response shape. */
  shape: StreamShape
  /** The personality's server state (metrics, prompt cache); undefined for the default personality. */
  observer: GenerationObserver | undefined
  /** Speculative-decoding counts to report (speculation.ts); undefined: none. */
  speculative?: SpeculativeOptions | undefined
  /**
   * With the answers option: for an echoed prompt, the logprob of a letter token starting at a UTF-16
   * index (the one right after the recognized item's `Answer:`), undefined elsewhere.
   */
  echoLetter?:
    | ((prompt: string) => ((token: string, at: number) => number | undefined) | undefined)
    | undefined
}

/** How a response ended, for a personality's metrics and prompt cache. Times: performance.now() ms. */
export interface GenerationEnd {
  plan: GenerationPlan
  arrivalMs: number
  /** First / last content write; undefined when no content went out. Non-streamed: first token due / body written. */
  firstMs: number | undefined
  lastMs: number | undefined
  /** Tokens sent to the client. */
  tokens: number
  /** The whole answer went out (false: client left, drop or stall fault). */
  completed: boolean
  /** Speculative-decoding counts of a completed response, with the speculative option. */
  speculation?: SpeculationCounts
}

/** A personality's view of every response (one per app, no per-request closures). */
export interface GenerationObserver {
  /** `count` content chunks went out in one write at `writtenMs`; `previousMs` = the previous write, if any. */
  onContent(writtenMs: number, previousMs: number | undefined, count: number): void
  /** Called once per accepted generation. */
  onEnd(end: GenerationEnd): void
}

/** Faults that happen after the response has started (429 and 500 are answered before). */
export type StreamFault = Extract<FaultKind, 'drop' | 'malformed' | 'stall'> | undefined

/** Content chunks written per scheduler visit when several are due at once (zero delay, catching up). */
const MAX_BATCH = 256
const batchDeadlines = new Float64Array(MAX_BATCH)

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}
const FINGERPRINT = 'bench-mock'

export interface GenerationIds {
  /** Response id, e.g. chatcmpl-mock-1-42. */
  id: string
  /** Seeds random delays. */
  delaySeed: number
  /** Unix seconds. */
  created: number
}

export class Generation implements ScheduledTask {
  deadlineMs: number
  heapIndex = -1
  heapSeq = 0
  readonly #ctx: GenerationContext
  readonly #plan: GenerationPlan
  readonly #sink: ResponseSink
  readonly #fault: StreamFault
  readonly #arrivalMs: number
  readonly #deadlines: { next(): number }
  /** The capacity model's slots: released when the response ends. */
  readonly #capacity: BatchCapacity | undefined
  readonly #chunks: number
  /** Content chunks after which a drop or malformed fault strikes. */
  readonly #faultAfter: number
  readonly #head: string
  readonly #id: string
  readonly #created: number
  readonly #delaySeed: number
  #speculation: SpeculationCounts | undefined
  #state: 'running' | 'waiting' | 'done' = 'running'
  /** Streams: headers and role chunk not sent yet. */
  #headPending = false
  /** Next content chunk to write. */
  #k = 0
  #firstDeadlineMs = 0
  #firstWriteMs: number | undefined
  #lastWriteMs: number | undefined
  /** Tokens sent so far. */
  #tokensSent = 0
  /** Non-streamed responses accumulate here. */
  #text = ''
  #logprobs: TokenLogprobs[] = []

  /**
   * `ttftScale` scales the TTFT draw (the prompt-cache model: only uncached prompt tokens cost time).
   * `capacity`: the request holds one of its slots since `admittedMs` (capacity.ts): deadlines count from
   * then, the ITL grows with the batch, and the slot is released when the response ends.
   */
  constructor(
    ctx: GenerationContext,
    plan: GenerationPlan,
    sink: ResponseSink,
    fault: StreamFault,
    arrivalMs: number,
    ids: GenerationIds,
    ttftScale = 1,
    capacity?: { model: BatchCapacity; admittedMs: number },
  ) {
    this.#ctx = ctx
    this.#plan = plan
    this.#sink = sink
    this.#fault = fault
    this.#arrivalMs = arrivalMs
    this.#id = ids.id
    this.#created = ids.created
    this.#delaySeed = ids.delaySeed
    this.#chunks = Math.ceil(plan.outputTokens / ctx.tokensPerChunk)
    this.#faultAfter = Math.ceil(this.#chunks / 2)
    this.#capacity = capacity?.model
    this.#deadlines =
      capacity === undefined
        ? new ChunkDeadlines(arrivalMs, ctx.ttft, ctx.itl, ids.delaySeed, ttftScale)
        : new CapacityDeadlines(
            capacity.admittedMs,
            ctx.ttft,
            ctx.itl,
            ids.delaySeed,
            ttftScale,
            capacity.model,
          )
    this.deadlineMs = this.#deadlines.next()
    this.#firstDeadlineMs = this.deadlineMs
    const object = plan.api === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    const fingerprint = ctx.shape.systemFingerprint ? `"system_fingerprint":"${FINGERPRINT}",` : ''
    this.#head = `data: {"id":"${this.#id}","object":"${object}","created":${this.#created},"model":${JSON.stringify(plan.model)},${fingerprint}"choices":[`
  }

  /** Queues the response: a stream's headers (and role chunk) on the next scheduler pass, then its chunks at their deadlines. */
  start(): void {
    const { stats, scheduler } = this.#ctx
    stats.streamsInFlight++
    this.#sink.onClose(this.#closed)
    if (this.#plan.stream) {
      // Headers and the role chunk go out from the scheduler's next pass, not from here: when many
      // requests arrive in one I/O burst, each handler then costs no write, so the arrival stamps of the
      // requests behind it (their TTFT origin) are taken sooner.
      this.#headPending = true
      this.deadlineMs = this.#arrivalMs
      scheduler.schedule(this)
      return
    }
    if (this.#fault === 'stall') return
    // A whole response is written once, when its last chunk (or the drop point) would have been due.
    const last = this.#fault === 'drop' ? this.#faultAfter : this.#chunks
    for (let k = 1; k < last; k++) this.deadlineMs = this.#deadlines.next()
    scheduler.schedule(this)
  }

  run(nowMs: number): void {
    if (this.#state !== 'running') return
    if (!this.#plan.stream) {
      this.#runWhole()
      return
    }
    if (this.#headPending) {
      this.#headPending = false
      const content = this.#ctx.shape.roleContent === 'null' ? 'null' : '""'
      const role =
        this.#plan.api === 'chat'
          ? `${this.#head}{"index":0,"delta":{"role":"assistant","content":${content}},"logprobs":null,"finish_reason":null}]}\n\n`
          : undefined
      this.#sink.start(200, SSE_HEADERS, true, role)
      this.deadlineMs = this.#firstDeadlineMs
      if (this.deadlineMs > nowMs) {
        this.#ctx.scheduler.schedule(this)
        return
      }
    }
    this.#runStream(nowMs)
  }

  readonly #closed = (): void => {
    if (this.#state === 'done') return
    this.#state = 'done'
    this.#ctx.scheduler.cancel(this)
    this.#ctx.stats.streamsInFlight--
    this.#ended(false)
  }

  #ended(completed: boolean): void {
    this.#capacity?.release()
    this.#ctx.observer?.onEnd({
      plan: this.#plan,
      arrivalMs: this.#arrivalMs,
      firstMs: this.#firstWriteMs,
      lastMs: this.#lastWriteMs,
      tokens: this.#tokensSent,
      completed,
      ...(completed && this.#speculationCounts() ? { speculation: this.#speculationCounts() } : {}),
    })
  }

  /** The response's speculative-decoding counts (seeded by the response), once; undefined without the option. */
  #speculationCounts(): SpeculationCounts | undefined {
    const spec = this.#ctx.speculative
    if (spec === undefined) return undefined
    this.#speculation ??= responseSpeculation(this.#plan.outputTokens, spec, this.#delaySeed)
    return this.#speculation
  }

  #runStream(nowMs: number): void {
    const { stats, tokensPerChunk } = this.#ctx
    const n = this.#plan.outputTokens
    let out = ''
    let batch = 0
    let tokens = 0
    let ending: 'finish' | 'drop' | 'stall' | undefined
    const finishOnLast = this.#ctx.shape.finishOnLastContent
    for (;;) {
      batchDeadlines[batch++] = this.deadlineMs
      const from = this.#k * tokensPerChunk
      const to = Math.min(n, from + tokensPerChunk)
      out += this.#contentEvent(from, to, finishOnLast && this.#k + 1 === this.#chunks)
      tokens += to - from
      this.#k++
      if (this.#fault === 'malformed' && this.#k === this.#faultAfter)
        out += `${this.#head}{"index":0,"delta":{"content":\n\n`
      if (this.#fault === 'drop' && this.#k === this.#faultAfter) ending = 'drop'
      else if (this.#fault === 'stall' && this.#k === 1) ending = 'stall'
      else if (this.#k === this.#chunks) ending = 'finish'
      if (ending !== undefined) break
      this.deadlineMs = this.#deadlines.next()
      if (this.deadlineMs > nowMs || batch === MAX_BATCH) break
    }
    const composedMs = this.#ctx.now()
    this.#firstWriteMs ??= composedMs
    const previousWriteMs = this.#lastWriteMs
    this.#lastWriteMs = composedMs
    this.#tokensSent += tokens
    this.#ctx.observer?.onContent(composedMs, previousWriteMs, batch)
    switch (ending) {
      case 'finish':
        this.#state = 'done'
        stats.streamsInFlight--
        this.#sink.end(out + this.#finishEvents(composedMs))
        this.#ended(true)
        break
      case 'drop':
        this.#sink.destroy(out)
        this.#closed()
        break
      case 'stall':
        // Nothing more until the client gives up; #closed then releases the slot.
        this.#sink.write(out)
        this.#state = 'waiting'
        break
      case undefined:
        if (this.#sink.write(out)) this.#ctx.scheduler.schedule(this)
        else {
          this.#state = 'waiting'
          this.#sink.onDrain(() => {
            if (this.#state !== 'waiting') return
            this.#state = 'running'
            this.#ctx.scheduler.schedule(this)
          })
        }
        break
      default: {
        const never: never = ending
        throw new Error(`unknown ending ${String(never)}`)
      }
    }
    // Measured after the write returned: the bytes are with the kernel (the sink does not hold them back).
    const writtenMs = this.#ctx.now()
    for (let i = 0; i < batch; i++) stats.recordScheduleError(writtenMs - batchDeadlines[i]!)
    stats.contentChunks += batch
    stats.tokensGenerated += tokens
  }

  #runWhole(): void {
    const { stats } = this.#ctx
    const writeMs = this.#ctx.now()
    if (this.#fault === 'drop') {
      this.#sink.destroy()
      this.#closed()
      stats.recordScheduleError(this.#ctx.now() - this.deadlineMs)
      return
    }
    const n = this.#plan.outputTokens
    const withLogprobs = this.#plan.topLogprobs !== undefined
    for (let position = 0; position < n; position++) {
      if (withLogprobs) {
        const lp = this.#tokenLogprobs(position)
        this.#logprobs.push(lp)
        this.#text += lp.token
      } else this.#text += this.#tokenText(position)
    }
    stats.contentChunks += this.#chunks
    stats.tokensGenerated += n
    let logprobs: unknown = withLogprobs ? { content: this.#logprobs } : null
    const echo = this.#plan.echo
    if (echo !== undefined) {
      // vLLM's echo: the prompt leads the text, and its tokens lead the legacy logprobs arrays.
      this.#text = echo.prompt + this.#text
      if (withLogprobs)
        logprobs = appendGenerated(
          echoLogprobs(echo.prompt, this.#plan.textKey, this.#ctx.echoLetter?.(echo.prompt)),
          this.#logprobs,
        )
    }
    const choice =
      this.#plan.api === 'chat'
        ? {
            index: 0,
            message: { role: 'assistant', content: this.#text },
            logprobs,
            finish_reason: this.#plan.finishReason,
          }
        : { index: 0, text: this.#text, logprobs, finish_reason: this.#plan.finishReason }
    const body: Record<string, unknown> = {
      id: this.#id,
      object: this.#plan.api === 'chat' ? 'chat.completion' : 'text_completion',
      created: this.#created,
      model: this.#plan.model,
      system_fingerprint: FINGERPRINT,
      choices: [choice],
      usage: this.#usage(),
    }
    const timings = this.#timings(this.#firstDeadlineMs, writeMs)
    if (timings !== undefined) body.timings = timings
    if (!this.#ctx.shape.systemFingerprint) delete body.system_fingerprint
    let json = JSON.stringify(body)
    if (this.#fault === 'malformed') json = json.slice(0, Math.floor(json.length / 2))
    this.#state = 'done'
    stats.streamsInFlight--
    this.#firstWriteMs = this.#firstDeadlineMs
    this.#lastWriteMs = writeMs
    this.#tokensSent = n
    this.#sink.start(
      200,
      { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) },
      false,
    )
    this.#sink.end(json)
    this.#ended(true)
    stats.recordScheduleError(this.#ctx.now() - this.deadlineMs)
  }

  #leadingSpace(position: number): boolean {
    return position > 0 || this.#plan.api === 'completions'
  }

  /** Token text at `position`: the answer's letter first when the answers option recognized the item. */
  #tokenText(position: number): string {
    const answer = this.#plan.answer
    if (answer !== undefined && position === 0)
      return `${answer.leadingSpace && this.#leadingSpace(0) ? ' ' : ''}${answer.letters[answer.chosen]}`
    return tokenText(tokenIndex(this.#plan.textKey, position), this.#leadingSpace(position))
  }

  #tokenLogprobs(position: number): TokenLogprobs {
    const top = this.#plan.topLogprobs ?? 0
    const answer = this.#plan.answer
    if (answer !== undefined && position === 0)
      return answerLogprobs(
        answer,
        answer.leadingSpace && this.#leadingSpace(0),
        top,
        this.#plan.tokenIds === true,
      )
    const lp = tokenLogprobs(this.#plan.textKey, position, this.#leadingSpace(position), top)
    return this.#plan.tokenIds === true ? withTokenIds(lp) : lp
  }

  /** Tokens [from, to) as one SSE event; `last` (vLLM shape) adds the finish_reason. */
  #contentEvent(from: number, to: number, last: boolean): string {
    let text = ''
    let logprobs = 'null'
    if (this.#plan.topLogprobs === undefined) {
      // The plain words inline, as before the answers option: this is the zero-delay mock's hot path.
      const answered = this.#plan.answer !== undefined
      for (let p = from; p < to; p++)
        text +=
          answered && p === 0
            ? this.#tokenText(p)
            : tokenText(tokenIndex(this.#plan.textKey, p), this.#leadingSpace(p))
    } else {
      const entries: TokenLogprobs[] = []
      for (let p = from; p < to; p++) {
        const lp = this.#tokenLogprobs(p)
        entries.push(lp)
        text += lp.token
      }
      logprobs = JSON.stringify({ content: entries })
    }
    const finish = last ? `"${this.#plan.finishReason}"` : 'null'
    // Vocabulary words are plain ASCII letters and spaces: nothing to escape.
    return this.#plan.api === 'chat'
      ? `${this.#head}{"index":0,"delta":{"content":"${text}"},"logprobs":${logprobs},"finish_reason":${finish}}]}\n\n`
      : `${this.#head}{"index":0,"text":"${text}","logprobs":${logprobs},"finish_reason":${finish}}]}\n\n`
  }

  /**
   * Finish chunk, usage (chat with include_usage: its own chunk), timings on the last one, [DONE]. vLLM
   * shape: the finish_reason went out with the last content chunk; usage only with include_usage.
   */
  #finishEvents(lastWriteMs: number): string {
    const finish = `"finish_reason":"${this.#plan.finishReason}"}]`
    const usage = `"usage":${JSON.stringify(this.#usage())}`
    const t = this.#timings(this.#firstWriteMs ?? lastWriteMs, lastWriteMs)
    const timings = t === undefined ? '' : `,"timings":${JSON.stringify(t)}`
    if (this.#ctx.shape.finishOnLastContent)
      return this.#plan.includeUsage
        ? `${this.#head}],${usage}${timings}}\n\ndata: [DONE]\n\n`
        : 'data: [DONE]\n\n'
    if (this.#plan.api === 'completions')
      return `${this.#head}{"index":0,"text":"","logprobs":null,${finish},${usage}${timings}}\n\ndata: [DONE]\n\n`
    if (this.#plan.includeUsage)
      return `${this.#head}{"index":0,"delta":{},"logprobs":null,${finish}}\n\n${this.#head}],${usage}${timings}}\n\ndata: [DONE]\n\n`
    return `${this.#head}{"index":0,"delta":{},"logprobs":null,${finish}${timings}}\n\ndata: [DONE]\n\n`
  }

  #usage() {
    const p = this.#plan
    const usage: Record<string, unknown> = {
      prompt_tokens: p.promptTokens,
      completion_tokens: p.outputTokens,
      total_tokens: p.promptTokens + p.outputTokens,
    }
    if (this.#ctx.shape.cachedTokensDetail) usage.prompt_tokens_details = { cached_tokens: p.cacheN }
    return usage
  }

  /**
   * `timings` (llama-server names), measured: prompt = arrival → first content, predicted = first → last
   * content. undefined when the personality sends none.
   */
  #timings(firstMs: number, lastMs: number) {
    const promptMs = firstMs - this.#arrivalMs
    const predictedMs = lastMs - firstMs
    const predictedN = this.#plan.outputTokens
    // What the rates divide by differs: llama-server (server-common.cpp server_slot_stats::to_json) counts
    // prompt_n without the cached tokens and its generation rates over n − 1 decode steps (the first token
    // comes from the prompt's logits); the plain mock over all tokens, with no cache.
    let cacheN: number
    let steps: number
    switch (this.#ctx.shape.timings) {
      case 'none':
        return undefined
      case 'llama-server':
        cacheN = this.#plan.cacheN
        steps = Math.max(0, predictedN - 1)
        break
      case 'mock':
        cacheN = 0
        steps = predictedN
        break
      default: {
        const never: never = this.#ctx.shape.timings
        throw new Error(`unknown timings ${String(never)}`)
      }
    }
    const promptN = this.#plan.promptTokens - cacheN
    // llama-server adds the draft counts once the slot drafted (server_slot_stats::to_json).
    const spec = this.#ctx.shape.timings === 'llama-server' ? this.#speculationCounts() : undefined
    return {
      cache_n: cacheN,
      prompt_n: promptN,
      prompt_ms: promptMs,
      prompt_per_token_ms: promptN > 0 ? promptMs / promptN : 0,
      prompt_per_second: promptMs > 0 ? (1000 * promptN) / promptMs : 0,
      predicted_n: predictedN,
      predicted_ms: predictedMs,
      predicted_per_token_ms: steps > 0 ? predictedMs / steps : 0,
      predicted_per_second: predictedMs > 0 ? (1000 * steps) / predictedMs : 0,
      ...(spec !== undefined && spec.draftTokens > 0
        ? { draft_n: spec.draftTokens, draft_n_accepted: spec.acceptedTokens }
        : {}),
    }
  }
}
