/**
 * `bench mock-server`: serves the built-in OpenAI-compatible mock until SIGINT/SIGTERM, for dry runs,
 * demos, CI of users' pipelines and `bench selftest` (which runs it as a child process).
 * @module
 */
import { type Command, InvalidArgumentError } from 'commander'
import { HarnessError } from '../../errors.ts'
import {
  type Delay,
  type MockOptionsInput,
  PERSONALITIES,
  type Personality,
} from '../../mock-server/options.ts'
import { MockOptionsError, parseMockOptions } from '../../mock-server/parse-options.ts'
import { startMockServer } from '../../mock-server/server.ts'
import { action } from '../action.ts'

const DELAY_FORMS = 'fixed:MS, uniform:MIN-MAX or lognormal:MEDIAN,SIGMA (milliseconds), e.g. fixed:20'
const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`
const DELAY_PATTERNS = {
  fixed: new RegExp(`^fixed:${NUMBER}$`),
  uniform: new RegExp(`^uniform:${NUMBER}-${NUMBER}$`),
  lognormal: new RegExp(`^lognormal:${NUMBER},${NUMBER}$`),
}

/**
 * Parses a delay flag: `fixed:20`, `uniform:10-30` (min-max ms), `lognormal:20,0.5` (median ms, sigma).
 * Throws InvalidArgumentError naming `flag` and the accepted forms.
 */
export function parseDelaySpec(spec: string, flag = '--ttft/--itl'): Delay {
  const s = spec.trim()
  const bad = (why: string) =>
    new InvalidArgumentError(`${flag}: ${why} in "${spec}"; accepted forms: ${DELAY_FORMS}`)
  let m = DELAY_PATTERNS.fixed.exec(s)
  if (m) return { kind: 'fixed', ms: Number(m[1]) }
  m = DELAY_PATTERNS.uniform.exec(s)
  if (m) {
    const minMs = Number(m[1])
    const maxMs = Number(m[2])
    if (maxMs < minMs) throw bad(`the maximum (${maxMs}) is below the minimum (${minMs})`)
    return { kind: 'uniform', minMs, maxMs }
  }
  m = DELAY_PATTERNS.lognormal.exec(s)
  if (m) {
    const medianMs = Number(m[1])
    if (medianMs <= 0) throw bad('the median must be > 0')
    return { kind: 'lognormal', medianMs, sigma: Number(m[2]) }
  }
  throw bad('not a delay')
}

function intFlag(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} expects an integer in [${min}, ${max}], got "${value}"`)
    return n
  }
}

function numberFlag(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} expects a number in [${min}, ${max}], got "${value}"`)
    return n
  }
}

function rateFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(`${flag} expects a fraction of requests in [0, 1], got "${value}"`)
    return n
  }
}

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
  faults: '--fault-*',
  'faults.rate429': '--fault-429',
  'faults.rate500': '--fault-500',
  'faults.rateDrop': '--fault-drop',
  'faults.rateMalformed': '--fault-malformed',
  'faults.rateStall': '--fault-stall',
}

interface MockServerFlags {
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
  fault429?: number
  fault500?: number
  faultDrop?: number
  faultMalformed?: number
  faultStall?: number
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

export function registerMockServerCommand(program: Command): void {
  program
    .command('mock-server')
    .description(
      'serve the built-in OpenAI-compatible mock (seeded delays, injected faults) until interrupted',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', intFlag('--port', 0, 65535), 8000)
    .option(
      '--personality <name>',
      `behave like a real server where they differ: ${PERSONALITIES.join(', ')} (default default)`,
      (value: string): Personality => {
        if ((PERSONALITIES as readonly string[]).includes(value)) return value as Personality
        throw new InvalidArgumentError(
          `--personality expects one of ${PERSONALITIES.join(', ')}, got "${value}"`,
        )
      },
    )
    .option('--model <id>', 'served model id (default mock-model)')
    .option('--ttft <spec>', `time to first content chunk: ${DELAY_FORMS} (default fixed:20)`, (v) =>
      parseDelaySpec(v, '--ttft'),
    )
    .option('--itl <spec>', `time between content chunks, same forms (default fixed:5)`, (v) =>
      parseDelaySpec(v, '--itl'),
    )
    .option(
      '--output-tokens <n>',
      'tokens when a request sets no max_tokens (default 16)',
      intFlag('--output-tokens', 1),
    )
    .option(
      '--tokens-per-chunk <n>',
      'tokens per content chunk (default 1)',
      intFlag('--tokens-per-chunk', 1),
    )
    .option(
      '--seed <n>',
      'seed of delays, faults, text and logprobs (default 1)',
      intFlag('--seed', -(2 ** 31)),
    )
    .option(
      '--spin-window <ms>',
      'poll for the last MS before each chunk deadline: precise to tens of µs, costs CPU; 0 = timers only, ~1 ms (default 2)',
      numberFlag('--spin-window', 0, 20),
    )
    .option(
      '--client-clock',
      "count delays from the client's x-bench-sent-at send stamp (a harness on this machine with sendTimeHeader)",
    )
    .option('--api-key-env <name>', 'require the API key held in this environment variable')
    .option('--fault-429 <rate>', 'fraction of requests answered 429', rateFlag('--fault-429'))
    .option('--fault-500 <rate>', 'fraction of requests answered 500', rateFlag('--fault-500'))
    .option(
      '--fault-drop <rate>',
      'fraction of responses whose connection is dropped halfway',
      rateFlag('--fault-drop'),
    )
    .option(
      '--fault-malformed <rate>',
      'fraction of streams with one invalid JSON event',
      rateFlag('--fault-malformed'),
    )
    .option(
      '--fault-stall <rate>',
      'fraction of streams that stop after the first chunk',
      rateFlag('--fault-stall'),
    )
    .option('--json', 'print one JSON line {"url","port"} instead of the sentence')
    .action(
      action(async (flags: MockServerFlags) => {
        const options = mockOptionsFromFlags(flags)
        const server = await startMockServer(options, { host: flags.host, port: flags.port })
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ url: server.url, port: server.port })}\n`
            : `mock server listening on ${server.url}\n`,
        )
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          const stop = (received: NodeJS.Signals) => {
            process.off('SIGINT', stop)
            process.off('SIGTERM', stop)
            resolve(received)
          }
          process.on('SIGINT', stop)
          process.on('SIGTERM', stop)
        })
        await server.close()
        if (!flags.json) process.stderr.write(`mock server stopped (${signal})\n`)
        return 0
      }),
    )
}
