/**
 * Tiny matrices for the queue's tests and benchmark: N targets × M load steps of a few requests each
 * against one running mock server (startTinyMock: fixed delays), written as a JSON scenario file. One
 * shared server, not a `mock:` engine per target: that starts a server thread per job (~0.3 s quiet, 4 s
 * on a loaded box), which would be the job's cost instead of the queue's.
 * @module
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { testTmpRoot } from '../../helpers/db.ts'

export interface TinyMatrix {
  /** The mock's base URL with /v1 (startTinyMock). */
  baseUrl: string
  targets: number
  steps: number
  /** Requests per step. @default 2 */
  requests?: number
  /** Steps' concurrency: 1, 2, 1, 2 … by default. */
  concurrency?: number
  name?: string
}

/** Writes the scenario file; returns its path. */
export function writeTinyMatrix(m: TinyMatrix): string {
  const dir = mkdtempSync(path.join(testTmpRoot(), 'bench-queue-'))
  const file = path.join(dir, 'matrix.json')
  const scenario = {
    name: m.name ?? 'queue-tiny',
    prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
    targets: Array.from({ length: m.targets }, (_, i) => ({
      name: `mock-${i}`,
      engine: { kind: 'openai', baseUrl: m.baseUrl, model: 'mock-model' },
    })),
    loads: [
      {
        kind: 'sweep',
        loads: Array.from({ length: m.steps }, (_, i) => ({
          kind: 'concurrent',
          concurrency: m.concurrency ?? 1 + (i % 2),
          requests: m.requests ?? 2,
        })),
      },
    ],
    warmupRequests: 0,
  }
  writeFileSync(file, `${JSON.stringify(scenario, null, 2)}\n`)
  return file
}

/**
 * A mock server in this process: time to first token `ttftMs` (fixed, or lognormal with that median when
 * `ttftSigma` is given), 1 ms between tokens, optional 500s.
 */
export function startTinyMock(
  options: { ttftMs?: number; ttftSigma?: number; rate500?: number } = {},
): Promise<MockServerHandle> {
  return startMockServer({
    ttft:
      options.ttftSigma === undefined
        ? { kind: 'fixed', ms: options.ttftMs ?? 5 }
        : { kind: 'lognormal', medianMs: options.ttftMs ?? 5, sigma: options.ttftSigma },
    itl: { kind: 'fixed', ms: 1 },
    ...(options.rate500 ? { faults: { rate500: options.rate500 } } : {}),
  })
}
