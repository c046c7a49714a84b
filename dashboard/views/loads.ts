/**
 * The load-step picker and the sentence saying which step a page ranks (leaderboard, variant × engine
 * table): figures of one step only are ranked together; the default is the scenario's first step.
 * @module
 */
import { raw } from 'hono/html'
import type { LoadOption } from '../data/loads.ts'
import { EVERY_LOAD } from '../params.ts'
import { type Html, h } from './html.ts'

/** A `<select name="load">` of the steps; with `every`, also `*` (every step ranked together). */
export function loadSelect(loads: readonly LoadOption[], selected: string | null, every: boolean): Html {
  return h`<label>load step
  <select name="load" data-autosubmit>
    ${loads.map((l) => h`<option value="${l.key}"${l.key === selected ? raw(' selected') : ''}>${l.label} (${l.targets} target${l.targets === 1 ? '' : 's'})</option>`)}
    ${every ? h`<option value="${EVERY_LOAD}"${selected === EVERY_LOAD ? raw(' selected') : ''}>every step (ranked together)</option>` : ''}
  </select>
</label>`
}

/** "Load step: step 1: sequential, the scenario's first load step (the default). …" */
export function loadLine(
  loads: readonly LoadOption[],
  load: string | null,
  chosen: 'asked' | 'first-step' | 'every' | 'none',
): Html {
  if (chosen === 'every')
    return h`<p class="scope notice-warn" id="load-note">Every load step ranked together (${loads.map((l) => l.label).join(', ')}): a concurrent run's throughput beside a sequential one's compares loads, not targets. Choose one step above.</p>`
  const shown = loads.find((l) => l.key === load)
  if (!shown)
    return h`<p class="scope" id="load-note">No load-step runs here: accuracy and quality figures only.</p>`
  const why = chosen === 'first-step' ? "the scenario's first load step (the default)" : 'as chosen'
  return h`<p class="scope" id="load-note">Load step: <strong>${shown.label}</strong>, ${why}. Figures of one load step only: sequential and concurrent runs are never ranked together${loads.length > 1 ? h` (${loads.length} steps: choose another above)` : ''}.</p>`
}
