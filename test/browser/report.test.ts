/**
 * `bench report` end to end: runs seeded into PGlite through the real sink (two invocations of a quantized
 * variant with latency, accuracy and quality runs, a remote endpoint whose target name is markup, a second
 * machine), the real CLI writing the report, and the file opened in Chromium with the network off and every
 * request that is not the file refused: every chart canvas is inked, the variant table shows the seeded
 * figures, only the latest invocation is selected, nothing hostile runs. Bad input exits 1 with one line.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatBytes, formatNumber } from '../../dashboard/views/format.ts'
import { createDb } from '../../db/client.ts'
import { createPostgresSink } from '../../db/sink.ts'
import type { EngineInfo } from '../../harness/engines/engine.ts'
import { summarizeRun } from '../../harness/metrics/run.ts'
import type { MetricRow, RunMetrics } from '../../harness/metrics/types.ts'
import type {
  EnvironmentInfo,
  RequestOutcome,
  RunMeta,
  RunSpec,
  VariantIdentity,
} from '../../harness/results.ts'
import {
  type Browser,
  canvasInk,
  hasChromium,
  inChromium,
  launchBrowser,
  SCREENSHOTS,
} from '../helpers/browser.ts'
import { runCli } from '../helpers/cli.ts'
import { freshPgliteDir, removeTestDir } from '../helpers/db.ts'

const HOSTILE = '<img src=x onerror=alert(1)>'
const MB = 1024 * 1024

const cpuBox: EnvironmentInfo = {
  cpuModel: 'Report CPU 3.0GHz',
  cores: 2,
  ramBytes: 16 * 1024 ** 3,
  gpus: [],
  os: 'Linux test x64',
  nodeVersion: 'v20.20.2',
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}
const gpuBox: EnvironmentInfo = {
  ...cpuBox,
  cpuModel: 'Serving CPU',
  cores: 32,
  gpus: [{ name: 'Report GPU 48GB', vramBytes: 48 * 1024 ** 3 }],
  engineVersions: {},
}
const q8: VariantIdentity = {
  name: 'tiny',
  method: 'quantized',
  format: 'gguf',
  quantLabel: 'Q8_0',
  bits: 8.5,
  sizeBytes: 33 * MB,
  sha256: 'd'.repeat(64),
}
const llama: EngineInfo = {
  kind: 'llama-cpp',
  engineVersion: '3.21.1',
  model: 'tiny-q8.gguf',
  capabilities: { logprobs: true, scoreChoices: true, tokenize: true, memory: true, draft: true },
}
const remote: EngineInfo = {
  kind: 'openai',
  engineVersion: 'vllm-0.9',
  model: 'remote-model',
  capabilities: { logprobs: true, scoreChoices: false, tokenize: false, memory: false, draft: false },
}

/** Closed-loop requests with TTFTs ttftMs, ttftMs + 1 … and one gap per token: figures known in advance. */
function outcomes(ttftMs: number, gapMs: number, n = 24): RequestOutcome[] {
  return Array.from({ length: n }, (_, seq): RequestOutcome => {
    const ttft = ttftMs + (seq % 8)
    const outputTokens = 16 + (seq % 4)
    const gaps = Array.from({ length: outputTokens - 1 }, (_, k) => gapMs + (k % 3) * 0.5)
    const startedAt = seq * 60
    return {
      state: 'ok',
      seq,
      promptIndex: seq,
      scheduledAt: startedAt,
      startedAt,
      ttftMs: ttft,
      e2eMs: ttft + gaps.reduce((a, b) => a + b, 0),
      chunkGapsMs: gaps,
      chunks: outputTokens,
      promptTokens: 64,
      outputTokens,
      tokensSource: 'server',
      finishReason: 'length',
    }
  })
}

const accuracyLoad: RunSpec = {
  kind: 'accuracy',
  dataset: 'mmlu-sample',
  format: 'mmlu-csv',
  split: 'test',
  shots: 5,
  prompt: 'mmlu',
  scoring: 'loglik',
  requestedScoring: 'loglik',
  items: 200,
  itemsSha256: 'e'.repeat(64),
  order: 'first',
  seed: 1,
}
const qualityLoad: RunSpec = {
  kind: 'quality',
  corpus: 'corpus.txt',
  corpusSha256: 'f'.repeat(64),
  reference: 'tiny-f32',
  contextTokens: 512,
  maxTokens: 2048,
}
const metric = (name: string, value: number, unit: string, direction: MetricRow['direction']): MetricRow => ({
  name,
  value,
  unit,
  direction,
  n: 200,
})

interface Seeded {
  /** Latency figures of the latest tiny-q8 invocation: its sequential, then concurrent run. */
  q8: RunMetrics[]
  remote: RunMetrics
  latestRuns: number[]
  olderRun: number
}

async function seed(dataDir: string): Promise<Seeded> {
  const db = await createDb({ dataDir })
  const sink = createPostgresSink(db, { flushIntervalMs: 10 })
  const ids: number[] = []
  const write = async (o: {
    target: string
    engine: EngineInfo
    environment: EnvironmentInfo
    variant?: VariantIdentity
    invocation: string
    at: string
    load: RunSpec
    loadIndex: number
    requests?: RequestOutcome[]
    metrics: RunMetrics | MetricRow[]
  }): Promise<number> => {
    const meta: RunMeta = {
      scenario: { name: 'report-chat', hash: 'hash-report-chat', source: { name: 'report-chat' } },
      target: { name: o.target },
      engine: o.engine,
      engineOptions: { kind: o.engine.kind, model: o.engine.model },
      load: o.load,
      loadIndex: o.loadIndex,
      startedAtIso: o.at,
      clockOrigin: 0,
      environment: o.environment,
      git: { commit: 'a1b2c3d4'.padEnd(40, '0'), branch: 'main' },
      invocationId: o.invocation,
      ...(o.variant ? { variant: o.variant } : {}),
    }
    const recorder = await sink.startRun(meta)
    for (const r of o.requests ?? []) recorder.record(r)
    await recorder.finish('completed', o.metrics)
    const id = Number(recorder.runId)
    ids.push(id)
    return id
  }
  const latency = (requests: RequestOutcome[], peakRssBytes?: number): RunMetrics => ({
    ...summarizeRun(requests, {}),
    ...(peakRssBytes !== undefined ? { peakRssBytes, peakRssSamplesN: 50 } : {}),
  })
  try {
    const q8Target = { target: 'tiny-q8', engine: llama, environment: cpuBox, variant: q8 }
    // An older invocation: slower, and never in a --scenario report.
    const older = outcomes(90, 9)
    const olderRun = await write({
      ...q8Target,
      invocation: 'inv-old',
      at: '2026-11-01T10:00:00Z',
      load: { kind: 'sequential', requests: 24 },
      loadIndex: 0,
      requests: older,
      metrics: latency(older, 150 * MB),
    })
    const sequential = outcomes(30, 3)
    const concurrent = outcomes(45, 2)
    const q8Metrics = [latency(sequential, 180 * MB), latency(concurrent, 210 * MB)]
    const latestRuns = [
      await write({
        ...q8Target,
        invocation: 'inv-new',
        at: '2026-11-02T10:00:00Z',
        load: { kind: 'sequential', requests: 24 },
        loadIndex: 0,
        requests: sequential,
        metrics: q8Metrics[0]!,
      }),
      await write({
        ...q8Target,
        invocation: 'inv-new',
        at: '2026-11-02T10:01:00Z',
        load: { kind: 'concurrent', concurrency: 4, requests: 24 },
        loadIndex: 1,
        requests: concurrent,
        metrics: q8Metrics[1]!,
      }),
      await write({
        ...q8Target,
        invocation: 'inv-new',
        at: '2026-11-02T10:02:00Z',
        load: accuracyLoad,
        loadIndex: 2,
        metrics: [metric('acc', 0.41, 'ratio', 'higher'), metric('accStderr', 0.035, 'ratio', 'none')],
      }),
      await write({
        ...q8Target,
        invocation: 'inv-new',
        at: '2026-11-02T10:03:00Z',
        load: qualityLoad,
        loadIndex: 3,
        metrics: [
          metric('klDivergence', 0.0123, 'nats', 'lower'),
          metric('klDivergenceSe', 0.0011, 'nats', 'none'),
          metric('top1Agreement', 0.93, 'ratio', 'higher'),
        ],
      }),
    ]
    const remoteRequests = outcomes(20, 1.5)
    const remoteMetrics = latency(remoteRequests)
    latestRuns.push(
      await write({
        target: HOSTILE,
        engine: remote,
        environment: gpuBox,
        invocation: 'inv-new',
        at: '2026-11-02T10:04:00Z',
        load: { kind: 'concurrent', concurrency: 4, requests: 24 },
        loadIndex: 1,
        requests: remoteRequests,
        metrics: remoteMetrics,
      }),
    )
    return { q8: q8Metrics, remote: remoteMetrics, latestRuns, olderRun }
  } finally {
    await sink.close()
    await db.close()
  }
}

describe.skipIf(!hasChromium)(inChromium('bench report'), () => {
  let dataDir: string
  let outDir: string
  let seeded: Seeded
  let browser: Browser

  beforeAll(async () => {
    dataDir = await freshPgliteDir()
    outDir = mkdtempSync(path.join(os.tmpdir(), 'bench-report-'))
    ;[seeded, browser] = await Promise.all([seed(dataDir), launchBrowser()])
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    if (dataDir) removeTestDir(dataDir)
    if (outDir) rmSync(outDir, { recursive: true, force: true })
  })

  it('writes one file (0600) that draws every chart offline and shows the seeded figures', async () => {
    const out = path.join(outDir, 'report.html')
    // An existing, readable file is replaced by a private one.
    writeFileSync(out, 'old')
    chmodSync(out, 0o644)
    const cli = await runCli(['report', '--scenario', 'report-chat', '--db', dataDir, '--out', out])
    expect(cli.stderr, 'stderr').toMatch(
      /^report: 5 runs, 2 targets written to .*report\.html \(\d+ KiB\)\n$/,
    )
    expect(cli.code, cli.stderr).toBe(0)
    expect(statSync(out).mode & 0o777, 'file mode').toBe(0o600)

    const fileUrl = pathToFileURL(out).href
    const requested: string[] = []
    const refused: string[] = []
    await browser.context.setOffline(true)
    await browser.context.route('**/*', (route) => {
      const url = route.request().url()
      if (url === fileUrl) return route.continue()
      refused.push(url)
      return route.abort()
    })
    browser.context.on('request', (r) => requested.push(r.url()))
    const dialogs: string[] = []
    browser.context.on('dialog', (d) => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    const { page, problems } = await browser.visit(fileUrl)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'report.png'), fullPage: true })
    expect(problems, 'console errors (a CSP refusal is one) and failed requests').toEqual([])
    expect(requested, 'the only request is the file itself').toEqual([fileUrl])
    expect(refused).toEqual([])
    expect(dialogs, 'no script from a target name ran').toEqual([])
    expect(
      await page.evaluate('document.querySelectorAll("img").length'),
      'no <img> from a target name',
    ).toBe(0)

    // Pareto (throughput vs TTFT, vs accuracy) and both CDFs, each with drawn pixels.
    const ink = await canvasInk(page)
    expect(ink.map((c) => c.id)).toEqual([
      'chart-pareto-ttft',
      'chart-pareto-accuracy',
      'chart-ttft-cdf',
      'chart-tpot-cdf',
      'chart-chunk-gaps-cdf',
    ])
    for (const c of ink) expect(c.inked, `pixels drawn on ${c.id}`).toBeGreaterThan(500)
    // The chunk-gap CDF pools the stored gaps: tiny-q8's sequential run had gaps of 3, 3.5 and 4 ms.
    const gapLines = (await page.$eval('script[data-chart-for="chart-chunk-gaps-cdf"]', (s) =>
      JSON.parse(s.textContent ?? ''),
    )) as { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } }
    const sequentialGaps = gapLines.data.datasets[0]!
    expect(sequentialGaps.label).toBe(`tiny-q8 · sequential (run ${seeded.latestRuns[0]})`)
    expect(new Set(sequentialGaps.data.map((p) => p.x))).toEqual(new Set([3, 3.5, 4]))
    expect(sequentialGaps.data.at(-1)).toEqual({ x: 4, y: 1 })

    const rows = await page.$$eval('#variants tbody tr', (trs) =>
      trs.map((tr) => ({
        target: tr.getAttribute('data-target'),
        cells: [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim()),
      })),
    )
    const headers = await page.$$eval('#variants thead th', (ths) =>
      ths.map((th) => (th.textContent ?? '').trim()),
    )
    expect(headers).toEqual([
      'target',
      'engine',
      'method',
      'quant',
      'bits',
      'size',
      'peak RSS',
      'ttftMsP50 ms',
      'outputTokensPerS tokens/s',
      'acc ± stderr',
      'klDivergence ± SE',
      'top1Agreement',
      'runs',
    ])
    const [seq, conc] = seeded.q8
    const bestQ8 = Math.max(seq!.outputTokensPerS, conc!.outputTokensPerS)
    expect(rows).toEqual([
      {
        target: 'tiny-q8',
        cells: [
          'tiny-q8tiny',
          'llama-cpp 3.21.1',
          'quantized',
          'Q8_0',
          '8.5',
          formatBytes(33 * MB),
          // The highest over its runs: the concurrent run's 210 MiB.
          formatBytes(210 * MB),
          // TTFT p50 of the first latency load (sequential), throughput the best of both loads.
          formatNumber(seq!.ttftMs!.p50),
          formatNumber(bestQ8),
          '41 % ± 3.5 %',
          '0.0123 ± 0.0011',
          '93 %',
          seeded.latestRuns.slice(0, 4).join(', '),
        ],
      },
      {
        target: HOSTILE,
        cells: [
          HOSTILE,
          'openai vllm-0.9',
          '–',
          '–',
          '–',
          '–',
          '–',
          formatNumber(seeded.remote.ttftMs!.p50),
          formatNumber(seeded.remote.outputTokensPerS),
          '–',
          '–',
          '–',
          String(seeded.latestRuns[4]),
        ],
      },
    ])
    // Hand check of the seeded data: the sequential TTFTs are 30 … 37 ms, three times over: p50 33.5 ms.
    expect(seq!.ttftMs!.p50).toBe(33.5)

    const header = await page.$eval('header.report-head', (h) => h.textContent ?? '')
    expect(header).toContain('scenario report-chat, branch main')
    expect(await page.$eval('#run-ids', (d) => d.textContent)).toBe(seeded.latestRuns.join(', '))
    const environments = await page.$$eval('#environments tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim())),
    )
    expect(environments.map((e) => e.slice(0, 5))).toEqual([
      ['E1', 'Report CPU 3.0GHz', '2', '16 GiB', 'none'],
      ['E2', 'Serving CPU', '32', '16 GiB', 'Report GPU 48GB (48 GiB)'],
    ])
    expect(environments[0]![7]).toBe('node-llama-cpp 3.21.1')
    const definitions = await page.$eval('#definitions', (f) => f.textContent ?? '')
    expect(definitions).toContain('t1 − tSend (service view)')
    await page.close()
  })

  it('refuses an unknown run id or scenario, and a missing --out, in one line each', async () => {
    const out = path.join(outDir, 'bad.html')
    // The first opens no database, so it runs beside the second.
    const [noOut, unknownRun] = await Promise.all([
      runCli(['report', String(seeded.olderRun)]),
      runCli(['report', String(seeded.olderRun), '999999', '--db', dataDir, '--out', out]),
    ])
    expect(noOut.code).toBe(1)
    expect(noOut.stderr).toMatch(/^bench: --out is required: the HTML file to write \([^\n]*\)\n$/)
    expect(unknownRun.code).toBe(1)
    expect(unknownRun.stderr).toBe(`bench: run 999999 does not exist in ${dataDir}\n`)
    const unknownScenario = await runCli(['report', '--scenario', 'nope', '--db', dataDir, '--out', out])
    expect(unknownScenario.code).toBe(1)
    expect(unknownScenario.stderr).toBe(`bench: no completed runs of scenario "nope" in ${dataDir}\n`)
    expect(() => statSync(out), 'no file written').toThrow()
  })
})
