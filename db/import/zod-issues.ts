/** zod issues as one line for an ImportError: `completed: expected number, received string; duration: required`. */
import type { z } from 'zod'

export function describeIssues(error: z.ZodError, prefix = ''): string {
  const shown = issueLines(error, prefix).slice(0, 8)
  const more = error.issues.length - shown.length
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`
}

/** One `path: message` line per issue, paths as `requests[3].ttftMs`. */
export function issueLines(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
    const at = `${prefix}${path}`.replace(/^\./, '')
    return `${at || '(root)'}: ${i.message}`
  })
}
