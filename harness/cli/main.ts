/**
 * `bench` command line: the composition root (the only place that may wire harness/ to db/ and dashboard/).
 * @module
 */
import { Command } from 'commander'
import { registerAlertsCommands } from './commands/alerts.ts'
import { registerChangePointsCommand } from './commands/changepoints.ts'
import { registerChecklistCommand } from './commands/checklist.ts'
import { registerDashboardCommand } from './commands/dashboard.ts'
import { registerDbCommands } from './commands/db.ts'
import { registerEnqueueCommand } from './commands/enqueue.ts'
import { registerExportCommand } from './commands/export.ts'
import { registerFixturesCommand } from './commands/fixtures.ts'
import { registerGateCommand } from './commands/gate.ts'
import { registerImportCommand } from './commands/import.ts'
import { registerLoadCommand } from './commands/load.ts'
import { registerMatrixCommands } from './commands/matrix.ts'
import { registerMockServerCommand } from './commands/mock-server-flags.ts'
import { registerPushCommand } from './commands/push.ts'
import { registerQuickstartCommand } from './commands/quickstart.ts'
import { registerReportCommand } from './commands/report.ts'
import { registerRunCommand } from './commands/run.ts'
import { registerRunsCommands } from './commands/runs.ts'
import { registerSelftestCommand } from './commands/selftest.ts'
import { registerSpecCommand, registerSpecEndpointsCommand } from './commands/spec.ts'
import { registerStudyCommand } from './commands/study.ts'
import { registerSweepCommand } from './commands/sweep.ts'
import { registerWorkerCommand } from './commands/worker.ts'
import { redactStandardStreams } from './output.ts'

// Before anything prints: every byte on stdout and stderr passes through the one redactor (output.ts).
redactStandardStreams()

const program = new Command()
  .name('bench')
  .description(
    'LLM inference benchmark harness: run scenarios against engines, keep the results, catch regressions',
  )
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) })

registerRunCommand(program)
registerMockServerCommand(program)
registerSelftestCommand(program)
registerQuickstartCommand(program)
registerFixturesCommand(program)
registerDbCommands(program)
registerRunsCommands(program)
registerExportCommand(program)
registerImportCommand(program)
registerPushCommand(program)
registerDashboardCommand(program)
registerGateCommand(program)
registerAlertsCommands(program)
registerChangePointsCommand(program)
registerSweepCommand(program)
registerChecklistCommand(program)
registerLoadCommand(program)
registerReportCommand(program)
registerSpecCommand(program)
registerSpecEndpointsCommand(program)
registerStudyCommand(program)
registerEnqueueCommand(program)
registerWorkerCommand(program)
registerMatrixCommands(program)

await program.parseAsync(process.argv)
