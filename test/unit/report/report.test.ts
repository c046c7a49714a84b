/**
 * `bench report`'s pure parts: the variant join over stored runs (hand-computed figures), the definitions
 * read from harness/METRICS.md, the CLI's selection checks, and the HTML itself — rendered from a hand-made
 * model with the real inlined assets: no external URL anywhere, a hostile target name escaped wherever it
 * appears, and a CSP whose hashes are those of the inline blocks (else Chromium would draw nothing).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { reportAssets } from '../../../dashboard/report/assets.ts'
import { metricDefinitions, metricsTableRows } from '../../../dashboard/report/definitions.ts'
import type { ReportModel } from '../../../dashboard/report/model.ts'
import { renderReport, reportCharts } from '../../../dashboard/report/render.ts'
import { type StoredRun, variantRows } from '../../../dashboard/report/variant-rows.ts'
import { reportSelection } from '../../../harness/cli/actions/report.ts'

const HOSTILE = '<img src=x onerror=alert(1)>'
const MB = 1024 * 1024

const run = (over: Partial<StoredRun> & Pick<StoredRun, 'id'>): StoredRun => ({
  targetName: 'tiny-q8',
  scenarioName: 'chat',
  loadKind: 'concurrent',
  loadIndex: 0,
  startedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, over.id)),
  invocationId: 'inv-1',
  engineKind: 'llama-cpp',
  engineVersion: '3.21.1',
  environmentId: 1,
  variant: { id: 7, name: 'tiny', method: 'quantized', quantLabel: 'Q8_0', bits: 8.5, sizeBytes: 30 * MB },
  metrics: {},
  ...over,
})

describe('variantRows', () => {
  it('joins one invocation’s latency, accuracy and quality runs of a target into one row', () => {
    const rows = variantRows([
      // Given out of order: the join sorts by start time and load index itself.
      run({
        id: 3,
        loadKind: 'accuracy',
        loadIndex: 2,
        metrics: { acc: 0.5, accStderr: 0.05, peakRssBytes: 260 * MB },
      }),
      run({
        id: 1,
        loadKind: 'sequential',
        loadIndex: 0,
        metrics: { ttftMsP50: 50, outputTokensPerS: 100, peakRssBytes: 200 * MB },
      }),
      run({
        id: 2,
        loadIndex: 1,
        metrics: { ttftMsP50: 80, outputTokensPerS: 300, peakRssBytes: 250 * MB, errorRate: 0.05 },
      }),
      run({
        id: 4,
        loadKind: 'quality',
        loadIndex: 3,
        metrics: { klDivergence: 0.012, klDivergenceSe: 0.001, top1Agreement: 0.9 },
      }),
    ])
    expect(rows).toHaveLength(1)
    const [row] = rows
    expect(row).toMatchObject({
      label: 'tiny-q8',
      engine: 'llama-cpp 3.21.1',
      method: 'quantized',
      quant: 'Q8_0',
      bits: 8.5,
      sizeBytes: 30 * MB,
      // Highest over every run, the accuracy run's included.
      peakRssBytes: 260 * MB,
      // The first latency load's (sequential), not the best run's.
      ttftMsP50: 50,
      // The highest over the latency loads, and its run's flags: 5 % errors > 1 %.
      outputTokensPerS: 300,
      bestRunId: 2,
      flags: ['errors-over-threshold'],
      errorRate: 0.05,
      acc: 0.5,
      accStderr: 0.05,
      klDivergence: 0.012,
      klDivergenceSe: 0.001,
      top1Agreement: 0.9,
      runIds: [1, 2, 3, 4],
    })
  })

  it('keeps runs of other invocations, engines and machines apart, and says which is which', () => {
    const rows = variantRows([
      run({ id: 1, metrics: { outputTokensPerS: 100 } }),
      run({ id: 2, invocationId: 'inv-2', metrics: { outputTokensPerS: 120 } }),
      run({ id: 3, invocationId: null, environmentId: 2, metrics: { outputTokensPerS: 90 } }),
      run({
        id: 4,
        targetName: 'remote',
        invocationId: null,
        engineKind: 'openai',
        engineVersion: null,
        variant: null,
        metrics: { modelBytes: 5 * MB },
      }),
    ])
    expect(rows.map((r) => r.label)).toEqual([
      'tiny-q8 · run 1',
      'tiny-q8 · run 2',
      'tiny-q8 · run 3',
      'remote',
    ])
    expect(rows[3]).toMatchObject({
      engine: 'openai',
      method: null,
      sizeBytes: 5 * MB,
      outputTokensPerS: null,
      flags: [],
    })
  })
})

describe('metric definitions', () => {
  it('takes METRICS.md’s table row where there is one, else the catalogue', () => {
    expect(
      metricsTableRows('| name | definition |\n|---|---|\n| `ttftMs` | t1 − tSend (service view) |\n').get(
        'ttftMs',
      ),
    ).toBe('t1 − tSend (service view)')
    const [ttft, acc] = metricDefinitions(['ttftMs', 'acc'])
    expect(ttft).toEqual({ name: 'ttftMs', text: 't1 − tSend (service view)', source: 'METRICS.md' })
    expect(acc?.source).toBe('catalogue')
    expect(acc?.text).toMatch(/correct \/ scored items/)
  })
})

describe('bench report arguments', () => {
  const fails = (runs: string[], opts: Parameters<typeof reportSelection>[1]) => {
    try {
      reportSelection(runs, opts)
    } catch (err) {
      return (err as Error).message
    }
    throw new Error('accepted')
  }
  it('names what is missing or wrong, in one line', () => {
    expect(fails(['1'], {})).toMatch(/^--out is required/)
    expect(fails([], { out: 'r.html' })).toMatch(/^give run ids or --scenario NAME/)
    expect(fails(['1'], { out: 'r.html', scenario: 'chat' })).toMatch(/^give run ids or --scenario, not both/)
    expect(fails(['1'], { out: 'r.html', branch: 'main' })).toMatch(/^--branch selects runs of a --scenario/)
    expect(fails(['1', 'abc'], { out: 'r.html' })).toBe('run id "abc" is not a positive integer')
    expect(fails(['0'], { out: 'r.html' })).toBe('run id "0" is not a positive integer')
    for (const m of [fails(['1'], {}), fails([], { out: 'x' })]) expect(m).not.toContain('\n')
    expect(reportSelection(['3', '5'], { out: 'r.html' })).toEqual({ kind: 'runs', runIds: [3, 5] })
    expect(fails([], { out: 'r.html', scenario: 'chat\u001b[2J' })).toMatch(/^--scenario: control characters/)
    expect(fails([], { out: 'r.html', scenario: 'chat', branch: 'a\nb' })).toMatch(
      /^--branch: control characters/,
    )
    const saved = process.env.BENCH_DEFAULT_BRANCH
    process.env.BENCH_DEFAULT_BRANCH = 'ma*in'
    try {
      expect(fails([], { out: 'r.html', scenario: 'chat' })).toMatch(
        /^BENCH_DEFAULT_BRANCH: "ma\*in" is not a git branch name/,
      )
      // An explicit --branch does not read it.
      expect(reportSelection([], { out: 'r.html', scenario: 'chat', branch: 'main' }).kind).toBe('scenario')
    } finally {
      if (saved === undefined) delete process.env.BENCH_DEFAULT_BRANCH
      else process.env.BENCH_DEFAULT_BRANCH = saved
    }
    expect(reportSelection([], { out: 'r.html', scenario: 'chat', branch: '*' })).toEqual({
      kind: 'scenario',
      scenario: 'chat',
      branch: '*',
    })
  })
})

/** A model naming things with markup and a URL, as users may. */
function hostileModel(): ReportModel {
  const rows = variantRows([
    run({
      id: 11,
      targetName: HOSTILE,
      metrics: { ttftMsP50: 41.5, outputTokensPerS: 380, acc: 0.4, accStderr: 0.03 },
    }),
    run({
      id: 12,
      targetName: 'tiny-f32',
      invocationId: 'inv-9',
      metrics: { ttftMsP50: 63, outputTokensPerS: 250, acc: 0.41 },
    }),
  ])
  const cdf = (id: number, label: string) => ({
    runId: id,
    label,
    points: [
      { x: 10, y: 0 },
      { x: 20, y: 0.5 },
      { x: 30, y: 1 },
    ],
  })
  return {
    generatedAt: new Date('2026-12-07T12:00:00Z'),
    selection: `runs 11, 12 ${HOSTILE}`,
    runIds: [11, 12],
    scenarios: [`chat${HOSTILE}`],
    branches: [HOSTILE],
    variants: rows,
    runs: [11, 12].map((id) => ({
      id,
      scenarioName: 'chat',
      targetName: id === 11 ? HOSTILE : 'tiny-f32',
      load: 'concurrent 2',
      loadKind: 'concurrent',
      state: 'completed',
      error: HOSTILE,
      startedAt: new Date('2026-12-07T10:00:00Z'),
      gitBranch: HOSTILE,
      gitCommit: 'abcdef0123456789',
      role: 'run',
      label: `see https://example.com ${HOSTILE}`.replace('https://', ''),
      engine: 'llama-cpp 3.21.1',
      environment: 0,
      requests: { ok: 40, errors: 0 },
      flags: [],
      errorRate: 0,
    })),
    environments: [
      {
        key: 'E1',
        hardware: HOSTILE,
        cpuModel: HOSTILE,
        cores: 2,
        ramBytes: 8 * 1024 ** 3,
        gpus: [{ name: HOSTILE }],
        os: 'Linux',
        nodeVersion: 'v20',
        engineVersions: { [HOSTILE]: '1' },
        runIds: [11, 12],
      },
    ],
    cdf: {
      ttftMs: [cdf(11, HOSTILE), cdf(12, 'tiny-f32')],
      tpotMs: [cdf(11, HOSTILE)],
      chunkGapsMs: [cdf(12, 'tiny-f32')],
    },
    definitions: metricDefinitions(['ttftMs', 'acc']),
  }
}

describe('renderReport', () => {
  it('has no external URL, escapes a hostile target name everywhere, and hashes its inline blocks', async () => {
    const model = hostileModel()
    const html = renderReport(model, await reportAssets())
    // (Matches are compared, not the document: a failure prints the offending text, not 250 kB of HTML.)
    const found = (re: RegExp) => html.match(re)?.[0]
    // No src/href to anything (everything is inline), and no URL with a scheme at all.
    expect(found(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\/.{0,40}/i)).toBeUndefined()
    expect(found(/.{0,40}https?:\/\/.{0,40}/i)).toBeUndefined()
    expect(found(/<(link|img|iframe|object|embed)\b.{0,40}/i)).toBeUndefined()
    expect(found(/<script[^>]*\ssrc=.{0,40}/i)).toBeUndefined()
    // The name never appears as markup: as text it is escaped, inside JSON its < and > are \u escapes.
    expect(found(/.{0,40}<img src=x onerror=alert\(1\)>/)).toBeUndefined()
    expect(found(/&lt;img src=x onerror=alert\(1\)&gt;/)).toBeDefined()
    const table = /<table class="data" id="variants">[\s\S]*?<\/table>/.exec(html)?.[0] ?? ''
    expect(table).toContain('<tr data-target="&lt;img src=x onerror=alert(1)&gt;">')
    // Chart configs parse back to the same names (a legend shows the text, not markup).
    const configs = [
      ...html.matchAll(/<script type="application\/json" data-chart-for="([^"]+)">([^<]*)<\/script>/g),
    ]
    expect(configs.map((m) => m[1])).toEqual(reportCharts(model).map((c) => c.id))
    expect(configs.map((m) => m[1])).toEqual([
      'chart-pareto-ttft',
      'chart-pareto-accuracy',
      'chart-ttft-cdf',
      'chart-tpot-cdf',
      'chart-chunk-gaps-cdf',
    ])
    const ttftCdf = JSON.parse(configs[2]![2]!) as { data: { datasets: { label: string }[] } }
    expect(ttftCdf.data.datasets.map((d) => d.label)).toEqual([HOSTILE, 'tiny-f32'])
    // CSP: no fetch of any kind, and exactly the inline scripts and style allowed, by their sha256.
    // The attribute is escaped as every attribute is; the browser reads it decoded.
    const csp = (/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '')
      .replaceAll('&#39;', "'")
      .replaceAll('&amp;', '&')
    expect(csp).toMatch(/^default-src 'none';/)
    const sha = (body: string) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
    expect(scripts).toHaveLength(2)
    expect(scripts[0]).toMatch(/Chart\.js v4/)
    expect(csp).toContain(`script-src ${scripts.map(sha).join(' ')};`)
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? ''
    expect(csp).toContain(`style-src ${sha(style)};`)
    // The header says what was selected and when; the footnote carries METRICS.md's wording.
    expect(found(/<dd id="generated-at">[^<]*<\/dd>/)).toBe('<dd id="generated-at">2026-12-07 12:00 UTC</dd>')
    expect(found(/<dt>ttftMs<\/dt><dd>[^<]*<\/dd>/)).toBe('<dt>ttftMs</dt><dd>t1 − tSend (service view)</dd>')
  })
})
