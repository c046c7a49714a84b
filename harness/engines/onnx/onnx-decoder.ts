/**
 * One forward pass of a causal-LM ONNX decoder in the Optimum / transformers.js layout: inputs `input_ids`,
 * optional `attention_mask`, `position_ids`, `use_cache_branch` (merged decoders) and
 * `past_key_values.N.key|value` [batch, kv_heads, past, head_dim]; outputs `logits` [batch, seq, vocab]
 * and `present.N.key|value`. The layout is read from the session's input and output metadata, so no
 * config.json is needed; batch is always 1 (concurrent requests interleave step by step).
 * @module
 */
import * as ort from 'onnxruntime-node'
import { fromFloat16Bits } from '../../fixtures/float16.ts'

export interface CacheLayer {
  pastKey: string
  pastValue: string
  presentKey: string
  presentValue: string
}

export interface DecoderLayout {
  hasAttentionMask: boolean
  hasPositionIds: boolean
  hasCacheBranch: boolean
  /** Empty when the graph has no cache inputs (full recompute every step). */
  layers: CacheLayer[]
  kvHeads: number
  headDim: number
  kvType: 'float32' | 'float16'
  /** From the logits metadata, when the graph states it. */
  vocabSize?: number
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch'])
const PAST = /^past_key_values\.(\d+)\.(key|value)$/

/** Reads the decoder layout; throws an Error whose message is the problem (the caller adds the file). */
export function detectLayout(session: ort.InferenceSession): DecoderLayout {
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]))
  const outputs = new Set(session.outputNames)
  if (!inputs.has('input_ids'))
    throw new Error(`no input_ids input (inputs: ${session.inputNames.join(', ')})`)
  if (!outputs.has('logits')) throw new Error(`no logits output (outputs: ${session.outputNames.join(', ')})`)
  const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.has(n) && !PAST.test(n))
  if (unknown.length > 0)
    throw new Error(
      `inputs this engine cannot feed: ${unknown.join(', ')} (expected the Optimum decoder layout)`,
    )

  const layerIds = [
    ...new Set(session.inputNames.flatMap((n) => (PAST.test(n) ? [Number(PAST.exec(n)![1])] : []))),
  ].sort((a, b) => a - b)
  const layers: CacheLayer[] = layerIds.map((l) => ({
    pastKey: `past_key_values.${l}.key`,
    pastValue: `past_key_values.${l}.value`,
    presentKey: `present.${l}.key`,
    presentValue: `present.${l}.value`,
  }))
  let kvHeads = 0
  let headDim = 0
  let kvType: DecoderLayout['kvType'] = 'float32'
  for (const layer of layers) {
    for (const name of [layer.pastKey, layer.pastValue]) {
      const m = inputs.get(name)
      if (!m) throw new Error(`${name} is missing (its partner exists)`)
      if (!m.isTensor) throw new Error(`${name} is not a tensor`)
      const [, heads, , dim] = m.shape
      if (typeof heads !== 'number' || typeof dim !== 'number')
        throw new Error(
          `${name} has no fixed [batch, heads, past, head_dim] shape (${JSON.stringify(m.shape)})`,
        )
      if (m.type !== 'float32' && m.type !== 'float16')
        throw new Error(`${name} is ${m.type}; float32 or float16 expected`)
      kvHeads = heads
      headDim = dim
      kvType = m.type
    }
    for (const name of [layer.presentKey, layer.presentValue])
      if (!outputs.has(name))
        throw new Error(`output ${name} is missing for the cache input of the same layer`)
  }
  const logits = session.outputMetadata.find((m) => m.name === 'logits')
  const vocab = logits?.isTensor ? logits.shape.at(-1) : undefined
  return {
    hasAttentionMask: inputs.has('attention_mask'),
    hasPositionIds: inputs.has('position_ids'),
    hasCacheBranch: inputs.has('use_cache_branch'),
    layers,
    kvHeads,
    headDim,
    kvType,
    ...(typeof vocab === 'number' ? { vocabSize: vocab } : {}),
  }
}

export interface ForwardResult {
  /** Logits of every new position, row-major [seq][vocab], float32. */
  logits: Float32Array
  vocabSize: number
  /** present.* as past for the next step (only when asked for). */
  past?: Record<string, ort.Tensor>
}

/**
 * Runs `ids` after `pastLength` cached positions.
 * @param past present.* of the previous step (keyed by present name); undefined → empty caches
 * @param keepPast fetch the presents for the next step (false → only logits are copied out)
 */
export async function forward(
  session: ort.InferenceSession,
  layout: DecoderLayout,
  ids: readonly number[],
  pastLength: number,
  past: Record<string, ort.Tensor> | undefined,
  keepPast: boolean,
): Promise<ForwardResult> {
  const seq = ids.length
  const total = pastLength + seq
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, seq]),
  }
  if (layout.hasAttentionMask)
    feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total])
  if (layout.hasPositionIds) {
    const positions = new BigInt64Array(seq)
    for (let i = 0; i < seq; i++) positions[i] = BigInt(pastLength + i)
    feeds.position_ids = new ort.Tensor('int64', positions, [1, seq])
  }
  if (layout.hasCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [pastLength > 0], [1])
  const empty =
    layout.kvType === 'float16'
      ? new ort.Tensor('float16', new Uint16Array(0), [1, layout.kvHeads, 0, layout.headDim])
      : new ort.Tensor('float32', new Float32Array(0), [1, layout.kvHeads, 0, layout.headDim])
  for (const layer of layout.layers) {
    feeds[layer.pastKey] = past?.[layer.presentKey] ?? empty
    feeds[layer.pastValue] = past?.[layer.presentValue] ?? empty
  }
  const fetches = keepPast
    ? ['logits', ...layout.layers.flatMap((l) => [l.presentKey, l.presentValue])]
    : ['logits']
  const out = await session.run(feeds, fetches)
  const logits = out.logits
  if (!logits) throw new Error('the model returned no logits')
  const vocabSize = logits.dims.at(-1) ?? 0
  const result: ForwardResult = { logits: toFloat32(logits), vocabSize }
  if (keepPast) {
    const presents: Record<string, ort.Tensor> = {}
    for (const l of layout.layers) {
      presents[l.presentKey] = out[l.presentKey] as ort.Tensor
      presents[l.presentValue] = out[l.presentValue] as ort.Tensor
    }
    result.past = presents
  }
  return result
}

function toFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, fromFloat16Bits)
  throw new Error(`logits are ${t.type}; float32 or float16 expected`)
}
