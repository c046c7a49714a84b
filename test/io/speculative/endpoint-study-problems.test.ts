/**
 * An endpoint study file run against servers that are set up wrong (harness/speculative/endpoints/run-file.ts
 * and study.ts endpointStudyProblems), as a new user's first try goes: a "with speculation" llama-server
 * that does not speculate (started without --spec-type, or its draft refused for a different vocabulary —
 * a real llama-server then serves the target alone with every spec_decode counter at 0, as the mock's
 * llama-server personality does without its speculative option), an `off` server that speculates, and a URL
 * where nothing listens. Each is one line naming the study field to fix.
 */
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SpeculativeOptions } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import {
  runEndpointStudyFile,
  runEndpointStudyRecord,
} from '../../../harness/speculative/endpoints/run-file.ts'
import { endpointStudyProblems } from '../../../harness/speculative/endpoints/study.ts'
import { parseEndpointStudy } from '../../../harness/speculative/endpoints/study-file.ts'

const fast = { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 2 } } as const
const SPEC: SpeculativeOptions = { draftMax: 2, acceptance: 0.8 }

/** A loopback port where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('endpoint study against misconfigured servers', () => {
  const mocks: MockServerHandle[] = []
  let plain: MockServerHandle
  let plain2: MockServerHandle
  let speculating: MockServerHandle
  const start = async (speculative?: SpeculativeOptions) => {
    const mock = await startMockServer({
      personality: 'llama-server',
      ...fast,
      ...(speculative ? { speculative } : {}),
    })
    mocks.push(mock)
    return mock
  }
  beforeAll(async () => {
    plain = await start()
    plain2 = await start()
    speculating = await start(SPEC)
  })
  afterAll(async () => {
    await Promise.all(mocks.map((m) => m.close()))
  })

  const study = (off: string, on: { k: number; url: string }[]) =>
    parseEndpointStudy({
      name: 'misconfigured',
      model: 'mock-model',
      off,
      on,
      c: 0.5,
      prompts: ['The river runs past the city and'],
      maxTokens: 64,
    })

  it('an "on" server that drafts nothing (no --spec-type, or a refused draft): names on[i].url and the flags', async () => {
    const s = study(plain.url, [
      { k: 2, url: speculating.url },
      { k: 4, url: plain2.url },
    ])
    // As the CLI and the queue's worker run it: the record carries the problems (stored as the study's error).
    const record = await runEndpointStudyRecord(s)
    expect(record.result.rows[1]?.pass.speculation?.draftTokens).toBe(0)
    const problems = record.problems ?? []
    expect(problems).toEqual(endpointStudyProblems(record.result, s))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(
      /^on\[1\]\.url \(K = 4, http:\/\/127\.0\.0\.1:\d+\/v1\): the server drafted no token/,
    )
    expect(problems[0]).toContain('--spec-type draft-simple --spec-draft-n-max 4')
    expect(problems[0]).toContain('vocabs are not compatible')
    expect(problems[0]).not.toContain('\n')
  })

  it('an "off" server that speculates: names off', async () => {
    const s = study(speculating.url, [{ k: 2, url: speculating.url }])
    const problems = endpointStudyProblems(await runEndpointStudyFile(s), s)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^off \(http:\/\/127\.0\.0\.1:\d+\/v1\): the server drafted \d+ tokens/)
  })

  it('a well-set study has no problem; a server without counters is not judged', () => {
    const pass = (draftTokens?: number) => ({
      texts: ['x'],
      decodeTokensPerS: 100,
      decodeSource: 'server timings' as const,
      ...(draftTokens === undefined
        ? {}
        : {
            speculation: {
              source: 'test',
              counters: 'metrics' as const,
              window: 'run' as const,
              draftTokens,
            },
          }),
    })
    const row = (k: number, draftTokens?: number) => ({
      k,
      pass: pass(draftTokens),
      sameOutput: true,
      measuredSpeedup: 1,
    })
    const on = [
      { k: 1, url: 'http://a/v1' },
      { k: 2, url: 'http://b/v1' },
    ]
    expect(
      endpointStudyProblems({ off: pass(0), rows: [row(1, 5), row(2, 9)] }, { off: 'http://o/v1', on }),
    ).toEqual([])
    expect(
      endpointStudyProblems({ off: pass(), rows: [row(1), row(2)] }, { off: 'http://o/v1', on }),
    ).toEqual([])
  })

  it('a URL where nothing listens: the error names the field (on[i].url and its K, off, draftAlone)', async () => {
    const down = `http://127.0.0.1:${await closedPort()}/v1`
    await expect(
      runEndpointStudyFile(
        study(plain.url, [
          { k: 2, url: speculating.url },
          { k: 4, url: down },
        ]),
      ),
    ).rejects.toThrow(/^on\[1\]\.url \(K = 4\): .*cannot reach http:\/\/127\.0\.0\.1:\d+\/v1/)
    await expect(runEndpointStudyFile(study(down, [{ k: 2, url: speculating.url }]))).rejects.toThrow(
      /^off: .*cannot reach/,
    )
    await expect(
      runEndpointStudyFile({ ...study(plain.url, [{ k: 2, url: speculating.url }]), draftAlone: down }),
    ).rejects.toThrow(/^draftAlone: .*cannot reach/)
  })
})
