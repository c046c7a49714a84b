/**
 * Colours for series: distinguishable, readable on white, and the same series the same colour on every
 * chart of a page (callers index by series, not by dataset position).
 * @module
 */
export const SERIES_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const

export function seriesColour(index: number): string {
  return SERIES_COLOURS[((index % SERIES_COLOURS.length) + SERIES_COLOURS.length) % SERIES_COLOURS.length]!
}

/** `#rrggbb` with an alpha, for fills. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255)
  return `${hex}${a.toString(16).padStart(2, '0')}`
}

export const BASE_COLOUR = '#4e79a7'
export const CANDIDATE_COLOUR = '#f28e2b'
export const FRONT_COLOUR = '#e15759'

/**
 * Colours of variant families (`familyColours`): Tableau 10 but the front's red, and ten more, so a page's few families rarely
 * share one. A target's colour says what it is (its family), not where it sits in a list: with 50+
 * targets no palette tells each apart, so charts name them by label and tooltip instead.
 */
export const FAMILY_COLOURS = [
  // Not FRONT_COLOUR: a Pareto front's marks must stand out from every family.
  ...SERIES_COLOURS.filter((c) => c !== FRONT_COLOUR),
  '#1b9e77',
  '#d95f02',
  '#7570b3',
  '#e7298a',
  '#66a61e',
  '#a6761d',
  '#17becf',
  '#8c564b',
  '#bcbd22',
  '#666666',
] as const

/**
 * A target's variant family, the key its colour is chosen by on every page: the variant's `family`
 * (e.g. `fixture-tiny`: a model and what was derived from it), else the variant's name, else the model the
 * engine serves (an endpoint's model id), else `unknown`.
 */
export function variantFamily(v: {
  family?: string | null
  variantName?: string | null
  engineModel?: string | null
}): string {
  return v.family ?? v.variantName ?? v.engineModel ?? 'unknown'
}

/** FNV-1a of the text: the same family gets the same slot on every page, whatever else the page shows. */
function slotOf(family: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < family.length; i++) {
    hash ^= family.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % FAMILY_COLOURS.length
}

/**
 * Family → colour for the families of one page: each its hashed slot, so a family is the same colour on
 * every page; when two of the page's families hash to one slot, the later (by name) takes the next free
 * slot, so a page never shows two families in one colour (the only case where a colour can differ between
 * pages is such a clash). Past FAMILY_COLOURS.length families colours repeat; labels still tell them apart.
 */
export function familyColours(families: Iterable<string>): Map<string, string> {
  const names = [...new Set(families)].sort()
  const taken = new Set<number>()
  const colours = new Map<string, string>()
  for (const name of names) {
    let slot = slotOf(name)
    for (let tries = 0; taken.has(slot) && tries < FAMILY_COLOURS.length; tries++)
      slot = (slot + 1) % FAMILY_COLOURS.length
    taken.add(slot)
    colours.set(name, FAMILY_COLOURS[slot]!)
  }
  return colours
}
