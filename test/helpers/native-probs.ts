/**
 * Next-token distributions of a fixture model from each side, for tests that check our trainer's forward
 * pass against the native engines (teacher-native-match, student-native-match): softmax of our logits,
 * node-llama-cpp's probabilities at every position, onnxruntime-node's logits from an exported decoder with
 * an empty KV cache, and the largest |Δp| between two sets of rows.
 * @module
 */
import type { LlamaContextSequence, Token } from 'node-llama-cpp'
import * as ort from 'onnxruntime-node'
import { VOCAB_SIZE } from '../../harness/fixtures/byte-vocab.ts'
import type { LlamaShape } from '../../harness/fixtures/llama-weights.ts'

/** Softmax of each of `rows` rows of VOCAB_SIZE logits (max subtracted, in double). */
export function softmaxRows(logits: Float32Array, rows: number): Float64Array[] {
  return Array.from({ length: rows }, (_, r) => {
    const row = logits.subarray(r * VOCAB_SIZE, (r + 1) * VOCAB_SIZE)
    let max = -Infinity
    for (const v of row) max = Math.max(max, v)
    const e = Float64Array.from(row, (v) => Math.exp(v - max))
    const sum = e.reduce((a, b) => a + b, 0)
    return e.map((v) => v / sum)
  })
}

/** Largest |a − b| over every position and token. */
export function maxAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  let worst = 0
  for (let r = 0; r < a.length; r++)
    for (let v = 0; v < VOCAB_SIZE; v++) worst = Math.max(worst, Math.abs(a[r]![v]! - b[r]![v]!))
  return worst
}

/** node-llama-cpp's next-token probabilities after each token, from an empty history. */
export async function llamaCppProbs(
  sequence: LlamaContextSequence,
  tokens: number[],
): Promise<Float64Array[]> {
  await sequence.clearHistory()
  const results = await sequence.controlledEvaluate(
    tokens.map((t) => [t as Token, { generateNext: { probabilities: true } }] as const),
  )
  return results.map((r) => {
    const p = new Float64Array(VOCAB_SIZE)
    for (const [t, prob] of r?.next.probabilities ?? []) p[t] = prob
    return p
  })
}

/** onnxruntime-node's next-token distributions of the exported decoder, the KV cache empty. */
export async function onnxProbs(
  session: ort.InferenceSession,
  tokens: number[],
  shape: LlamaShape,
): Promise<Float64Array[]> {
  const int64 = (values: number[]) =>
    new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length])
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(tokens),
    attention_mask: int64(tokens.map(() => 1)),
    position_ids: int64(tokens.map((_, i) => i)),
  }
  const headDim = shape.embeddingLength / shape.headCount
  for (let l = 0; l < shape.blockCount; l++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
        1,
        shape.headCount,
        0,
        headDim,
      ])
  const out = await session.run(feeds)
  return softmaxRows(out.logits!.data as Float32Array, tokens.length)
}
