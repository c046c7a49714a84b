/**
 * `bench mock-server`: serves the built-in OpenAI-compatible mock until SIGINT/SIGTERM, for dry runs,
 * demos, CI of users' pipelines and `bench selftest` (which runs it as a child process). Its flags, and the
 * delay parser: main.ts registers the command from here; the server (actions/mock-server.ts) and the flag
 * validation (actions/mock-flags.ts, zod) are imported when the command runs.
 * @module
 */
import { type Command, InvalidArgumentError } from 'commander'
import type { Delay, Personality } from '../../mock-server/options.ts'
import { action } from '../action.ts'
import type { MockServerFlags } from '../actions/mock-flags.ts'
import { MOCK_PERSONALITIES } from '../choices.ts'

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
      `behave like a real server where they differ: ${MOCK_PERSONALITIES.join(', ')} (default default)`,
      (value: string): Personality => {
        if ((MOCK_PERSONALITIES as readonly string[]).includes(value)) return value as Personality
        throw new InvalidArgumentError(
          `--personality expects one of ${MOCK_PERSONALITIES.join(', ')}, got "${value}"`,
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
    .option(
      '--slots <n>',
      'capacity model: at most N requests generate at once, the rest wait in a FIFO queue (default: unlimited)',
      intFlag('--slots', 1),
    )
    .option(
      '--itl-growth <k>',
      'capacity model: ITL × (1 + k·(batch − 1)) (needs --slots; default 0)',
      numberFlag('--itl-growth', 0, 1000),
    )
    .option(
      '--rate-limit <r>',
      'answer 429 above r generation requests per second (token bucket)',
      numberFlag('--rate-limit', 0.001, 1e6),
    )
    .option(
      '--rate-limit-burst <n>',
      'token bucket size: requests accepted back to back (default: ceil(r), at least 1)',
      intFlag('--rate-limit-burst', 1),
    )
    .option(
      '--spec-draft-max <k>',
      'report speculative decoding as the --personality (llama-server or vllm) does: K tokens drafted per step (with --spec-acceptance)',
      intFlag('--spec-draft-max', 1),
    )
    .option(
      '--spec-acceptance <p>',
      'share of drafted tokens kept, each given the ones before it (with --spec-draft-max)',
      rateFlag('--spec-acceptance'),
    )
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
    .option(
      '--logprobs-model <file>',
      "with --personality vllm: answer /tokenize and echoed token-id completions with logprobs from this model (.gguf through llama-cpp, .onnx with the fixtures' byte vocabulary): quality through an endpoint",
    )
    .option('--json', 'print one JSON line {"url","port"} instead of the sentence')
    .action(
      action(async (flags: MockServerFlags) => (await import('../actions/mock-server.ts')).serveMock(flags)),
    )
}
