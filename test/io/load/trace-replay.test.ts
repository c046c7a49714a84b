/**
 * Issue 18's "must show": a 200-line Mooncake-style trace replayed at 10× against the built-in mock (loopback
 * only) sends every request within a few ms of its scaled timestamp, in order, with the line's lengths, and
 * the run reports its schedule lag. The trace is generated from a seed (test/fixtures/traces/generate.ts).
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import type { OkOutcome } from '../../../harness/results.ts'
import { runScenario } from '../../../harness/runner.ts'
import { generateTrace, toJsonl } from '../../fixtures/traces/generate.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

/** Issue 18 asks "within a few ms"; a quiet 2-core box meets 5 ms, 20 ms leaves room for other suites. */
const LAG_P99_BOUND_MS = 20

/**
 * How long the OS kept this process off the CPU: a worker thread sleeps 1 ms at a time and keeps the
 * worst lateness it saw. Its own event loop does nothing else, so only descheduling (other jobs loading
 * the box: load averages of 13–15 on 2 cores were seen while this was written) makes it late; the runner's
 * own work on the main thread does not. No executor can send while the process is not running.
 */
function startStallProbe(): { stop(): Promise<number> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads')
     let worst = 0, stopped = false
     parentPort.on('message', () => { stopped = true; parentPort.postMessage(worst) })
     const tick = () => { const t = performance.now(); setTimeout(() => {
       worst = Math.max(worst, performance.now() - t - 1); if (!stopped) tick() }, 1) }
     tick()`,
    { eval: true },
  )
  return {
    async stop() {
      const worst = new Promise<number>((resolve) => worker.once('message', resolve))
      worker.postMessage('stop')
      const ms = await worst
      await worker.terminate()
      return ms
    },
  }
}

describe('trace replay against the mock', () => {
  it('sends 200 lines at 10× on their scaled timestamps, in order, with their lengths', async () => {
    // ~40 s recorded (200 ms mean gap) → ~4 s at 10×.
    const lines = generateTrace({ seed: 18, lines: 200, meanGapMs: 200, input: [8, 64], output: [2, 8] })
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-trace-io-'))
    await writeFile(path.join(dir, 'trace.jsonl'), toJsonl(lines))
    const scenario = parseScenario({
      name: 'trace-replay',
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            mock: { ttft: { kind: 'fixed', ms: 5 }, itl: { kind: 'fixed', ms: 2 } },
          },
        },
      ],
      loads: [{ kind: 'trace', path: 'trace.jsonl', timeScale: 10 }],
      warmupRequests: 2,
    })
    const sink = createMemorySink()
    const probe = startStallProbe()
    const result = await runScenario({ scenario, baseDir: dir, sink })
    const stallMs = await probe.stop()
    expect(result.state, 'scenario state').toBe('completed')
    const run = sink.runs[0]
    expect(run?.meta.load, 'stored spec').toEqual({
      kind: 'trace',
      path: 'trace.jsonl',
      timeScale: 10,
      hashBlockTokens: 512,
      maxLines: 10_000,
      maxDurationS: 600,
    })
    const outcomes = (run?.outcomes ?? []).slice().sort((a, b) => a.seq - b.seq)
    expect(outcomes, 'one request per line').toHaveLength(200)
    expect(
      outcomes.map((o) => o.promptIndex),
      'line i is request i',
    ).toEqual(lines.map((_, i) => i))
    expect(
      outcomes.filter((o) => o.state !== 'ok').map((o) => o.error),
      'no errors',
    ).toEqual([])
    const ok = outcomes as OkOutcome[]
    // The mock counts whitespace-separated words: the prompt had the line's input_length words.
    expect(
      ok.map((o) => [o.promptTokens, o.outputTokens]),
      'lengths from the trace',
    ).toEqual(lines.map((l) => [l.input_length, l.output_length]))
    const origin = ok[0]?.scheduledAt ?? 0
    ok.forEach((o, i) => {
      const intended = (lines[i]?.timestamp ?? 0) / 10
      expect(o.scheduledAt - origin, `request ${i} scheduled at its scaled timestamp`).toBeCloseTo(
        intended,
        6,
      )
    })
    const lags = ok.map((o) => o.startedAt - o.scheduledAt)
    expect(Math.min(...lags), 'never early').toBeGreaterThanOrEqual(0)
    const lag = run?.metrics?.scheduleLagMs
    expect(lag?.n, 'lag over every request').toBe(200)
    console.info(
      `trace replay 200 lines ×10: schedule lag p50 ${lag?.p50.toFixed(2)} ms, p99 ${lag?.p99.toFixed(2)} ms, max ${lag?.max.toFixed(2)} ms; worst stall of the process ${stallMs.toFixed(1)} ms`,
    )
    expect(lag?.p50, 'schedule lag p50, ms').toBeLessThanOrEqual(5)
    // On a quiet box the stall is ~1 ms and the bound 20 ms; a stall the OS imposed is added, not hidden.
    expect(lag?.p99, 'schedule lag p99, ms').toBeLessThanOrEqual(LAG_P99_BOUND_MS + stallMs)
  }, 30_000)

  it('refuses a trace above maxLines before any run starts, naming the field', async () => {
    const lines = generateTrace({ seed: 1, lines: 30, meanGapMs: 10, input: [1, 2], output: [1, 2] })
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-trace-io-'))
    await writeFile(path.join(dir, 'trace.jsonl'), toJsonl(lines))
    const scenario = parseScenario({
      name: 'trace-refused',
      targets: [{ name: 'mock', engine: { kind: 'openai', model: 'm', mock: {} } }],
      loads: [
        { kind: 'sequential', requests: 1 },
        { kind: 'trace', path: 'trace.jsonl', maxLines: 20 },
      ],
      prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 2 },
    })
    const sink = createMemorySink()
    await expect(runScenario({ scenario, baseDir: dir, sink }), 'refused').rejects.toThrow(
      /loads\[1\]\.maxLines: the trace replays 30 lines, more than maxLines 20/,
    )
    expect(sink.runs, 'no run started').toEqual([])
  })
})
