/** Generation budgets and the slot queue shared by the native engines. */
import { describe, expect, it } from 'vitest'
import { generationBudget, SlotPool } from '../../../harness/engines/native/native-common.ts'

describe('generationBudget', () => {
  it('bans EOS below minTokens and checks stop strings from there', () => {
    expect(generationBudget({ prompt: '', maxTokens: 10, minTokens: 4 }), 'min 4').toEqual({
      maxTokens: 10,
      banEosBelow: 4,
      stopAfterTokens: 4,
    })
  })
  it('ignoreEos bans EOS for the whole output', () => {
    expect(generationBudget({ prompt: '', maxTokens: 10, ignoreEos: true }).banEosBelow, 'ignoreEos').toBe(
      Number.POSITIVE_INFINITY,
    )
  })
  it('stops where the context is full and clips minTokens to maxTokens', () => {
    const b = generationBudget({ prompt: '', maxTokens: 10, minTokens: 20 }, 6)
    expect(b.maxTokens, 'room 6').toBe(6)
    expect(b.banEosBelow, 'min clipped to max').toBe(10)
  })
})

describe('SlotPool', () => {
  it('hands out free slots, queues FIFO, and passes released slots to the next waiter', async () => {
    const pool = new SlotPool(['s0'])
    expect(await pool.acquire(), 'free slot').toBe('s0')
    const order: string[] = []
    const a = pool.acquire().then((s) => order.push(`a:${s}`))
    const b = pool.acquire().then((s) => order.push(`b:${s}`))
    expect(pool.waiting, 'two waiting').toBe(2)
    pool.release('s0')
    await a
    expect(order, 'a first').toEqual(['a:s0'])
    pool.release('s0')
    await b
    expect(order, 'then b').toEqual(['a:s0', 'b:s0'])
  })

  it('an abort while waiting rejects with the reason and leaves the queue', async () => {
    const pool = new SlotPool([1])
    await pool.acquire()
    const controller = new AbortController()
    const reason = new Error('gone')
    const waiting = pool.acquire(controller.signal)
    controller.abort(reason)
    await expect(waiting, 'rejects with the reason').rejects.toBe(reason)
    expect(pool.waiting, 'queue empty').toBe(0)
    pool.release(1)
    expect(await pool.acquire(), 'slot still usable').toBe(1)
  })

  it('close() fails waiters and later acquires', async () => {
    const pool = new SlotPool<number>([])
    const waiting = pool.acquire()
    const reason = new Error('disposed')
    pool.close(reason)
    await expect(waiting, 'waiter').rejects.toBe(reason)
    await expect(pool.acquire(), 'later').rejects.toBe(reason)
  })
})
