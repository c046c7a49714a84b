/**
 * Values the CLI's flags show in --help (choices, defaults) whose owners are modules too heavy to load
 * for registering a command: db/schema.ts (drizzle), harness/config/schema.ts and mock-server/options.ts
 * (zod), dashboard/server.ts (hono, the database). Kept here as copies so `bench --help` loads none of
 * them; the types below fail to compile when an owner's set of values changes, and
 * test/e2e/cli-build.test.ts checks that each copy equals its owner, order included.
 * @module
 */
import type { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from '../../dashboard/server.ts'
import type { alertStates, runStates } from '../../db/schema.ts'
import type { OPENAI_CLIENTS } from '../config/schema.ts'
import type { PERSONALITIES } from '../mock-server/options.ts'

/** True when A and B hold the same values (checked at compile time only). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

export const RUN_STATES = ['running', 'completed', 'failed', 'interrupted'] as const
export const ALERT_STATES = ['active', 'acknowledged', 'dismissed'] as const
export const OPENAI_CLIENT_CHOICES = ['http1', 'undici', 'sdk'] as const
export const MOCK_PERSONALITIES = ['default', 'llama-server', 'vllm'] as const
export const DASHBOARD_PORT = 8787
export const DASHBOARD_HOST = '127.0.0.1'

export const SAME_AS_OWNERS: [
  Same<(typeof RUN_STATES)[number], (typeof runStates)[number]>,
  Same<(typeof ALERT_STATES)[number], (typeof alertStates)[number]>,
  Same<(typeof OPENAI_CLIENT_CHOICES)[number], (typeof OPENAI_CLIENTS)[number]>,
  Same<(typeof MOCK_PERSONALITIES)[number], (typeof PERSONALITIES)[number]>,
  Same<typeof DASHBOARD_PORT, typeof DEFAULT_DASHBOARD_PORT>,
  Same<typeof DASHBOARD_HOST, typeof DEFAULT_DASHBOARD_HOST>,
] = [true, true, true, true, true, true]
