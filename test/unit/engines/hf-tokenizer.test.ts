/**
 * loadHfTokenizer: the fixtures' tokenizer.json against the byte tokenizer id for id, a GPT-2 style
 * byte-level BPE with merges, and where the end-of-generation ids come from.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createByteTokenizer } from '../../../harness/engines/onnx/byte-tokenizer.ts'
import { loadHfTokenizer, TokenizerLoadError } from '../../../harness/engines/onnx/hf-tokenizer.ts'
import { byteVocabTokenizerConfig, byteVocabTokenizerJson } from '../../../harness/fixtures/byte-vocab.ts'

const dir = mkdtempSync(join(tmpdir(), 'bench-hf-tokenizer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes files into a fresh folder; returns the tokenizer.json path. */
function folder(name: string, files: Record<string, unknown>): string {
  const at = join(dir, name)
  mkdirSync(at, { recursive: true })
  for (const [file, content] of Object.entries(files)) writeFileSync(join(at, file), JSON.stringify(content))
  return join(at, 'tokenizer.json')
}

describe('the fixtures tokenizer.json', () => {
  const path = folder('fixture', {
    'tokenizer.json': byteVocabTokenizerJson(),
    'tokenizer_config.json': byteVocabTokenizerConfig(),
  })
  const hf = loadHfTokenizer(path)
  const byte = createByteTokenizer()

  it.each([
    'abc',
    'Hello, world!',
    '  two  spaces ',
    'tab\tand\nnewline\r\n',
    'héllo wörld',
    'Grüße aus Köln — 東京 🚀',
    '',
  ])('%j: the same ids as the byte tokenizer, prompt and continuation, and decodes back', (text) => {
    expect(hf.encodePrompt(text), 'prompt ids (BOS first)').toEqual(byte.encodePrompt(text))
    expect(hf.encodeContinuation(text), 'continuation ids').toEqual(byte.encodeContinuation(text))
    expect(hf.decode(byte.encodeContinuation(text)), 'decode').toBe(text)
  })

  it('reads special-token text as the special token, as transformers does (the byte tokenizer does not)', () => {
    expect(hf.encodeContinuation('a</s>'), 'EOS, not its 4 bytes').toEqual([3 + 0x61, 2])
    expect(byte.encodeContinuation('a</s>').length).toBe(5)
  })

  it('knows its size, its EOS and how to show a token', () => {
    expect(hf.vocabSize).toBe(byte.vocabSize)
    expect(hf.eogTokens).toEqual([2])
    expect(hf.tokenText(3 + 0x61), 'a byte that is a character').toBe('a')
    expect(hf.tokenText(3 + 0xc3), 'half of a UTF-8 character').toBe('<0xC3>')
    expect(hf.tokenText(2), 'a special token').toBe('</s>')
    expect(hf.decode([1, 3 + 0x61, 2]), 'special tokens are not text').toBe('a')
  })
})

/** GPT-2's byte-to-unicode map for the bytes used here: printable ASCII is itself, space is "Ġ". */
const gpt2Char = (c: string) => (c === ' ' ? 'Ġ' : c)

describe('a byte-level BPE tokenizer with merges (GPT-2 style)', () => {
  const letters = [...'abcdefghijklmnopqrstuvwxyz !,.'].map(gpt2Char)
  const vocab: Record<string, number> = {}
  for (const ch of letters) vocab[ch] = Object.keys(vocab).length
  const merges = ['Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', 'h e', 'l l', 'he ll', 'hell o']
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length
  const eot = Object.keys(vocab).length
  const path = folder('gpt2', {
    'tokenizer.json': {
      version: '1.0',
      added_tokens: [
        {
          id: eot,
          content: '<|endoftext|>',
          special: true,
          normalized: false,
          lstrip: false,
          rstrip: false,
          single_word: false,
        },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        vocab: { ...vocab, '<|endoftext|>': eot },
        merges,
        dropout: null,
        unk_token: null,
      },
    },
  })
  const tokenizer = loadHfTokenizer(path)

  it('merges words into their tokens and decodes them back, with no BOS', () => {
    const ids = tokenizer.encodePrompt('hello world')
    expect(ids, 'hello + Ġworld').toEqual([vocab.hello, vocab.Ġworld])
    expect(tokenizer.decode(ids)).toBe('hello world')
    expect(tokenizer.tokenText(vocab.Ġworld!), 'Ġ shown as the space it is').toBe(' world')
  })

  it('ends generation at <|endoftext|> when no config names an EOS', () => {
    expect(tokenizer.eogTokens).toEqual([eot])
    expect(tokenizer.vocabSize).toBe(eot + 1)
  })

  it('takes the end-of-generation ids of generation_config.json first', () => {
    const withGeneration = folder('gpt2-generation', {
      'tokenizer.json': JSON.parse(readFileSync(path, 'utf8')),
      'generation_config.json': { eos_token_id: [eot, vocab.Ġ] },
    })
    expect(loadHfTokenizer(withGeneration).eogTokens).toEqual([eot, vocab.Ġ])
  })
})

describe('files it cannot use', () => {
  it('names the file and the fix', () => {
    expect(() => loadHfTokenizer(join(dir, 'nowhere', 'tokenizer.json'))).toThrow(TokenizerLoadError)
    expect(() => loadHfTokenizer(join(dir, 'nowhere', 'tokenizer.json'))).toThrow(
      /nowhere\/tokenizer\.json: no such file; give the path of the model's tokenizer\.json, or tokenizer: 'byte'/,
    )
    const empty = folder('empty-vocab', {
      'tokenizer.json': { model: { type: 'WordLevel', vocab: {}, unk_token: '' } },
    })
    expect(() => loadHfTokenizer(empty)).toThrow(/empty-vocab\/tokenizer\.json: .+/)
  })
})
