import { describe, expect, it } from 'vitest'
import { parseMockOptions } from '../../../harness/mock-server/parse-options.ts'
import { PrefixKeys, PromptCache } from '../../../harness/mock-server/prompt-cache.ts'

const keys = (text: string) => new PrefixKeys().addText(text).keys

describe('PromptCache (llama-server personality)', () => {
  it('reuses the longest cached prefix, all but one token of a repeated prompt', () => {
    const cache = new PromptCache()
    expect(cache.reusable(keys('a b c d'), 4), 'empty cache').toBe(0)
    cache.insert(keys('a b c d'))
    expect(cache.reusable(keys('a b c d'), 4), 'same prompt: 4 − 1').toBe(3)
    expect(cache.reusable(keys('a b x y z'), 5), 'shared prefix a b').toBe(2)
    expect(cache.reusable(keys('a b c d e f'), 6), 'longer prompt: the whole cached 4').toBe(4)
    expect(cache.reusable(keys('x a b c d'), 5), 'different first word').toBe(0)
    expect(cache.reusable(new PrefixKeys().addIds([1, 2]).keys, 2), 'token ids never match words').toBe(0)
    expect(cache.longestPrefix(keys('a  b\nc')), 'whitespace-separated words').toBe(3)
  })

  it('keeps every cached sequence until the token budget evicts the oldest', () => {
    const cache = new PromptCache(10)
    cache.insert(keys('a b c d'))
    cache.insert(keys('e f g h'))
    expect(cache.tokens, 'tokens held').toBe(8)
    cache.insert(keys('a b c d')) // refreshed: now the newest, not counted twice
    expect(cache.tokens, 'tokens after refresh').toBe(8)
    cache.insert(keys('i j k'))
    expect(cache.tokens, 'oldest (e f g h) evicted').toBe(7)
    expect(cache.longestPrefix(keys('e f g h')), 'evicted').toBe(0)
    expect(cache.longestPrefix(keys('a b c d')), 'kept').toBe(4)
    cache.insert(keys('a b'))
    expect(cache.longestPrefix(keys('a b c')), 'a prefix of a kept sequence').toBe(3)
  })

  it('personality is validated by name', () => {
    expect(parseMockOptions({}).personality, 'default').toBe('default')
    expect(parseMockOptions({ personality: 'vllm' }).personality, 'vllm').toBe('vllm')
    expect(() => parseMockOptions({ personality: 'tgi' }), 'unknown').toThrow(/personality/)
  })
})
