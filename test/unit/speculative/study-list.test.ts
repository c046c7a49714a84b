/**
 * `bench study list`'s line (harness/cli/actions/study.ts studyListLine): a study without a predicted best K
 * (an endpoint study whose server reported no counters) reads "best K predicted –", not "– (–×)"; the
 * error of a completed study (an endpoint that did not speculate) is on its line.
 */
import { describe, expect, it } from 'vitest'
import type { StudySummary } from '../../../db/studies/store.ts'
import { studyListLine } from '../../../harness/cli/actions/study.ts'

const summary = (o: Partial<StudySummary> = {}): StudySummary => ({
  id: 6,
  name: 'spec-llama-q4',
  kind: 'endpoint',
  label: null,
  state: 'completed',
  error: null,
  progress: 1,
  progressMessage: null,
  ks: [1, 2, 4],
  costRatio: 0.6767,
  alphaUsed: null,
  optimalK: 2,
  optimalSpeedup: 1.214,
  bestMeasured: { k: 4, speedup: 0.682 },
  matrixId: null,
  createdAt: new Date(0),
  startedAt: null,
  finishedAt: null,
  ...o,
})

describe('studyListLine', () => {
  it('best K predicted and measured with their speedups; – alone when there is none', () => {
    expect(studyListLine(summary())).toBe(
      '6\tspec-llama-q4\tendpoint\tcompleted\tK 1,2,4\tα –\tc 0.68\tbest K predicted 2 (1.21×), measured 4 (0.68×)',
    )
    expect(
      studyListLine(
        summary({ optimalK: null, optimalSpeedup: null, bestMeasured: null, error: 'on[0].url …' }),
      ),
    ).toBe(
      '6\tspec-llama-q4\tendpoint\tcompleted\tK 1,2,4\tα –\tc 0.68\tbest K predicted –, measured –\ton[0].url …',
    )
    expect(studyListLine(summary({ state: 'running', progress: 0.42 }))).toContain('\trunning 42 %\t')
  })
})
