/**
 * A cli-progress bar on stderr per load step (results go to stdout, so they stay pipeable).
 * Silent when stderr is not a terminal.
 * @module
 */
import cliProgress from 'cli-progress'
import type { RunnerEvent } from '../runner.ts'
import { describeRun, expectedEvents } from './describe-run.ts'

export function createProgressReporter(
  enabled = process.stderr.isTTY === true,
): (event: RunnerEvent) => void {
  if (!enabled) return () => {}
  let bar: cliProgress.SingleBar | undefined
  let errors = 0
  return (event) => {
    switch (event.type) {
      case 'load-start': {
        errors = 0
        const total = expectedEvents(event.load)
        const unit = event.load.kind === 'accuracy' ? 'items' : 'req'
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${event.target} · ${describeRun(event.load)} [{bar}] {value}${total ? '/{total}' : ''} ${unit} · {errors} err · {duration_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
        bar.start(total ?? 0, 0, { errors })
        break
      }
      case 'request':
        // Requests aborted by Ctrl-C are not errors (errorRate leaves them out too).
        if (event.outcome.state === 'error' && event.outcome.error.kind !== 'aborted') errors++
        bar?.increment(1, { errors })
        break
      case 'item':
        if (event.outcome.error) errors++
        bar?.increment(1, { errors })
        break
      case 'notice':
        process.stderr.write(`${event.target}: ${event.message}\n`)
        break
      case 'load-end':
        bar?.stop()
        bar = undefined
        break
      case 'target-failed':
        process.stderr.write(`${event.target}: ${event.message}\n`)
        break
    }
  }
}
