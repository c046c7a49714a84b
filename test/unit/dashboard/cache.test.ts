import { describe, expect, it } from 'vitest'
import { ReadCache } from '../../../dashboard/data/cache.ts'

/** A cache over a version the test sets, with a clock the test moves. */
function setup(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  const state = { version: 'v1', now: 0, versionReads: 0 }
  const cache = new ReadCache({
    version: async () => {
      state.versionReads++
      return state.version
    },
    versionTtlMs: 100,
    now: () => state.now,
    ...options,
  })
  let computed = 0
  const compute = (value: string) => async () => {
    computed++
    return value
  }
  return { state, cache, compute, computed: () => computed }
}

describe('ReadCache', () => {
  it('reuses a value until the data version changes', async () => {
    const { state, cache, compute, computed } = setup()
    expect(await cache.get('k', compute('a')), 'first').toBe('a')
    expect(await cache.get('k', compute('b')), 'cached').toBe('a')
    state.version = 'v2'
    state.now = 101
    expect(await cache.get('k', compute('c')), 'new version').toBe('c')
    expect(computed(), 'computations').toBe(2)
  })

  it('reads the version at most once per versionTtlMs', async () => {
    const { state, cache, compute } = setup()
    await cache.get('a', compute('a'))
    await cache.get('b', compute('b'))
    state.now = 100
    await cache.get('a', compute('a'))
    expect(state.versionReads, 'within the ttl').toBe(1)
    state.now = 101
    await cache.get('a', compute('a'))
    expect(state.versionReads, 'after it').toBe(2)
  })

  it('shares one computation between concurrent callers', async () => {
    const { cache } = setup()
    let release: (v: string) => void = () => {}
    let calls = 0
    const slow = () => {
      calls++
      return new Promise<string>((resolve) => {
        release = resolve
      })
    }
    const both = Promise.all([cache.get('k', slow), cache.get('k', slow)])
    await new Promise((r) => setImmediate(r))
    release('x')
    expect(await both, 'same value').toEqual(['x', 'x'])
    expect(calls, 'computed once').toBe(1)
  })

  it('forgets failures, expires by age, evicts the least recently used', async () => {
    const { state, cache, compute, computed } = setup({ maxEntries: 2, maxAgeMs: 1000 })
    await expect(
      cache.get('bad', () => Promise.reject(new Error('boom'))),
      'failure',
    ).rejects.toThrow('boom')
    expect(await cache.get('bad', compute('ok')), 'recomputed after a failure').toBe('ok')
    state.now = 1001
    expect(await cache.get('bad', compute('fresh')), 'too old').toBe('fresh')
    await cache.get('x', compute('x'))
    await cache.get('bad', compute('never'))
    await cache.get('y', compute('y'))
    expect(cache.size, 'bounded').toBe(2)
    const before = computed()
    expect(await cache.get('bad', compute('never')), 'recently used survived').toBe('fresh')
    expect(await cache.get('x', compute('x2')), 'least recently used evicted').toBe('x2')
    expect(computed(), 'one recomputation').toBe(before + 1)
  })

  it('keeps immutable values across versions', async () => {
    const { state, cache, compute } = setup()
    expect(await cache.getImmutable('run:1', compute('series')), 'first').toBe('series')
    state.version = 'v9'
    state.now = 10_000_000
    expect(await cache.getImmutable('run:1', compute('other')), 'unchanged').toBe('series')
  })
})
