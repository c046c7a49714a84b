/**
 * `bench mock-server` as one module: the flags and delay parser (mock-server-flags.ts) with the flag
 * validation (actions/mock-flags.ts). main.ts imports mock-server-flags.ts alone, so `bench --help` does
 * not load zod, which the validation needs.
 * @module
 */
export { mockOptionsFromFlags } from '../actions/mock-flags.ts'
export { parseDelaySpec, registerMockServerCommand } from './mock-server-flags.ts'
