/**
 * BodyQueue: pieces in order, the end and a failure through poll(); readers woken once, after the event
 * loop's poll phase, so every socket read of a burst is stamped before any reader runs.
 */
import { describe, expect, it } from 'vitest'
import { BODY_END, BodyQueue } from '../../../harness/engines/openai/body-queue.ts'

/** push() arguments for `text` read at `atMs`: the piece sits inside a larger read, as an HTTP chunk does. */
const piece = (text: string, atMs: number): [Buffer, number, number, number] => {
  const read = Buffer.from(`6\r\n${text}\r\n`)
  return [read, 3, 3 + Buffer.byteLength(text), atMs]
}
const textOf = (read: ReturnType<BodyQueue['poll']>) =>
  read === undefined || read === BODY_END ? read : read.bytes.toString('utf8', read.start, read.end)
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('BodyQueue', () => {
  it('hands out pieces in order with their stamps, then BODY_END, and nothing before they arrive', () => {
    const queue = new BodyQueue()
    expect(queue.poll(), 'nothing yet').toBeUndefined()
    queue.push(...piece('a', 1))
    queue.push(...piece('b', 2.5))
    queue.end()
    const first = queue.poll()
    expect(textOf(first), 'first').toBe('a')
    expect(first !== BODY_END && first?.atMs, 'its stamp').toBe(1)
    const second = queue.poll()
    expect(second, 'the same object, refilled').toBe(first)
    expect(textOf(second), 'second').toBe('b')
    expect(second !== BODY_END && second?.atMs, 'its stamp').toBe(2.5)
    expect(queue.poll(), 'then the end').toBe(BODY_END)
    expect(queue.poll(), 'and the end again').toBe(BODY_END)
  })

  it('keeps the order when pieces arrive while others wait, and reuses its slots', () => {
    const queue = new BodyQueue()
    const taken: (string | undefined | typeof BODY_END)[] = []
    for (let round = 0; round < 3; round++) {
      queue.push(...piece(`${round}a`, round))
      queue.push(...piece(`${round}b`, round))
      taken.push(textOf(queue.poll()))
      queue.push(...piece(`${round}c`, round))
      taken.push(textOf(queue.poll()), textOf(queue.poll()))
      expect(queue.poll(), `round ${round}: drained`).toBeUndefined()
    }
    expect(taken).toEqual(['0a', '0b', '0c', '1a', '1b', '1c', '2a', '2b', '2c'])
  })

  it('throws the failure once the pieces before it are taken; a failure after the end is ignored', () => {
    const queue = new BodyQueue()
    const error = new Error('reset')
    queue.push(...piece('a', 1))
    queue.fail(error)
    expect(queue.poll(), 'the piece first').not.toBeUndefined()
    expect(() => queue.poll(), 'then the error').toThrow(error)
    const ended = new BodyQueue()
    ended.end()
    ended.fail(error)
    expect(ended.poll(), 'still the end').toBe(BODY_END)
  })

  it('wakes each reader once, after every push of the same turn, not during it', async () => {
    const a = new BodyQueue()
    const b = new BodyQueue()
    const order: string[] = []
    a.notify(() => order.push(`read a (b has ${b.poll() === undefined ? 'nothing' : 'its piece'})`))
    b.notify(() => order.push('read b'))
    a.push(...piece('1', 1))
    a.push(...piece('2', 2))
    order.push('pushed a')
    b.push(...piece('3', 3))
    order.push('pushed b')
    expect(order, 'no reader ran inside the pushes').toEqual(['pushed a', 'pushed b'])
    await nextTurn()
    expect(order).toEqual(['pushed a', 'pushed b', 'read a (b has its piece)', 'read b'])
  })

  it('notify() with something already queued wakes at the next turn; stop() wakes nobody', async () => {
    const queue = new BodyQueue()
    queue.push(...piece('a', 1))
    let woken = 0
    queue.notify(() => woken++)
    expect(woken, 'not synchronously').toBe(0)
    await nextTurn()
    expect(woken, 'once').toBe(1)
    queue.notify(() => woken++)
    queue.push(...piece('b', 2))
    queue.stop()
    await nextTurn()
    expect(woken, 'stopped: not woken').toBe(1)
    expect(queue.poll(), 'and the queued piece dropped').toBeUndefined()
  })

  it('read() and text() serve readers that want promises', async () => {
    const queue = new BodyQueue()
    const text = queue.text()
    queue.push(...piece('hél', 1))
    await nextTurn()
    queue.push(...piece('lo', 2))
    queue.end()
    expect(await text).toBe('héllo')
  })
})
