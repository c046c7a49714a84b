import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverRoot } from '../../../harness/checklist/checklist.ts'
import {
  checklistMetricRows,
  checklistReport,
  formatMarkdown,
  formatTable,
} from '../../../harness/checklist/format.ts'
import { judgeAuth, judgeTtft } from '../../../harness/checklist/items.ts'
import {
  DEFAULT_THRESHOLDS,
  readThresholdsFile,
  resolveThresholds,
} from '../../../harness/checklist/thresholds.ts'

describe('checklist output', () => {
  const items = [judgeTtft('ttft-p95', 612, 500, 4), judgeAuth({ status: 200 }, false)]

  it('Markdown: a table of item, verdict, value, threshold, note; cells escaped', () => {
    const withPipe = { ...judgeAuth({ status: 401 }, true), note: 'a | b <script>' }
    const md = formatMarkdown(checklistReport('http://127.0.0.1:1/v1', 'm', [...items, withPipe], '7'))
    const lines = md.split('\n')
    expect(lines).toContain('| item | verdict | value | threshold | note |')
    expect(lines).toContain('| --- | --- | --- | --- | --- |')
    expect(lines).toContain(
      '| `ttft-p95` | ❌ FAIL | 612.0 ms | ≤ 500 ms | at concurrency 4: 612.0 ms &gt; 500 ms |',
    )
    expect(md).toContain('a \\| b &lt;script&gt;')
    expect(md).toContain('1 pass, 0 warn, 2 fail — FAILED · run 7')
  })

  it('the report fails on any FAIL and counts verdicts; the table lists every item', () => {
    const r = checklistReport('u', 'm', items)
    expect(r.passed).toBe(false)
    expect(r.counts).toEqual({ PASS: 0, WARN: 0, FAIL: 2 })
    expect(
      formatTable(r)
        .split('\n')
        .filter((l) => /^(ttft-p95|auth) /.test(l)),
    ).toHaveLength(2)
    expect(checklistReport('u', 'm', [judgeAuth({ status: 404 }, true)]).passed).toBe(true)
  })

  it('metric rows: checklist/<item> as 1 / 0.5 / 0 and the measured number beside it', () => {
    expect(checklistMetricRows(items)).toEqual([
      { name: 'checklist/ttft-p95', value: 0, unit: 'ratio', direction: 'higher', n: 1 },
      { name: 'checklist/ttft-p95/value', value: 612, unit: 'ms', direction: 'none', n: 1 },
      { name: 'checklist/auth', value: 0, unit: 'ratio', direction: 'higher', n: 1 },
    ])
  })

  it('the server root drops /v1 (where /health lives)', () => {
    expect(serverRoot('http://127.0.0.1:8000/v1')).toBe('http://127.0.0.1:8000')
    expect(serverRoot('http://h/api/v1/')).toBe('http://h/api')
  })
})

describe('checklist thresholds', () => {
  it('defaults, then the file (null drops a bound), then flags', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'checklist-'))
    const file = path.join(dir, 't.json')
    writeFileSync(file, JSON.stringify({ ttftMsP95: 800, ttftMsP50: null, minQps: 2 }))
    expect(resolveThresholds(readThresholdsFile(file), { ttftMsP95: 300 })).toEqual({
      ttftMsP95: 300,
      ttftMsP99: 1000,
      minDecodeTokensPerS: 10,
      minQps: 2,
      maxErrorRate: 0.01,
    })
    expect(resolveThresholds(undefined, {})).toEqual(DEFAULT_THRESHOLDS)
  })

  it('an unknown key, a bad value or a rate above 1 is one error naming it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'checklist-'))
    const file = path.join(dir, 't.json')
    writeFileSync(file, JSON.stringify({ ttftP95: 500 }))
    expect(() => readThresholdsFile(file)).toThrow(
      `--thresholds ${file}: unknown key "ttftP95"; use ttftMsP50`,
    )
    writeFileSync(file, JSON.stringify({ ttftMsP95: '500' }))
    expect(() => readThresholdsFile(file)).toThrow('ttftMsP95 must be a number ≥ 0 or null, got "500"')
    expect(() => resolveThresholds(undefined, { maxErrorRate: 5 })).toThrow(
      '--max-error-rate expects a fraction in [0, 1] (0.05 = 5 %), got 5',
    )
    expect(() => readThresholdsFile(path.join(dir, 'missing.json'))).toThrow('cannot read it (ENOENT)')
  })
})
