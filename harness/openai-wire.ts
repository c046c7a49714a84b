/**
 * Names on the OpenAI-compatible wire that both sides of this repository use: the openai engine (client)
 * and the mock server (harness/mock-server). Both import this module, never each other.
 * @module
 */

/**
 * Request header carrying the client's send time: monotonicMs() (clock.ts) in ms, 3 decimals. Sent only
 * with the openai engine's sendTimeHeader; read by the mock server's clientClock option.
 */
export const SENT_AT_HEADER = 'x-bench-sent-at'
