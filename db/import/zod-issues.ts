/** zod issues as one line for an ImportError: `completed: expected number, received string; duration: required`. */
import type { z } from 'zod'

export function describeIssues(error: z.ZodError, prefix = ''): string {
  const shown = error.issues.slice(0, 8).map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
    const at = `${prefix}${path}`.replace(/^\./, '')
    return `${at || '(root)'}: ${i.message}`
  })
  const more = error.issues.length - shown.length
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`
}
