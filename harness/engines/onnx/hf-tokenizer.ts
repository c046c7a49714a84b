/**
 * A Hugging Face `tokenizer.json` as a NativeTokenizer, through @huggingface/tokenizers (pure JS, the
 * tokenizer of transformers.js): what an Optimum / transformers.js ONNX export ships beside its model.
 *
 * Read from the tokenizer's directory when present: `tokenizer_config.json` (special tokens, add_bos_token)
 * and `generation_config.json` (`eos_token_id`, the ids that end a generation; chat models list several).
 * Without either, the end-of-generation ids are the config's or the vocabulary's `eos_token`, else `</s>`,
 * `<|endoftext|>`, `<|im_end|>`, `<|eot_id|>`, `<|end|>` when the vocabulary has them.
 * @module
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import type { NativeTokenizer } from './byte-tokenizer.ts'

/** The file cannot serve as a tokenizer; the message names the file and the problem. */
export class TokenizerLoadError extends Error {
  override readonly name = 'TokenizerLoadError'
}

/** End-of-generation tokens common across model families, used when no config names one. */
const CONVENTIONAL_EOG = ['</s>', '<|endoftext|>', '<|im_end|>', '<|eot_id|>', '<|end|>']

export function loadHfTokenizer(path: string): NativeTokenizer {
  const json = readJson(path, true) as Record<string, unknown>
  if (typeof json.model !== 'object' || json.model === null)
    throw new TokenizerLoadError(`${path}: not a Hugging Face tokenizer.json (no "model" section)`)
  const dir = dirname(path)
  const config = (readJson(join(dir, 'tokenizer_config.json'), false) ?? {}) as Record<string, unknown>
  const generation = readJson(join(dir, 'generation_config.json'), false) as
    | { eos_token_id?: unknown }
    | undefined
  let tokenizer: Tokenizer
  try {
    tokenizer = new Tokenizer(json as never, config as never)
  } catch (err) {
    throw new TokenizerLoadError(
      `${path}: @huggingface/tokenizers cannot build it: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  const vocab = tokenizer.get_vocab(true)
  let vocabSize = 0
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1)
  if (vocabSize === 0) throw new TokenizerLoadError(`${path}: the vocabulary is empty`)
  const eogTokens = endOfGeneration(tokenizer, config, generation?.eos_token_id)
  return {
    vocabSize,
    encodePrompt: (text) => tokenizer.encode(text).ids,
    encodeContinuation: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (tokens) =>
      tokens.length === 0 ? '' : tokenizer.decode([...tokens], { skip_special_tokens: true }),
    tokenText: (token) => {
      // Readable text where the token has some ("Ġworld" → " world"); the vocabulary entry otherwise
      // (special tokens, a lone byte of a multi-byte character).
      const text = tokenizer.decode([token])
      if (text.length > 0 && !text.includes('\uFFFD')) return text
      return tokenizer.id_to_token(token) ?? `<${token}>`
    },
    eogTokens,
  }
}

function readJson(path: string, required: boolean): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (!required) return undefined
    const code = (err as NodeJS.ErrnoException).code
    throw new TokenizerLoadError(
      code === 'ENOENT'
        ? `${path}: no such file; give the path of the model's tokenizer.json, or tokenizer: 'byte'`
        : `${path}: cannot read it (${code ?? String(err)})`,
    )
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new TokenizerLoadError(
      `${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    )
  }
}

function endOfGeneration(tokenizer: Tokenizer, config: Record<string, unknown>, eosIds: unknown): number[] {
  const ids = new Set<number>()
  for (const id of Array.isArray(eosIds) ? eosIds : [eosIds]) if (Number.isInteger(id)) ids.add(id as number)
  if (ids.size > 0) return [...ids]
  const eos = config.eos_token
  const eosText = typeof eos === 'string' ? eos : (eos as { content?: unknown } | undefined)?.content
  const named = typeof eosText === 'string' ? tokenizer.token_to_id(eosText) : undefined
  if (named !== undefined) return [named]
  for (const text of CONVENTIONAL_EOG) {
    const id = tokenizer.token_to_id(text)
    if (id !== undefined) ids.add(id)
  }
  return [...ids]
}
