/**
 * What a one-run command (`bench load`, `bench checklist`) opens around its run: the results database
 * (`--db`, else the default; none with `--no-db`) behind a sink, and the interrupt — the first SIGINT or
 * SIGTERM aborts the controller (saying what is being interrupted), a second quits at once. `close()`
 * removes the handlers, finishes a run left open as failed (never left `running`), and closes the sink
 * and the database.
 * @module
 */
import type { Database } from '../../../db/client.ts'
import { createNullSink } from '../../jsonl-sink.ts'
import type { ResultSink, RunRecorder } from '../../sink.ts'
import { EXIT_ERROR } from '../action.ts'
import { dbOptions } from '../commands/db.ts'

export interface CommandSink {
  sink: ResultSink
  database: Database | undefined
  controller: AbortController
  /** `why`: the error stored on a run still open (its command threw before finishing it). */
  close(open: RunRecorder | undefined, why: string): Promise<void>
}

/** @param what e.g. 'the load' in "interrupting the load (Ctrl-C again to quit at once)". */
export async function openCommandSink(
  db: string | false | undefined,
  what: string,
  abortReason?: () => unknown,
): Promise<CommandSink> {
  let database: Database | undefined
  let sink: ResultSink = createNullSink()
  if (db !== false) {
    const [{ createDb }, { createPostgresSink }] = await Promise.all([
      import('../../../db/client.ts'),
      import('../../../db/sink.ts'),
    ])
    database = await createDb({ ...dbOptions(db), embeddedHost: 'worker' })
    sink = createPostgresSink(database)
  }
  const controller = new AbortController()
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_ERROR)
    process.stderr.write(`\ninterrupting ${what} (Ctrl-C again to quit at once)\n`)
    controller.abort(abortReason?.())
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    sink,
    database,
    controller,
    async close(open, why) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await open?.finish('failed', undefined, why).catch(() => undefined)
      await sink.close()
      await database?.close()
    },
  }
}
