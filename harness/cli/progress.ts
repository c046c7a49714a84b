/**
 * A cli-progress bar on stderr per load step (results go to stdout, so they stay pipeable).
 * Silent when stderr is not a terminal.
 * @module
 */
import cliProgress from 'cli-progress'
import { describeLoad, expectedRequests } from '../load/index.ts'
import type { RunnerEvent } from '../runner.ts'

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
        const total = expectedRequests(event.load)
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${event.target} · ${describeLoad(event.load)} [{bar}] {value}${total ? '/{total}' : ''} req · {errors} err · {duration_formatted}`,
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
