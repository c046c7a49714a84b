/**
 * The fixtures' byte vocabulary as a tokenizer for engines that have none of their own (the ONNX files
 * carry no tokenizer): `<unk> <s> </s>` then byte b = token b + 3. Prompts get BOS, like the GGUF
 * fixtures' SentencePiece tokenizer, so both engines see the same ids for the same text.
 * @module
 */
import {
  BYTE_OFFSET,
  BYTE_VOCAB_TOKENS,
  decodeByteTokens,
  EOS_ID,
  encodeByteTokens,
  VOCAB_SIZE,
} from '../../fixtures/byte-vocab.ts'

/** What a native engine needs from a tokenizer. */
export interface NativeTokenizer {
  readonly vocabSize: number
  /** Ids of the prompt as the model expects them (with BOS where the model wants one). */
  encodePrompt(text: string): number[]
  /** Ids of a continuation (no BOS). */
  encodeContinuation(text: string): number[]
  /** Text of consecutive output tokens; an incomplete UTF-8 character decodes to a trailing U+FFFD. */
  decode(tokens: readonly number[]): string
  /** One token as display text (logprobs): the character for printable ASCII, else its vocabulary entry. */
  tokenText(token: number): string
  /** End-of-generation ids. */
  readonly eogTokens: readonly number[]
}

export function createByteTokenizer(): NativeTokenizer {
  return {
    vocabSize: VOCAB_SIZE,
    encodePrompt: (text) => encodeByteTokens(text, { bos: true }),
    encodeContinuation: (text) => encodeByteTokens(text),
    decode: (tokens) => decodeByteTokens(tokens),
    tokenText: (token) => {
      const b = token - BYTE_OFFSET
      if (b >= 0x20 && b <= 0x7e) return String.fromCharCode(b)
      return BYTE_VOCAB_TOKENS[token] ?? `<${token}>`
    },
    eogTokens: [EOS_ID],
  }
}
