/**
 * The mock server's own schedule error — chunk write time − its deadline, measured inside the mock's
 * thread (`mock_schedule_error_seconds`) — with many paced streams, the mock in its own worker thread, and
 * the chunk gaps this script's plain node:http client observes meanwhile. A figure to read: there is no
 * bound here, since on 2 shared vCPUs the mock alone is late by more than 1 ms at p99.
 *
 *   npm run bench:schedule [-- --json] [-- --streams 256 --tokens 50 --rounds 2 --ttft-ms 20 --itl-ms 10]
 *
 * The suite keeps only what can fail (test/io/mock-server/schedule-precision.test.ts: every chunk
 * delivered, one schedule sample per chunk); this script used to be that test's console.log.
 */
import { parseArgs } from 'node:util'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { chatBody, get, metricValue, post } from '../helpers/sse-client.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    /** Concurrent streams, each sending `rounds` requests one after another. */
    streams: { type: 'string', default: '256' },
    /** Content chunks per response (max_tokens; one token per chunk). */
    tokens: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    'ttft-ms': { type: 'string', default: '20' },
    'itl-ms': { type: 'string', default: '10' },
  },
})

/** An integer ≥ `min` from flag `name`, or a one-line error naming the flag and exit 1. */
function intFlag(name: keyof typeof args, min: number): number {
  const raw = String(args[name])
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) {
    console.error(`bench:schedule: --${name} expects an integer ≥ ${min}, got "${raw}"`)
    process.exit(1)
  }
  return value
}

const streams = intFlag('streams', 1)
const tokens = intFlag('tokens', 2)
const rounds = intFlag('rounds', 1)
const ttftMs = intFlag('ttft-ms', 0)
const itlMs = intFlag('itl-ms', 0)

/** p ∈ [0, 1] of ascending `sorted` (nearest rank below), ms. */
const at = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN

const server = await startMockServerInWorker({
  ttft: { kind: 'fixed', ms: ttftMs },
  itl: { kind: 'fixed', ms: itlMs },
})
try {
  const gapsMs: number[] = []
  let incomplete = 0
  const stream = async () => {
    for (let round = 0; round < rounds; round++) {
      const res = await post(`${server.url}/chat/completions`, chatBody({ stream: true, max_tokens: tokens }))
      const content = res.arrivedMs.filter((_, i) => res.data[i]?.includes('"content":"'))
      if (content.length !== tokens || res.data.at(-1) !== '[DONE]') incomplete++
      for (let i = 1; i < content.length; i++) gapsMs.push(content[i]! - content[i - 1]!)
    }
  }
  await Promise.all(Array.from({ length: streams }, stream))
  gapsMs.sort((a, b) => a - b)

  const metrics = (await get(server.url.replace('/v1', '/metrics'))).text
  const errorMs = (q: string) =>
    (metricValue(metrics, `mock_schedule_error_seconds{quantile="${q}"}`) ?? Number.NaN) * 1000
  const result = {
    streams,
    tokens,
    rounds,
    ttftMs,
    itlMs,
    incompleteResponses: incomplete,
    scheduleSamples: metricValue(metrics, 'mock_schedule_error_seconds_count') ?? 0,
    /** Write time − deadline inside the mock thread, ms. */
    scheduleErrorMs: {
      p50: errorMs('0.5'),
      p90: errorMs('0.9'),
      p99: errorMs('0.99'),
      p999: errorMs('0.999'),
    },
    /** Gaps between content chunks as this process's client saw them, ms (injected: itlMs). */
    clientGapMs: { p1: at(gapsMs, 0.01), p50: at(gapsMs, 0.5), p99: at(gapsMs, 0.99) },
  }
  if (args.json) console.log(JSON.stringify(result))
  else {
    const e = result.scheduleErrorMs
    const g = result.clientGapMs
    console.log(
      `mock schedule error (write − deadline, inside the mock thread), ${streams} streams × ${itlMs} ms ITL, ` +
        `${result.scheduleSamples} chunks: p50 ${e.p50.toFixed(3)} ms, p90 ${e.p90.toFixed(3)} ms, ` +
        `p99 ${e.p99.toFixed(3)} ms, p99.9 ${e.p999.toFixed(3)} ms`,
    )
    console.log(
      `client-observed chunk gaps (node:http, same process): p1 ${g.p1.toFixed(3)} ms, ` +
        `p50 ${g.p50.toFixed(3)} ms, p99 ${g.p99.toFixed(3)} ms`,
    )
    if (incomplete > 0) console.log(`${incomplete} responses missed chunks or [DONE]`)
  }
  if (incomplete > 0) process.exitCode = 1
} finally {
  await server.close()
}
