import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ImportResult, importFile, mapDocument } from '../../db/import/index.ts'
import { getRunDetail, leaderboard, listRunRequests } from '../../db/queries/index.ts'
import { runs } from '../../db/schema.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { seedRuns } from './fixtures/seed.ts'

const FIXTURES = path.join(import.meta.dirname, 'fixtures')
const VLLM = path.join(FIXTURES, 'vllm-bench-serve.json')
const VLLM_APPEND = path.join(FIXTURES, 'vllm-bench-serve-append.jsonl')
const LLAMA_BENCH = path.join(FIXTURES, 'llama-bench.json')

async function metricsOfRun(t: TestDatabase, id: number) {
  const detail = await getRunDetail(t.db, id)
  return new Map(detail?.metrics.map((m) => [m.name, m]))
}

describe.each(dbBackends())('bench import on %s', (backend) => {
  let t: TestDatabase
  let tmp: string
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-import-'))
  })
  afterAll(async () => {
    await t?.dispose()
    rmSync(tmp, { recursive: true, force: true })
  })

  let vllm: ImportResult
  it('maps a vllm bench serve --save-detailed result to a run whose metrics are the file’s numbers', async () => {
    vllm = await importFile(t.db, VLLM)
    expect([vllm.state, vllm.format, vllm.runs.length], 'imported').toEqual([
      'imported',
      'vllm-bench-serve',
      1,
    ])
    const id = vllm.runs[0]?.id as number
    const m = await metricsOfRun(t, id)
    const value = (name: string) => m.get(name)?.value
    expect(value('requestsPerS'), 'request_throughput').toBe(5.6018920355720265)
    expect(value('outputTokensPerS'), 'output_throughput').toBe(134.44540885372865)
    expect(value('totalTokensPerS'), 'total_token_throughput').toBe(851.4875894069481)
    expect(value('goodputRequestsPerS'), 'request_goodput').toBe(4.074103298597838)
    expect(value('windowMs'), 'duration in ms').toBe(1.9636222779999999 * 1000)
    expect([value('attempted'), value('ok'), value('errors'), value('errorsHttp')], 'counts').toEqual([
      12, 11, 1, 1,
    ])
    expect(value('errorRate'), 'failed / attempted').toBe(1 / 12)
    expect(value('ttftMsMean'), 'mean_ttft_ms').toBe(169.62725481818183)
    expect(value('ttftMsP50'), 'median_ttft_ms').toBe(154.08744199999998)
    expect(value('ttftMsP90'), 'p90_ttft_ms').toBe(227.143519)
    expect(value('ttftMsP99'), 'p99_ttft_ms').toBe(255.37476850000002)
    expect(value('ttftMsP999'), 'p99.9_ttft_ms').toBe(258.1978934500001)
    // vLLM TPOT is our tpotMs; vLLM ITL is our chunkGapsMs; vLLM E2EL is our e2eMs.
    expect(value('tpotMsMean'), 'mean_tpot_ms').toBe(21.28820767588933)
    expect(value('tpotMsP95'), 'p95_tpot_ms').toBe(22.875087500000003)
    expect(value('chunkGapsMsMean'), 'mean_itl_ms').toBe(24.37066308597285)
    expect(value('chunkGapsMsP99'), 'p99_itl_ms').toBe(55.812686600000006)
    expect(value('e2eMsP90'), 'p90_e2el_ms').toBe(744.501383)
    // vLLM's std is the population deviation; ours is the sample deviation: × √(n / (n − 1)), n = 11.
    expect(value('ttftMsSd'), 'std_ttft_ms as a sample sd').toBeCloseTo(
      48.33262649791626 * Math.sqrt(11 / 10),
      9,
    )
    expect(m.get('ttftMsSd')?.n, 'ttft samples').toBe(11)
    expect(m.get('chunkGapsMsP50')?.n, 'one gap sample per chunk gap').toBe(221)
    // Not in the file, computed from its per-request ttfts: the smallest is 0.101529797 s.
    expect(value('ttftMsMin'), 'min from the samples').toBeCloseTo(101.529797, 9)
    expect(m.get('ttftMsP99')?.unit, 'unit').toBe('ms')
    expect(m.get('outputTokensPerS')?.direction, 'direction').toBe('higher')

    const detail = await getRunDetail(t.db, id)
    const run = detail?.run
    expect(run?.state, 'state').toBe('completed')
    expect([run?.scenarioName, run?.targetName], 'scenario and target').toEqual([
      'vllm-bench-serve',
      'Qwen/Qwen2.5-0.5B-Instruct',
    ])
    expect([run?.engineKind, run?.engineModel], 'engine').toEqual([
      'openai-chat',
      'Qwen/Qwen2.5-0.5B-Instruct',
    ])
    expect(run?.load, 'load').toEqual({ kind: 'concurrent', concurrency: 4, requests: 12 })
    expect(run?.engineOptions.metadata, '--metadata').toEqual({ tensor_parallel_size: '1' })
    // `date` is local time when the benchmark ended; it started `duration` earlier.
    expect(run?.finishedAt?.getTime(), 'finished').toBe(new Date(2026, 10, 24, 15, 30, 12).getTime())
    expect((run?.finishedAt?.getTime() ?? 0) - (run?.startedAt.getTime() ?? 0), 'duration, to the ms').toBe(
      1964,
    )
    expect([run?.imported?.format, run?.imported?.file], 'source').toEqual([
      'vllm-bench-serve',
      'vllm-bench-serve.json',
    ])
    expect(detail?.requests, 'request outcomes').toEqual({
      total: 12,
      ok: 11,
      errors: 1,
      errorsByKind: { http: 1 },
      aborted: 0,
    })

    const [stored] = await t.db.select({ imported: runs.imported }).from(runs).where(eq(runs.id, id))
    const original = JSON.parse(readFileSync(VLLM, 'utf8')) as Record<string, unknown>
    expect(stored?.imported?.document, 'the original document is kept').toEqual(original)

    const requests = await listRunRequests(t.db, id)
    const first = requests[0]
    expect(first?.ttftMs, 'ttfts[0] in ms').toBeCloseTo(133.076135, 9)
    expect(first?.chunkGapsMs?.length, 'itls[0] → 18 gaps').toBe(18)
    expect(first?.chunkGapsMs?.[0], 'first gap (float32)').toBeCloseTo(24.327685, 4)
    expect(first?.chunks, 'chunks = gaps + 1').toBe(19)
    // e2e = ttft + Σ itl = 0.133076135 + 0.473660865 s.
    expect(first?.e2eMs, 'e2eMs').toBeCloseTo(606.737, 9)
    expect(first?.tpotMs, 'tpotMs = (e2e − ttft) / 23').toBeCloseTo(473.660865 / 23, 9)
    expect([first?.promptTokens, first?.outputTokens], 'token counts').toEqual([128, 24])
    expect(first?.startedAtMs, 'send time unknown').toBeNaN()
    const failed = requests[5]
    expect(
      [failed?.state, failed?.errorKind, failed?.httpStatus, failed?.message],
      'the failed request',
    ).toEqual(['error', 'http', 500, 'Internal Server Error'])
  })

  it('imports each result of an --append-result file as its own run', async () => {
    const result = await importFile(t.db, VLLM_APPEND, { scenario: 'qwen-sweep' })
    expect(result.runs.length, 'two results').toBe(2)
    const [c1, c8] = result.runs
    expect(c1?.fingerprint, 'concurrency 1 and 8 are not comparable').not.toBe(c8?.fingerprint)
    expect(c1?.scenarioName, '--scenario').toBe('qwen-sweep')
    const m1 = await metricsOfRun(t, c1?.id as number)
    const m8 = await metricsOfRun(t, c8?.id as number)
    expect(m1.get('outputTokensPerS')?.value, 'first output_throughput').toBe(43.6482736729591)
    expect(m8.get('outputTokensPerS')?.value, 'second output_throughput').toBe(214.13101120222203)
    expect(m8.get('ttftMsP99')?.value, 'second p99_ttft_ms').toBe(338.11851825)
    expect(m8.get('tpotMsP50')?.value, 'second median_tpot_ms').toBe(26.066997782608702)
    expect(m8.get('ttftMsSd')?.value, 'std → sample sd with n = completed').toBeCloseTo(
      (JSON.parse(readFileSync(VLLM_APPEND, 'utf8').split('\n')[1] ?? '{}') as { std_ttft_ms: number })
        .std_ttft_ms * Math.sqrt(16 / 15),
      9,
    )
    expect(m8.has('tpotMsSd'), 'no tpot sd without per-request detail (n unknown)').toBe(false)
    expect(m8.has('ttftMsMin'), 'no min without samples').toBe(false)
    expect((await getRunDetail(t.db, c8?.id as number))?.requests.total, 'no request rows').toBe(0)
  })

  it('maps llama-bench records to promptTokensPerS / genTokensPerS runs per model', async () => {
    const result = await importFile(t.db, LLAMA_BENCH)
    expect([result.format, result.runs.map((r) => r.targetName)], 'one run per model').toEqual([
      'llama-bench',
      ['big-byte-e512-l8-succ-f32', 'big-byte-e512-l8-succ-Q4_0'],
    ])
    const [f32, q4] = result.runs
    const mf = await metricsOfRun(t, f32?.id as number)
    const mq = await metricsOfRun(t, q4?.id as number)
    expect(mf.get('promptTokensPerS')?.value, 'F32 pp64 avg_ts').toBe(2182.41279)
    expect(mf.get('promptTokensPerSSd')?.value, 'F32 pp64 stddev_ts').toBe(11.447161)
    expect(mf.get('promptTokensPerS')?.n, 'repetitions').toBe(3)
    expect(mf.get('genTokensPerS')?.value, 'F32 tg32 avg_ts').toBe(278.118685)
    expect(mf.get('genTokensPerSSd')?.value, 'F32 tg32 stddev_ts').toBe(5.48458)
    expect(mq.get('promptTokensPerS')?.value, 'Q4_0 pp64 avg_ts').toBe(2982.852475)
    expect(mq.get('genTokensPerS')?.value, 'Q4_0 tg32 avg_ts').toBe(1001.171582)
    expect(mq.get('genTokensPerS')?.unit, 'unit').toBe('tokens/s')
    const detail = await getRunDetail(t.db, q4?.id as number)
    expect(
      [
        detail?.variant?.name,
        detail?.variant?.method,
        detail?.variant?.quantLabel,
        detail?.variant?.sizeBytes,
      ],
      'variant from model_type and model_size',
    ).toEqual(['big-byte-e512-l8-succ-Q4_0', 'quantized', 'Q4_0', 12014668])
    // 12014668 bytes · 8 / 21245440 parameters, stored as real (float4).
    expect(detail?.variant?.bits, 'bits per weight').toBeCloseTo(4.52414, 4)
    expect([detail?.run.engineKind, detail?.run.engineVersion, detail?.run.engineDevice], 'engine').toEqual([
      'llama.cpp',
      '80fb11a (build 1)',
      'CPU',
    ])
    expect(detail?.run.startedAt.toISOString(), 'test_time').toBe('2026-11-25T01:30:48.000Z')
    expect(detail?.run.engineOptions.n_threads, 'settings kept as options').toBe(1)
    const [stored] = await t.db
      .select({ imported: runs.imported })
      .from(runs)
      .where(eq(runs.id, q4?.id as number))
    const records = JSON.parse(readFileSync(LLAMA_BENCH, 'utf8')) as unknown[]
    expect(stored?.imported?.document, 'the run’s own records, as read').toEqual(records.slice(2))
    const board = await leaderboard(t.db, { scenario: 'llama-bench', rankBy: 'genTokensPerS' })
    expect(
      board.map((r) => [r.targetName, r.metrics.genTokensPerS?.value]),
      'leaderboard by generation speed',
    ).toEqual([
      ['big-byte-e512-l8-succ-Q4_0', 1001.171582],
      ['big-byte-e512-l8-succ-f32', 278.118685],
    ])
  })

  it('imports a file once; a later result of the same setup joins its series, never our own runs’', async () => {
    const again = await importFile(t.db, VLLM)
    expect(again.state, 'same file').toBe('already-imported')
    expect(
      again.runs.map((r) => r.id),
      'the runs already there',
    ).toEqual(vllm.runs.map((r) => r.id))
    const later = JSON.parse(readFileSync(VLLM, 'utf8')) as Record<string, unknown>
    later.date = '20261125-091500'
    later.output_throughput = 140.5
    const file = path.join(tmp, 'later.json')
    writeFileSync(file, JSON.stringify(later))
    const next = await importFile(t.db, file)
    expect(next.state, 'a new result').toBe('imported')
    expect(next.runs[0]?.fingerprint, 'same setup, same fingerprint').toBe(vllm.runs[0]?.fingerprint)
    const [own] = await seedRuns(t.db, [
      {
        tag: 1,
        startedAtIso: '2026-11-25T10:00:00Z',
        meta: {
          target: { name: 'Qwen/Qwen2.5-0.5B-Instruct' },
          engine: { ...(await import('./fixtures/data.ts')).engineInfo, model: 'Qwen/Qwen2.5-0.5B-Instruct' },
        },
      },
    ])
    const [ours] = await t.db
      .select({ fingerprint: runs.fingerprint })
      .from(runs)
      .where(eq(runs.id, own as number))
    expect(ours?.fingerprint, 'our run of the same model').not.toBe(vllm.runs[0]?.fingerprint)
  })
})

describe('import errors name the file and the problem', () => {
  let tmp: string
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-import-bad-'))
  })
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  const map = (name: string, text: string, format: 'auto' | 'vllm' | 'llama-bench' = 'auto') => {
    const file = path.join(tmp, name)
    return () => mapDocument(file, text, { format, context: { file, fileModifiedAt: new Date(0) } })
  }

  it('rejects what is not JSON, empty, or of no known format', () => {
    expect(map('broken.json', '{"duration": 1.5, "completed":'), 'malformed').toThrow(
      /cannot import .*broken\.json: not valid JSON or JSON Lines/,
    )
    expect(map('empty.json', '  \n'), 'empty').toThrow(/empty\.json: the file is empty/)
    expect(map('other.json', '{"accuracy": 0.5}'), 'unknown').toThrow(/other\.json: unknown format/)
    expect(map('none.json', '[]'), 'no results').toThrow(/none\.json: it holds no results/)
  })

  it('says which fields are missing or wrong for an explicit format', () => {
    const vllm = JSON.parse(readFileSync(VLLM, 'utf8')) as Record<string, unknown>
    const { completed: _c, ...noCompleted } = vllm
    expect(
      map('v.json', JSON.stringify({ ...noCompleted, duration: 'long' }), 'vllm'),
      'vLLM fields',
    ).toThrow(/v\.json: not a vllm bench serve result: duration: .*; completed: /)
    expect(
      map('l.json', JSON.stringify([{ model_filename: 'm.gguf', n_prompt: 64, n_gen: 0 }]), 'llama-bench'),
      'llama-bench fields',
    ).toThrow(/l\.json: not llama-bench output: \[0\]\.avg_ts: .*; \[0\]\.stddev_ts: /)
    expect(
      map('short.json', JSON.stringify({ ...vllm, itls: [[0.01]] })),
      'per-request arrays disagree',
    ).toThrow(/short\.json: itls has 1 entries, ttfts has 12/)
    expect(
      map(
        'pg.json',
        JSON.stringify([{ model_filename: 'm.gguf', n_prompt: 64, n_gen: 16, avg_ts: 1, stddev_ts: 0 }]),
      ),
      'only pg tests',
    ).toThrow(/pg\.json: no pp \(n_gen = 0\) or tg/)
  })

  it('reads NaN and Infinity the way Python writes them, as null', () => {
    const vllm = readFileSync(VLLM, 'utf8').replace(
      '"request_goodput": 4.074103298597838',
      '"request_goodput": NaN',
    )
    const { runs: mapped } = map('nan.json', vllm)()
    expect(
      mapped[0]?.metrics.some((m) => m.name === 'goodputRequestsPerS'),
      'NaN goodput is absent',
    ).toBe(false)
    expect(
      (mapped[0]?.document as Record<string, unknown> | undefined)?.request_goodput,
      'stored as null',
    ).toBeNull()
  })

  it('reports a missing file', async () => {
    await expect(importFile(undefined as never, path.join(tmp, 'missing.json')), 'missing').rejects.toThrow(
      /missing\.json: no such file/,
    )
  })

  it('copies are detected by content, not name', () => {
    const copy = path.join(tmp, 'copy.json')
    copyFileSync(VLLM, copy)
    const { runs: a } = map('a.json', readFileSync(VLLM, 'utf8'))()
    const { runs: b } = map('copy.json', readFileSync(copy, 'utf8'))()
    expect(a[0]?.fingerprint, 'same content, same fingerprint').toBe(b[0]?.fingerprint)
  })
})
