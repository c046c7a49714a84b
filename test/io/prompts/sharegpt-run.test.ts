/** A ShareGPT file through the runner against the built-in mock (loopback): every answered turn sent once, in order. */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import type { OkOutcome } from '../../../harness/results.ts'
import { runScenario } from '../../../harness/runner.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

describe('sharegpt prompts in a run', () => {
  it('sends each human turn with the gpt answer length as max_tokens, in file order', async () => {
    const answers = [3, 7, 2, 5, 4, 6]
    const data = answers.map((n, i) => ({
      id: `c${i}`,
      conversations: [
        { from: 'human', value: `question number ${i} about caches` },
        { from: 'gpt', value: Array.from({ length: n }, (_, k) => `w${k}`).join(' ') },
      ],
    }))
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-sharegpt-io-'))
    await writeFile(path.join(dir, 'sg.json'), JSON.stringify(data))
    const scenario = parseScenario({
      name: 'sharegpt-run',
      prompts: { kind: 'sharegpt', path: 'sg.json' },
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            api: 'chat',
            mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } },
          },
        },
      ],
      loads: [{ kind: 'concurrent', concurrency: 2, requests: 6 }],
      warmupRequests: 0,
    })
    const sink = createMemorySink()
    const result = await runScenario({ scenario, baseDir: dir, sink, monitorEventLoop: false })
    expect(result.state, 'state').toBe('completed')
    const outcomes = (sink.runs[0]?.outcomes ?? []).slice().sort((a, b) => a.seq - b.seq) as OkOutcome[]
    expect(
      outcomes.map((o) => [o.state, o.promptIndex, o.outputTokens]),
      'each conversation once, output = answer words',
    ).toEqual(answers.map((n, i) => ['ok', i, n]))
    // The mock counts the words of the chat messages it was sent: the human turn's 5.
    expect(
      outcomes.map((o) => o.promptTokens),
      'prompt words',
    ).toEqual(answers.map(() => 5))
  })
})
