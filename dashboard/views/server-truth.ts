/**
 * The run page's account of the server's own clock (llama-server `timings`, stored per request and
 * summarized as serverPromptMs, serverTpotMs, ttftOverServerMs, tpotOverServerMs, promptCacheHits): how
 * much of TTFT and TPOT the server spent, how much happened outside it (queueing, HTTP, the client), and
 * whether TTFT measured prompt-cache hits. Nothing for runs whose server sent no timings.
 * @module
 */
import type { PercentileRow, ScalarRow } from '../data/run.ts'
import { formatValue } from './format.ts'
import { type Html, h, notice } from './html.ts'

export function serverTruthNote(m: {
  percentiles: readonly PercentileRow[]
  scalars: readonly ScalarRow[]
}): Html | '' {
  const p50 = (name: string) => m.percentiles.find((p) => p.name === name)?.stats.P50 ?? undefined
  const scalar = (name: string) => m.scalars.find((s) => s.name === name)
  const serverPrompt = p50('serverPromptMs')
  const serverTpot = p50('serverTpotMs')
  if (serverPrompt === undefined && serverTpot === undefined) return ''
  const ms = (v: number | undefined) => formatValue(v, 'ms')
  const hits = scalar('promptCacheHits')
  const cachedPct = scalar('promptCachedTokensPct')?.value
  const ttft =
    serverPrompt === undefined
      ? ''
      : h`TTFT p50 ${ms(p50('ttftMs'))}: the server's prompt evaluation p50 ${ms(serverPrompt)}, and ${ms(p50('ttftOverServerMs'))} p50 outside it (queueing in the server, HTTP, this client). `
  const tpot =
    serverTpot === undefined
      ? ''
      : h`TPOT p50 ${ms(p50('tpotMs'))} here, ${ms(serverTpot)} by the server's clock (predicted_ms / (predicted_n − 1)); the difference p50 ${ms(p50('tpotOverServerMs'))} is transport and client. `
  const text = h`Server timings (${hits?.n ?? '?'} requests): ${ttft}${tpot}`
  if (hits !== undefined && hits.value > 0)
    return notice(
      h`${text}${hits.value} of ${hits.n} requests took at least half their prompt from the server's prompt cache (${formatValue(cachedPct, '%')} of prompt tokens cached): their TTFT measured a cache hit, not prompt processing.`,
      'warn',
    )
  return notice(h`${text}No request's TTFT measured a prompt-cache hit.`)
}
