// Worker thread entry: tsx registered by the parent (tsx/esm/api register(), vitest's transform) does not
// reach worker threads, so register it here before loading the TypeScript.
import { register } from 'tsx/esm/api'

register()
await import('./worker-main.ts')
