/**
 * Items of an accuracy run in the JSON-lines sink (`bench run --out`) and through the tee to every sink:
 * one `item` line per item as scored, a -Infinity score as text (JSON has none), a secret in a generated
 * text redacted, the finish line with the run's metric rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { accuracyMetricRows, summarizeItems } from '../../../harness/accuracy/run-metrics.ts'
import { createJsonlSink } from '../../../harness/jsonl-sink.ts'
import { createRedactor } from '../../../harness/redact.ts'
import type { ItemOutcome } from '../../../harness/results.ts'
import { teeSinks } from '../../../harness/tee-sink.ts'
import { runMeta } from '../../db/fixtures/data.ts'
import { accuracySpec, items } from '../../db/fixtures/every-outcome.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

const dir = mkdtempSync(join(tmpdir(), 'bench-jsonl-items-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('accuracy items in the JSONL sink', () => {
  it('writes one item line per item, -Infinity as text, secrets redacted, then the figures', async () => {
    const file = join(dir, 'out.jsonl')
    const secret = 'sk-test-0123456789abcdef'
    const jsonl = createJsonlSink(file, { redactor: createRedactor({ OPENAI_API_KEY: secret }) })
    const memory = createMemorySink()
    const sink = teeSinks([jsonl, memory])
    const recorder = await sink.startRun(runMeta({ load: accuracySpec, loadIndex: 1 }))
    const leaky: ItemOutcome = { ...items[2]!, seq: 12, generated: ` C (key ${secret})` }
    const all = [...items, leaky]
    for (const item of all) recorder.recordItem(item)
    const figures = accuracyMetricRows(summarizeItems(all))
    await recorder.finish('completed', figures)
    await sink.close()
    expect(memory.runs[0]?.items, 'the tee hands every item to every sink').toEqual(all)
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { type: string; item?: ItemOutcome & { logliks?: unknown[] }; metrics?: unknown },
      )
    expect(
      lines.map((l) => l.type),
      'run, items, finish',
    ).toEqual(['run', ...all.map(() => 'item'), 'finish'])
    expect(lines[2]?.item?.logliks, 'item 1: -Infinity as text').toEqual([-2.5, -1.0000001, '-Infinity', -1])
    expect(lines[12]?.item?.logliks, 'item 11: NaN as text').toEqual([-1, -2, 'NaN', -4])
    expect(lines[13]?.item?.generated, 'the key redacted').not.toContain(secret)
    expect(lines.at(-1)?.metrics, 'the metric rows').toEqual(figures)
  })
})
