/**
 * The compiled CLI (harness/cli/build.mjs) runs without tsx, yet scenario files users write are TypeScript
 * and import the harness's sources. Commands that load a scenario call allowTypeScriptImports() first: under
 * the build it registers tsx once (~0.2 s, paid only by those commands); under tsx or vitest it does nothing.
 * @module
 */

/** Set by harness/cli/bench.mjs when it runs the build. */
const COMPILED = Symbol.for('bench.compiled')
let registered = false

export async function allowTypeScriptImports(): Promise<void> {
  if (registered || (globalThis as Record<symbol, unknown>)[COMPILED] !== true) return
  registered = true
  const { register } = await import('tsx/esm/api')
  register()
}
