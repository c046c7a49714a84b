/**
 * A seeded multiple-choice set written as JSONL (harness/accuracy's layout), for the mock's `answers`
 * option and the tests that score it: `subjects` × `perSubject` test items with 4 choices and an answer
 * drawn by the seed, plus 5 dev shots per subject.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseMcJsonl } from '../../harness/accuracy/load-jsonl.ts'
import type { McDataset } from '../../harness/accuracy/types.ts'
import { createRandom } from '../../harness/random.ts'

export interface McKey {
  file: string
  dataset: McDataset
}

export function writeMcKey(options: { subjects: number; perSubject: number; seed: number }): McKey {
  const random = createRandom(options.seed)
  const word = () => Math.floor(random.next() * 1e6).toString(36)
  const lines: string[] = []
  for (let s = 0; s < options.subjects; s++) {
    const subject = `subject_${s}`
    const item = (split: string, i: number) =>
      JSON.stringify({
        subject,
        split,
        question: `Question ${split} ${i} about ${word()}, ${word()}?`,
        choices: [word(), word(), word(), word()],
        answer: Math.floor(random.next() * 4),
      })
    for (let i = 0; i < 5; i++) lines.push(item('dev', i))
    for (let i = 0; i < options.perSubject; i++) lines.push(item('test', i))
  }
  const file = join(mkdtempSync(join(tmpdir(), 'bench-mc-key-')), 'key.jsonl')
  const text = `${lines.join('\n')}\n`
  writeFileSync(file, text)
  return { file, dataset: parseMcJsonl(text, file) }
}

/**
 * The central 99 % interval of Binomial(n, p), as counts: the largest lo with P(X < lo) ≤ 0.005 and the
 * smallest hi with P(X > hi) ≤ 0.005 (pmf summed in log space).
 */
export function binomialInterval99(n: number, p: number): { lo: number; hi: number } {
  const logFact = [0]
  for (let i = 1; i <= n; i++) logFact.push(logFact[i - 1]! + Math.log(i))
  const pmf = (k: number) =>
    Math.exp(logFact[n]! - logFact[k]! - logFact[n - k]! + k * Math.log(p) + (n - k) * Math.log1p(-p))
  let lo = 0
  let below = 0
  while (below + pmf(lo) <= 0.005) below += pmf(lo++)
  let hi = n
  let above = 0
  while (above + pmf(hi) <= 0.005) above += pmf(hi--)
  return { lo, hi }
}
