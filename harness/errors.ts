/**
 * Error classes of the harness. Three kinds of failure are handled differently:
 * configuration errors stop before a run starts (ScenarioError, all problems at once); per-request
 * failures are data (RequestError → a recorded `error` outcome); engine/infra failures abort a target
 * (EngineStartError) and carry what reproduces them.
 * @module
 */

export class HarnessError extends Error {
  override name = 'HarnessError'
}

export interface ConfigIssue {
  /** Dotted path into the scenario, e.g. `targets[0].engine.model`. */
  path: string
  message: string
}

export class ScenarioError extends HarnessError {
  override name = 'ScenarioError'
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `Scenario ${source} is invalid:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    )
  }
}

export class EngineStartError extends HarnessError {
  override name = 'EngineStartError'
  constructor(
    readonly engine: string,
    readonly model: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${engine} engine could not start model "${model}": ${message}`, options)
  }
}

/** Why a request failed; the discriminator of error outcomes (METRICS.md `state`). */
export type RequestErrorKind = 'timeout' | 'http' | 'stream' | 'engine' | 'crash' | 'aborted'

/** Thrown by engines from generate(); the runner turns it into an `error` outcome. */
export class RequestError extends HarnessError {
  override name = 'RequestError'
  constructor(
    readonly kind: RequestErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** What an accuracy or quality measurement asks of an engine beyond generate(). */
export type ScoringCapability = 'scoreChoices' | 'topLogprobs' | 'topKLogProbs'

/**
 * The engine cannot do this at all, as opposed to one request failing: an endpoint that returns no prompt
 * logprobs (llama-server, llama.cpp #27174) asked to score choices. Thrown by the first call; callers
 * fall back (`scoring: 'auto'` → generate mode) or refuse the measurement with `message`, which says what
 * the endpoint lacks and what would work. A score must never sit at chance because logprobs were missing.
 */
export class CapabilityError extends HarnessError {
  override name = 'CapabilityError'
  constructor(
    readonly capability: ScoringCapability,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Normalizes anything thrown into an Error, once, at an adapter edge. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value
  return new Error(typeof value === 'string' ? value : JSON.stringify(value))
}
