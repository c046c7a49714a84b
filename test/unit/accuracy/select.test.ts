import { describe, expect, it } from 'vitest'
import { fewShots, selectItems } from '../../../harness/accuracy/select.ts'
import type { McItem } from '../../../harness/accuracy/types.ts'

function items(subject: string, count: number, split: 'dev' | 'test' = 'test'): McItem[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${subject}/${split}/${index}`,
    subject,
    split,
    index,
    question: `q${index}`,
    choices: ['a', 'b', 'c', 'd'],
    answer: index % 4,
    source: { file: 'f', line: index + 1 },
  }))
}

const all = [...items('anatomy', 10), ...items('virology', 6)]
const ids = (list: McItem[]) => list.map((i) => i.id)

describe('selectItems', () => {
  it('no options: every item', () => {
    expect(selectItems(all).length, '16').toBe(16)
  })

  it('limit with order first (lm-eval): the first n of each subject', () => {
    expect(ids(selectItems(all, { limit: 2 })), 'first two each').toEqual([
      'anatomy/test/0',
      'anatomy/test/1',
      'virology/test/0',
      'virology/test/1',
    ])
  })

  it('subjects filter, and an unknown subject listed with the known ones', () => {
    expect(ids(selectItems(all, { subjects: ['virology'], limit: 1 })), 'virology only').toEqual([
      'virology/test/0',
    ])
    expect(() => selectItems(all, { subjects: ['astronomy'] }), 'unknown').toThrow(
      'unknown subject astronomy; known: anatomy, virology',
    )
  })

  it('shuffle: seeded, reproducible, in file order, per-subject streams', () => {
    const a = selectItems(all, { limit: 3, order: 'shuffle', seed: 7 })
    expect(ids(a), 'same seed, same items').toEqual(
      ids(selectItems(all, { limit: 3, order: 'shuffle', seed: 7 })),
    )
    expect(a.length, '3 per subject').toBe(6)
    const anatomy = a.filter((i) => i.subject === 'anatomy').map((i) => i.index)
    expect(anatomy, 'ascending file order').toEqual([...anatomy].sort((x, y) => x - y))
    expect(new Set(anatomy).size, 'distinct').toBe(3)
    const seeds = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
        ids(selectItems(all, { limit: 3, order: 'shuffle', seed })).join(),
      ),
    )
    expect(seeds.size, 'different seeds draw different items').toBeGreaterThan(1)
    expect(
      ids(selectItems(all, { subjects: ['virology'], limit: 3, order: 'shuffle', seed: 7 })),
      'filtering subjects leaves virology’s draw unchanged',
    ).toEqual(ids(a.filter((i) => i.subject === 'virology')))
  })

  it('a limit of 0 or a fraction is refused', () => {
    expect(() => selectItems(all, { limit: 0 }), '0').toThrow(/limit must be a positive integer/)
    expect(() => selectItems(all, { limit: 1.5 }), '1.5').toThrow(/limit must be a positive integer/)
  })
})

describe('fewShots: first k of the subject’s dev split (first_n)', () => {
  const dev = [...items('anatomy', 5, 'dev'), ...items('virology', 2, 'dev')]
  it('the first k, in order', () => {
    expect(ids(fewShots(dev, 'anatomy', 3)), 'first three').toEqual([
      'anatomy/dev/0',
      'anatomy/dev/1',
      'anatomy/dev/2',
    ])
    expect(fewShots(dev, 'anatomy', 0), 'zero shots').toEqual([])
  })
  it('fewer dev items than k is an error saying how to fix it', () => {
    expect(() => fewShots(dev, 'virology', 5), 'virology has 2').toThrow(
      /subject virology has 2 dev items, 5 shots asked: add dev\/virology_dev\.csv rows/,
    )
  })
})
