/**
 * The page an error renders as: status, what was wrong (escaped), a way back.
 * @module
 */
import { type Html, h } from './html.ts'
import { page } from './layout.ts'

export function errorPage(status: number, title: string, problems: readonly string[]): Html {
  return page({
    title: `${status} ${title}`,
    charts: false,
    body: h`<div class="error" role="alert">
<ul>${problems.map((p) => h`<li>${p}</li>`)}</ul>
<p><a href="/">Leaderboard</a> · <a href="/runs">Runs</a></p>
</div>`,
  })
}
