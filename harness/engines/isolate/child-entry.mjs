// Child process entry of an isolated engine: the parent forks this file with no exec arguments, so tsx is
// registered here before the TypeScript loads (as harness/mock-server/worker-entry.mjs does for threads).
import { register } from 'tsx/esm/api'

register()
await import('./child.ts')
