/**
 * The vllm personality's server state. Its `/metrics` (names, help texts, buckets of vLLM 0.11's
 * vllm/v1/metrics/loggers.py) are in vllm-metrics.ts.
 * @module
 */

/** What `GET /version` reports: the vLLM release whose metrics and stream shape the personality follows. */
export const VLLM_VERSION = '0.11.0'

export { buckets125, VLLM_MAX_MODEL_LEN, VllmMetrics as VllmModel } from './vllm-metrics.ts'
