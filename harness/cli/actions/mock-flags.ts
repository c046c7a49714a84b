/**
 * `bench mock-server` flags → validated mock options (zod, through mock-server/parse-options.ts).
 * @module
 */
import { HarnessError } from '../../errors.ts'
import type { Delay, MockOptionsInput, Personality } from '../../mock-server/options.ts'
import { MockOptionsError, parseMockOptions } from '../../mock-server/parse-options.ts'

/** Schema field → the flag that sets it, so validation errors speak the CLI's language. */
const FLAG_OF_FIELD: Record<string, string> = {
  personality: '--personality',
  model: '--model',
  ttft: '--ttft',
  itl: '--itl',
  outputTokens: '--output-tokens',
  tokensPerChunk: '--tokens-per-chunk',
  seed: '--seed',
  spinWindowMs: '--spin-window',
  clientClock: '--client-clock',
  apiKey: '--api-key-env',
  capacity: '--slots',
  'capacity.slots': '--slots',
  'capacity.itlGrowth': '--itl-growth',
  rateLimit: '--rate-limit',
  'rateLimit.requestsPerS': '--rate-limit',
  'rateLimit.burst': '--rate-limit-burst',
  speculative: '--spec-draft-max',
  'speculative.draftMax': '--spec-draft-max',
  'speculative.acceptance': '--spec-acceptance',
  faults: '--fault-*',
  'faults.rate429': '--fault-429',
  'faults.rate500': '--fault-500',
  'faults.rateDrop': '--fault-drop',
  'faults.rateMalformed': '--fault-malformed',
  'faults.rateStall': '--fault-stall',
}

export interface MockServerFlags {
  host: string
  port: number
  personality?: Personality
  model?: string
  ttft?: Delay
  itl?: Delay
  outputTokens?: number
  tokensPerChunk?: number
  seed?: number
  spinWindow?: number
  clientClock?: boolean
  apiKeyEnv?: string
  slots?: number
  itlGrowth?: number
  rateLimit?: number
  rateLimitBurst?: number
  specDraftMax?: number
  specAcceptance?: number
  fault429?: number
  fault500?: number
  faultDrop?: number
  faultMalformed?: number
  faultStall?: number
  /** A model file behind the vllm personality's logprobs (harness/quality/mock-model.ts). */
  logprobsModel?: string
  json?: boolean
}

/** Flags → validated options; the API key is read from the named environment variable, never echoed. */
export function mockOptionsFromFlags(flags: MockServerFlags, env: NodeJS.ProcessEnv = process.env) {
  const input: MockOptionsInput = {
    faults: {
      rate429: flags.fault429 ?? 0,
      rate500: flags.fault500 ?? 0,
      rateDrop: flags.faultDrop ?? 0,
      rateMalformed: flags.faultMalformed ?? 0,
      rateStall: flags.faultStall ?? 0,
    },
  }
  if (flags.personality !== undefined) input.personality = flags.personality
  if (flags.model !== undefined) input.model = flags.model
  if (flags.ttft !== undefined) input.ttft = flags.ttft
  if (flags.itl !== undefined) input.itl = flags.itl
  if (flags.outputTokens !== undefined) input.outputTokens = flags.outputTokens
  if (flags.tokensPerChunk !== undefined) input.tokensPerChunk = flags.tokensPerChunk
  if (flags.seed !== undefined) input.seed = flags.seed
  if (flags.spinWindow !== undefined) input.spinWindowMs = flags.spinWindow
  if (flags.clientClock === true) input.clientClock = true
  if (flags.itlGrowth !== undefined && flags.slots === undefined)
    throw new HarnessError('--itl-growth needs --slots (the batch it grows with); add --slots N')
  if (flags.slots !== undefined)
    input.capacity = {
      slots: flags.slots,
      ...(flags.itlGrowth !== undefined ? { itlGrowth: flags.itlGrowth } : {}),
    }
  if (flags.rateLimitBurst !== undefined && flags.rateLimit === undefined)
    throw new HarnessError('--rate-limit-burst needs --rate-limit (the refill rate); add --rate-limit R')
  if (flags.rateLimit !== undefined)
    input.rateLimit = {
      requestsPerS: flags.rateLimit,
      ...(flags.rateLimitBurst !== undefined ? { burst: flags.rateLimitBurst } : {}),
    }
  if ((flags.specDraftMax === undefined) !== (flags.specAcceptance === undefined))
    throw new HarnessError(
      '--spec-draft-max and --spec-acceptance go together (draft length K and the share kept); give both',
    )
  if (flags.specDraftMax !== undefined && flags.specAcceptance !== undefined)
    input.speculative = { draftMax: flags.specDraftMax, acceptance: flags.specAcceptance }
  if (flags.apiKeyEnv !== undefined) {
    const key = env[flags.apiKeyEnv]
    if (!key)
      throw new HarnessError(`--api-key-env: the environment variable ${flags.apiKeyEnv} is not set or empty`)
    input.apiKey = key
  }
  try {
    return parseMockOptions(input)
  } catch (err) {
    if (!(err instanceof MockOptionsError)) throw err
    const lines = err.issues.map((i) => `  - ${FLAG_OF_FIELD[i.path] ?? i.path}: ${i.message}`)
    throw new HarnessError(`invalid mock server flags:\n${lines.join('\n')}`)
  }
}
