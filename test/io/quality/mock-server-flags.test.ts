/**
 * `bench mock-server --personality vllm --logprobs-model <file>` (startMockFromFlags, what the command
 * serves): the model behind /tokenize and echo logprobs — tiny-onnx-fp32's byte ids, and a token-id echo
 * answered with k + 1 entries per position in vLLM's shape — and the flag refused without the vllm
 * personality, naming both flags.
 */
import { describe, expect, it } from 'vitest'
import { startMockFromFlags } from '../../../harness/cli/actions/mock-server.ts'
import { tinyModels } from '../../helpers/fixture-models.ts'

describe('bench mock-server --logprobs-model', () => {
  it('serves the model behind /tokenize and echo + logprobs', async () => {
    const logprobsModel = (await tinyModels()).path('tiny-onnx-fp32')
    const server = await startMockFromFlags({
      host: '127.0.0.1',
      port: 0,
      personality: 'vllm',
      logprobsModel,
    })
    try {
      const post = (path: string, body: unknown) =>
        fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', body: JSON.stringify(body) }).then(
          async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }),
        )
      const tokenized = await post('/tokenize', { prompt: 'abcd' })
      expect(tokenized.json.tokens, 'BOS, then byte + 3').toEqual([1, 100, 101, 102, 103])
      const echo = await post('/v1/completions', {
        prompt: tokenized.json.tokens,
        echo: true,
        logprobs: 2,
        max_tokens: 0,
        return_tokens_as_token_ids: true,
      })
      expect(echo.status).toBe(200)
      const choice = (echo.json.choices as { text: string; logprobs: Record<string, unknown[]> }[])[0]!
      expect(choice.text, 'the decoded prompt').toBe('abcd')
      expect(choice.logprobs.tokens).toEqual([
        'token_id:1',
        'token_id:100',
        'token_id:101',
        'token_id:102',
        'token_id:103',
      ])
      expect(choice.logprobs.token_logprobs?.[0], 'none for the first token').toBeNull()
      const top = choice.logprobs.top_logprobs?.[2] as Record<string, number>
      expect(Object.keys(top)[0], 'the sent token first, as vLLM').toBe('token_id:101')
      expect(Object.keys(top).length, 'k or k + 1 entries').toBeGreaterThanOrEqual(2)
      expect(Object.keys(top).length).toBeLessThanOrEqual(3)
    } finally {
      await server.close()
    }
  })

  it('needs the vllm personality', async () => {
    await expect(
      startMockFromFlags({ host: '127.0.0.1', port: 0, logprobsModel: 'whatever.gguf' }),
    ).rejects.toThrow(/--logprobs-model .* add --personality vllm/)
  })
})
