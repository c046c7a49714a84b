/**
 * The openai engine's clients against a real llama-server, next to an independent raw-socket client:
 * for `--parallel 1` (sequential) and `--parallel 4` (concurrency 4) on the bench Q4_0 fixture, `--runs`
 * consecutive rounds; in each round, per client, the raw client's run right before the harness's run, both
 * over the same `--requests` prompts with the server's prompt cache off for them (`cache_prompt: false`). Prints errors (transport and other), connection retries,
 * prompt-cache hits, TTFT p50 of both and their difference, and the server's own prompt and per-token times.
 *
 *   npm run -s bench:real-server [-- --json --runs 3 --requests 60]
 *
 * Needs the llama.cpp tools built by test/real-server/build-llama-cpp.sh.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseScenario } from '../../harness/config/index.ts'
import { API_PATHS, buildRequestBody, OPENAI_CLIENTS } from '../../harness/engines/openai/openai.ts'
import { percentile } from '../../harness/metrics/percentile.ts'
import { syntheticPromptSource } from '../../harness/prompts/index.ts'
import { runScenario } from '../../harness/runner.ts'
import { benchModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'
import { startLlamaServer } from '../real-server/llama-server.ts'
import { runRawClient } from '../real-server/raw-client.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '60' },
    // Words. One keeps the server's prompt time (~4 ms) and so its run-to-run wobble small: with 8 words
    // (~40 ms) the server's own prompt_ms moved ±3 ms between consecutive runs of the same prompts, more
    // than the client difference under test.
    'prompt-tokens': { type: 'string', default: '1' },
    'output-tokens': { type: 'string', default: '16' },
  },
})
const runs = Number(args.runs)
const requests = Number(args.requests)
const promptTokens = Number(args['prompt-tokens'])
const outputTokens = Number(args['output-tokens'])
const log = args.json ? () => {} : (line: string) => console.error(line)

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found) {
  console.error(`bench:real-server: ${tool.reason}`)
  process.exit(1)
}
const model = (await benchModels()).path('bench-q4_0')
const median = (values: number[]) =>
  values.length === 0
    ? Number.NaN
    : percentile(
        [...values].sort((a, b) => a - b),
        50,
      )
const round3 = (v: number) => Math.round(v * 1000) / 1000

/** llama-server's per-request switch for its prompt cache. */
const NO_CACHE = { cache_prompt: false }
const scratch = mkdtempSync(join(tmpdir(), 'bench-real-server-'))
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }))

const levels = []
for (const parallel of [1, 4]) {
  const server = await startLlamaServer({ binary: tool.path, model, parallel })
  const concurrency = parallel
  const load =
    parallel === 1 ? { kind: 'sequential', requests } : { kind: 'concurrent', concurrency, requests }
  const rows = []
  try {
    for (let round = 1; round <= runs; round++) {
      for (const client of OPENAI_CLIENTS) {
        // The same prompts for both, with llama-server's prompt cache off for these requests
        // (cache_prompt: false), so the two TTFTs differ only by the client: the raw reference right before.
        const source = syntheticPromptSource({ promptTokens, outputTokens, seed: 42 })
        const prompts = Array.from({ length: requests }, (_, k) =>
          source.at(k, round * 1000 + OPENAI_CLIENTS.indexOf(client)),
        )
        const promptFile = join(scratch, `prompts-${parallel}-${round}-${client}.jsonl`)
        writeFileSync(promptFile, prompts.map((p) => JSON.stringify({ prompt: p.prompt })).join('\n'))
        const bodies = prompts.map((p) => {
          const request = {
            prompt: p.prompt,
            maxTokens: outputTokens,
            minTokens: outputTokens,
            ignoreEos: true,
            sampling: { temperature: 0 },
          }
          return JSON.stringify(buildRequestBody('completions', 'bench-q4_0', request, NO_CACHE))
        })
        const raw = await runRawClient({ url: `${server.url}${API_PATHS.completions}`, bodies, concurrency })
        const sink = createMemorySink()
        const scenario = parseScenario({
          name: 'real-llama-server',
          prompts: { kind: 'jsonl', path: promptFile, outputTokens },
          targets: [
            {
              name: client,
              engine: {
                kind: 'openai',
                baseUrl: server.url,
                model: 'bench-q4_0',
                api: 'completions',
                client,
                extraBody: NO_CACHE,
              },
            },
          ],
          loads: [load],
          warmupRequests: 0,
          requestTimeoutMs: 30_000,
          fixedOutputLength: true,
          sampling: { temperature: 0 },
          seed: 42,
          maxErrorRate: 1,
        })
        await runScenario({ scenario, baseDir: ROOT, sink })
        const run = sink.runs[0]!
        const m = run.metrics!
        const errors = run.outcomes.flatMap((o) => (o.state === 'error' ? [o.error] : []))
        const ttft = run.outcomes.flatMap((o) => (o.state === 'ok' ? [o.ttftMs] : []))
        const row = {
          round,
          client,
          ok: m.ok,
          errors: errors.length,
          // Before the response: what a lost connection looks like (http without a status).
          transportErrors: errors.filter((e) => e.kind === 'http' && e.status === undefined).length,
          connectionRetries: m.connectionRetries ?? 0,
          promptCacheHits: m.promptCacheHits ?? 0,
          harnessTtftP50Ms: round3(median(ttft)),
          rawTtftP50Ms: round3(median(raw.ttftMs)),
          ttftP50DiffMs: round3(median(ttft) - median(raw.ttftMs)),
          rawErrors: raw.errors.length,
          serverPromptMsP50: round3(m.serverPromptMs?.p50 ?? Number.NaN),
          ttftOverServerMsP50: round3(m.ttftOverServerMs?.p50 ?? Number.NaN),
          rawTtftOverServerMsP50: round3(median(raw.ttftOverServerMs)),
          overServerP50DiffMs: round3((m.ttftOverServerMs?.p50 ?? Number.NaN) - median(raw.ttftOverServerMs)),
          tpotMsP50: round3(m.tpotMs?.p50 ?? Number.NaN),
          serverTpotMsP50: round3(m.serverTpotMs?.p50 ?? Number.NaN),
        }
        rows.push(row)
        log(
          `np ${parallel} round ${round} ${client.padEnd(6)} ok ${row.ok} errors ${row.errors} (transport ${row.transportErrors}) retries ${row.connectionRetries} cache hits ${row.promptCacheHits} | TTFT p50 harness ${row.harnessTtftP50Ms} raw ${row.rawTtftP50Ms} diff ${row.ttftP50DiffMs} ms; over server ${row.ttftOverServerMsP50} raw ${row.rawTtftOverServerMsP50} diff ${row.overServerP50DiffMs} | server prompt ${row.serverPromptMsP50} ms, TPOT ${row.tpotMsP50} vs server ${row.serverTpotMsP50} ms`,
        )
      }
    }
  } finally {
    await server.close()
  }
  levels.push({ parallel, load: load.kind, requests, rows })
}
if (args.json)
  console.log(JSON.stringify({ model: 'bench-q4_0', promptTokens, outputTokens, levels }, null, 2))
