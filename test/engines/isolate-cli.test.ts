/**
 * A corrupt or truncated model through the real CLI (`bench run <scenario.json> --no-db`, engines isolated
 * by default): exit code 1, and a message naming the file and the problem; the good target in between
 * still runs.
 */
import { copyFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { tinyModels } from '../helpers/fixture-models.ts'

describe('bench run with a corrupt or truncated model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-isolate-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('exits 1 naming each bad file and its problem; the good target runs', async () => {
    const models = await tinyModels()
    const gguf = join(dir, 'truncated.gguf')
    copyFileSync(models.path('tiny-q4_0'), gguf)
    truncateSync(gguf, 40_000)
    const onnx = join(dir, 'corrupt.onnx')
    writeFileSync(onnx, Buffer.from('this is not a protobuf model, just text that claims to be one'))
    const scenario = join(dir, 'bad-models.json')
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'bad-models',
        prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 4, count: 2 },
        targets: [
          { name: 'bad-gguf', engine: { kind: 'llama-cpp', model: gguf, threads: 1 } },
          {
            name: 'good',
            engine: { kind: 'onnx', model: models.path('tiny-onnx-int8'), intraOpNumThreads: 1 },
          },
          { name: 'bad-onnx', engine: { kind: 'onnx', model: onnx, intraOpNumThreads: 1 } },
        ],
        loads: [{ kind: 'sequential', requests: 2 }],
        warmupRequests: 0,
      }),
    )
    const r = await runCli(['run', scenario, '--no-db', '--no-progress'])
    expect(r.code, `exit code (stderr: ${r.stderr})`).toBe(1)
    const lines = r.stdout.split('\n')
    const state = (target: string) =>
      lines.find((l) => l.startsWith(`${target} `))?.match(/\s(failed|completed|interrupted)\*?\s/)?.[1]
    expect(state('bad-gguf'), 'bad gguf run').toBe('failed')
    expect(state('good'), 'good run').toBe('completed')
    expect(state('bad-onnx'), 'bad onnx run').toBe('failed')
    expect(r.stdout, 'gguf: file and problem').toMatch(
      /bad-gguf \/ sequential.*: llama-cpp engine could not start model "truncated\.gguf": \S*truncated\.gguf: corrupt or truncated GGUF file: tensor .+ needs bytes/,
    )
    expect(r.stdout, 'onnx: file and problem').toMatch(
      /bad-onnx \/ sequential.*: onnx engine could not start model "corrupt\.onnx": \S*corrupt\.onnx: corrupt or truncated ONNX file: .+/,
    )
  })
})
