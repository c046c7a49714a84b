/**
 * HTML pages. Each reads the same model its /api twin returns (dashboard/data) and renders it
 * (dashboard/views).
 * @module
 */
import { Hono } from 'hono'
import type { Db } from '../../db/client.ts'
import { activeAlertCount, loadAlerts } from '../data/alerts.ts'
import type { ReadCache } from '../data/cache.ts'
import { loadCompare } from '../data/compare.ts'
import { loadHistory } from '../data/history.ts'
import { loadLeaderboard } from '../data/leaderboard.ts'
import { cachedSeries } from '../data/pickers.ts'
import { loadRun } from '../data/run.ts'
import { loadRuns } from '../data/runs.ts'
import { loadVariants } from '../data/variants.ts'
import {
  alertsQuery,
  comparePickerQuery,
  compareQuery,
  historyQuery,
  leaderboardQuery,
  parseQuery,
  parseRunId,
  runsQuery,
  seriesQuery,
  variantsQuery,
} from '../params.ts'
import { alertsPage } from '../views/alerts.ts'
import { comparePage, comparePickerPage } from '../views/compare.ts'
import { historyPage, seriesListPage } from '../views/history.ts'
import { leaderboardPage } from '../views/leaderboard.ts'
import { navCounts } from '../views/nav-counts.ts'
import { runPage } from '../views/run.ts'
import { runsPage } from '../views/runs.ts'
import { variantsPage } from '../views/variants.ts'
import { matrixPageRoutes } from './matrices.ts'
import { procurementPageRoutes } from './procurement.ts'
import { studyPageRoutes } from './studies.ts'
import { sweepPageRoutes } from './sweeps.ts'

export function pageRoutes(db: Db, cache?: ReadCache): Hono {
  const app = new Hono()

  // The navigation's counts (cached like the other reads), for every page's layout.
  app.use('*', async (_c, next) => navCounts.run({ activeAlerts: await activeAlertCount(db, cache) }, next))

  app.get('/', async (c) =>
    c.html(leaderboardPage(await loadLeaderboard(db, parseQuery(leaderboardQuery, c.req.query()), cache))),
  )

  app.get('/variants', async (c) =>
    c.html(variantsPage(await loadVariants(db, parseQuery(variantsQuery, c.req.query()), cache))),
  )

  app.get('/history', async (c) => {
    const query = c.req.query()
    if (!query.fingerprint) {
      const filter = parseQuery(seriesQuery, query)
      return c.html(seriesListPage(await cachedSeries(db, filter, cache), filter))
    }
    return c.html(historyPage(await loadHistory(db, parseQuery(historyQuery, query))))
  })

  app.get('/runs', async (c) =>
    c.html(runsPage(await loadRuns(db, parseQuery(runsQuery, c.req.query()), cache))),
  )

  app.get('/runs/:id', async (c) => c.html(runPage(await loadRun(db, parseRunId(c.req.param('id')), cache))))

  app.get('/compare', async (c) => {
    const query = c.req.query()
    const picked = parseQuery(comparePickerQuery, query)
    if (picked.a === undefined || picked.b === undefined) return c.html(comparePickerPage(picked.a, picked.b))
    const { a, b } = parseQuery(compareQuery, query)
    return c.html(comparePage(await loadCompare(db, a, b)))
  })

  app.get('/alerts', async (c) =>
    c.html(alertsPage(await loadAlerts(db, parseQuery(alertsQuery, c.req.query()), cache))),
  )

  app.route('/', procurementPageRoutes(db, cache))

  app.route('/', sweepPageRoutes(db, cache))

  app.route('/', matrixPageRoutes(db))

  app.route('/', studyPageRoutes(db))

  return app
}
