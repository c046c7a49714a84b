/**
 * Runs that store no request rows by design — micro, accuracy, quality, checklist, an imported llama-bench
 * file — say on their page what they measured (tasks and iterations, items, tokens, verdicts, pp/tg tests), never "Requests: 0", which reads
 * as a run that lost everything (nor does `bench runs show`); a load step still counts its requests.
 */

import path from 'node:path'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { importFile } from '../../db/import/index.ts'
import { getRunDetail } from '../../db/queries/run-detail.ts'
import { formatRunDetail } from '../../harness/cli/actions/runs.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { type KindsSeed, seedKinds } from './fixtures/kinds-seed.ts'

describe.each(dbBackends())('run page of each run kind on %s', (backend) => {
  let t: TestDatabase
  let s: KindsSeed
  let app: Hono
  let llamaBench: number

  beforeAll(async () => {
    t = await createTestDatabase(backend)
    s = await seedKinds(t.db)
    // Real llama-bench -o json output (pp64 and tg32, 3 repetitions each; test/db/fixtures/README.md).
    const imported = await importFile(t.db, path.join(import.meta.dirname, '../db/fixtures/llama-bench.json'))
    llamaBench = imported.runs[0]!.id
    app = createApp({ db: t.db, auth: {} })
  }, 60_000)
  afterAll(async () => {
    await t?.dispose()
  })

  /** The run page's "what was measured" paragraph, tags stripped, and the whole page. */
  async function measured(runId: number): Promise<{ line: string; html: string }> {
    const res = await app.request(`/runs/${runId}`)
    const html = await res.text()
    expect(res.status, `run ${runId}: ${html.slice(0, 200)}`).toBe(200)
    const line = /<p id="measured">([\s\S]*?)<\/p>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '')
    if (line === undefined) throw new Error(`run ${runId}: no measured line`)
    return { line, html }
  }

  it('a micro run counts its tasks and timed iterations, not requests', async () => {
    const { line, html } = await measured(s.micro)
    expect(line, 'micro line').toBe(
      'Micro tasks: 2 of 2 measured, 62 timed iterations in all (tinybench; a micro run sends no request).',
    )
    expect(html, 'no request count').not.toContain('Requests: 0')
    expect(html, 'no empty request chart notice').not.toContain('No per-request rows to chart.')
    expect(html, 'its task table is still there').toContain('id="micro"')
  })

  it('accuracy, quality and checklist runs say what they scored or judged', async () => {
    const accuracy = await measured(s.accuracy)
    expect(accuracy.line, 'accuracy').toBe(
      'Items: 12 (12 scored, 0 errors; an accuracy run scores items, not requests).',
    )
    const quality = await measured(s.quality)
    expect(quality.line, 'quality').toBe(
      'Scored tokens: 40 against tiny-f32 (a quality run compares next-token distributions, not requests).',
    )
    const checklist = await measured(s.checklistFailed)
    expect(checklist.line, 'checklist with a warn and a fail').toBe(
      'Checklist items: 4 (2 pass, 1 warn, 1 fail; its probes and loads are not stored as requests).',
    )
    for (const [kind, page] of Object.entries({ accuracy, quality, checklist }))
      expect(page.html, `${kind}: no request count`).not.toContain('Requests: 0')
  })

  it('an imported llama-bench run lists its tests and repetitions', async () => {
    const { line, html } = await measured(llamaBench)
    expect(line, 'llama-bench').toBe(
      'llama-bench tests: pp64 (3 repetitions), tg32 (3 repetitions) (imported engine figures, no requests).',
    )
    expect(html, 'no request count').not.toContain('Requests: 0')
  })

  it('a load step still counts its requests', async () => {
    const { line } = await measured(s.load)
    expect(line, 'load step').toBe('Requests: 8 (8 ok, 0 errors).')
  })

  it('bench runs show prints a request count for a load step only', async () => {
    const show = async (id: number) => {
      const detail = await getRunDetail(t.db, id)
      if (!detail) throw new Error(`no run ${id}`)
      return formatRunDetail(detail)
    }
    expect(await show(s.load), 'load step').toMatch(/^requests +8 \(8 ok, 0 errors\)$/m)
    for (const [kind, id] of Object.entries({
      micro: s.micro,
      accuracy: s.accuracy,
      quality: s.quality,
      checklist: s.checklistFailed,
      'llama-bench': llamaBench,
    })) {
      const text = await show(id)
      expect(text, `${kind}: no requests line`).not.toMatch(/^requests /m)
      expect(text, `${kind}: its load in words`).toMatch(/^load +\S/m)
    }
  })
})
