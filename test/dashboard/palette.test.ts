/**
 * Colour by variant family (issue 17 item 3): one function (dashboard/charts/palette.ts) for every page,
 * so a family has the same colour wherever it is drawn, two families of a page never share one, and the
 * Pareto chart's legend lists families (a few entries) instead of one per target.
 */
import { describe, expect, it } from 'vitest'
import { FAMILY_COLOURS, FRONT_COLOUR, familyColours, variantFamily } from '../../dashboard/charts/palette.ts'
import { paretoChart } from '../../dashboard/charts/pareto.ts'

describe('familyColours', () => {
  it('gives a family the same colour whatever else the page shows, and distinct colours on one page', () => {
    const alone = familyColours(['fixture-tiny'])
    const crowd = familyColours(['mock-model', 'fixture-tiny', 'llama-3.1-8b', 'qwen2.5-7b'])
    expect(crowd.get('fixture-tiny'), 'same colour on another page').toBe(alone.get('fixture-tiny'))
    expect(new Set(crowd.values()).size, 'four families, four colours').toBe(4)
    const twenty = familyColours(Array.from({ length: FAMILY_COLOURS.length }, (_, i) => `family-${i}`))
    expect(new Set(twenty.values()).size, 'as many families as colours: no two alike').toBe(
      FAMILY_COLOURS.length,
    )
    expect(FAMILY_COLOURS, 'the front keeps its own colour').not.toContain(FRONT_COLOUR)
  })

  it('takes the family, else the variant, else the served model', () => {
    expect(variantFamily({ family: 'fixture-tiny', variantName: 'tiny-q4_0', engineModel: 'x.gguf' })).toBe(
      'fixture-tiny',
    )
    expect(variantFamily({ family: null, variantName: 'tiny-q4_0', engineModel: 'x.gguf' })).toBe('tiny-q4_0')
    expect(variantFamily({ engineModel: 'mock-model' })).toBe('mock-model')
  })
})

describe('paretoChart by family', () => {
  it('one series per family in its colour, 40 targets in a legend of three', () => {
    const points = Array.from({ length: 40 }, (_, i) => ({
      x: i,
      y: 100 - i,
      label: `t-${i}`,
      family: i % 2 === 0 ? 'fixture-tiny' : 'mock-model',
      ...(i === 39 ? { flagged: 'client-saturated' } : {}),
    }))
    const config = paretoChart({
      points,
      x: { title: 'outputTokensPerS (tokens/s)', better: 'higher' },
      y: { title: 'ttftMsP95 (ms)', better: 'lower' },
    })
    expect(config.data.datasets.map((d) => d.label)).toEqual([
      'Pareto front',
      'fixture-tiny',
      'mock-model',
      'flagged (not a best)',
    ])
    const colours = familyColours(['fixture-tiny', 'mock-model'])
    expect(
      (config.data.datasets[1]!.pointBackgroundColor as string[]).every((c) =>
        c.startsWith(colours.get('fixture-tiny')!),
      ),
      'family colour (with alpha)',
    ).toBe(true)
    // Higher x and lower y together: t-38 dominates every clean point (t-39 is flagged).
    expect(config.data.datasets[0]!.data).toHaveLength(1)
    expect(config.options.plugins, 'legend shown: it fits; drawn with the point styles').toMatchObject({
      legend: { display: true, labels: { usePointStyle: true } },
    })
  })
})
