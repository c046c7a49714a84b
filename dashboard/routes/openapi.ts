/**
 * OpenAPI 3.1 description of /api, written by hand next to the routes (test/dashboard checks every route
 * is here and everything here is a route).
 * @module
 */
import { PROCUREMENT_OBJECTIVES } from '../../db/queries/procurement.ts'
import { alertStates, runStates } from '../../db/schema.ts'
import {
  DEFAULT_POINT_BUDGET,
  LEADERBOARD_SORTS,
  MAX_ALERTS_LIMIT,
  MAX_PROCUREMENT_TARGETS,
  MAX_USD_PER_HOUR,
} from '../params.ts'

type Param = {
  name: string
  in: 'query' | 'path'
  required?: boolean
  description: string
  schema: Record<string, unknown>
}

const text = (name: string, description: string): Param => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', maxLength: 200 },
})
const int = (name: string, description: string, minimum: number, maximum: number, dflt?: number): Param => ({
  name,
  in: 'query',
  description,
  schema: { type: 'integer', minimum, maximum, ...(dflt !== undefined ? { default: dflt } : {}) },
})
const time = (name: string, description: string): Param => ({
  name,
  in: 'query',
  description: `${description} ISO 8601, from 1900-01-01 to 9999-12-31; anything else is a 400.`,
  schema: { type: 'string', format: 'date-time' },
})
const runIdParam: Param = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Run id.',
  schema: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
}

const errorResponses = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '404': { $ref: '#/components/responses/NotFound' },
}
const ok = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
  '200': { description, content: { 'application/json': { schema } } },
  ...errorResponses,
})

const alertIdParam: Param = { ...runIdParam, description: 'Alert id.' }

function alertAction(summary: string) {
  return {
    post: {
      summary,
      description:
        'Sets the state from whatever it was (as `bench alerts ack|dismiss`), with who and why, and the time.',
      security: [{ bearer: [] }],
      parameters: [alertIdParam],
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: {
                by: { type: 'string', minLength: 1, maxLength: 100, description: 'Who acted.' },
                note: { type: 'string', maxLength: 2000, description: 'Why.' },
              },
            },
          },
        },
      },
      responses: {
        ...ok('`{ alert }`: the alert as now stored, with its run'),
        '401': { $ref: '#/components/responses/Unauthorized' },
        '403': { $ref: '#/components/responses/Forbidden' },
      },
    },
  }
}

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'bench dashboard API',
    version: '1',
    description:
      'Read-only views of the results database, one per dashboard page, plus writes that need `Authorization: Bearer <BENCH_TOKEN>`. Metric names, units and definitions follow METRICS.md. Every response is JSON; errors are `{ error, problems }`.',
  },
  servers: [{ url: '/' }],
  paths: {
    '/api/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
    '/api/leaderboard': {
      get: {
        summary: 'Leaderboard of a scenario (the / page)',
        description:
          'One row per target and fingerprint (latest completed run), filtered on fingerprint dimensions, with Pareto fronts and a recommendation.',
        parameters: [
          text('scenario', 'Scenario name; default: the most recently run.'),
          text('branch', 'Only runs of this git branch.'),
          text('engine', 'Engine kind (openai, llama-cpp, onnx).'),
          text('hardware', 'Hardware label as listed in `options.hardware`.'),
          text('method', 'Variant method (base, quantized, pruned, distilled).'),
          text('quant', 'Quant label (Q4_0, Q8_0 …).'),
          {
            name: 'sort',
            in: 'query',
            description: 'Column to sort by.',
            schema: { type: 'string', enum: [...LEADERBOARD_SORTS] },
          },
          {
            name: 'dir',
            in: 'query',
            description: 'Sort direction; default: best first.',
            schema: { type: 'string', enum: ['asc', 'desc'] },
          },
        ],
        responses: ok('The leaderboard model'),
      },
    },
    '/api/history': {
      get: {
        summary: 'One figure of one series over time (the /history page)',
        parameters: [
          {
            name: 'fingerprint',
            in: 'query',
            required: true,
            description: 'Comparability fingerprint (hex).',
            schema: { type: 'string', pattern: '^[0-9a-f]{8,128}$' },
          },
          {
            name: 'metric',
            in: 'query',
            description: 'run_metrics name, e.g. ttftMsP95.',
            schema: { type: 'string', default: 'outputTokensPerS' },
          },
          text('branch', 'Only runs of this git branch.'),
          time('since', 'Runs started at or after.'),
          time('until', 'Runs started before.'),
          int(
            'points',
            'Point budget; longer series are downsampled (LTTB).',
            10,
            5000,
            DEFAULT_POINT_BUDGET,
          ),
          {
            name: 'x',
            in: 'query',
            description: 'x axis: start time or run order.',
            schema: { type: 'string', enum: ['time', 'commit'], default: 'time' },
          },
        ],
        responses: ok(
          'Points (downsampled; runs with a marker always kept), `band` (run_limits of gated runs, the latest method per run), `markers`, `alerts` and `changePoints` of the series',
        ),
      },
    },
    '/api/series': {
      get: {
        summary:
          'Series (fingerprints) with completed runs, most recent first (the /history page without a fingerprint)',
        parameters: [text('scenario', 'Only this scenario.'), text('target', 'Only this target.')],
        responses: ok('`{ series }`'),
      },
    },
    '/api/runs': {
      get: {
        summary: 'Runs, newest first (the /runs page)',
        parameters: [
          text('scenario', 'Only this scenario.'),
          text('target', 'Only this target.'),
          text('branch', 'Only this git branch.'),
          {
            name: 'state',
            in: 'query',
            description: 'Only runs in this state.',
            schema: { type: 'string', enum: [...runStates] },
          },
          time('since', 'Started at or after.'),
          time('until', 'Started before.'),
          int('limit', 'Page size.', 1, 500, 50),
          int('offset', 'Runs to skip.', 0, 10_000_000, 0),
        ],
        responses: ok('`{ runs, hasMore, … }`'),
      },
      post: {
        summary: 'Store a run measured elsewhere (what `bench push` sends)',
        description:
          'Body: the document `bench export <id> --format json` writes (`format: "bench-run"`, `version: 1`). Stored as a new run with its fingerprint, identity, metrics and requests; the same run sent again answers 200 with the id already here. Bodies past the size limit (256 MiB by default) get 413.',
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['format', 'version', 'run', 'variant', 'environment', 'metrics', 'requests'],
                properties: {
                  format: { const: 'bench-run' },
                  version: { const: 1 },
                  run: { type: 'object' },
                  variant: { type: ['object', 'null'] },
                  variantLineage: { type: 'array', items: { type: 'object' } },
                  environment: { type: ['object', 'null'] },
                  metrics: { type: 'array', items: { type: 'object' } },
                  requests: { type: 'array', items: { type: 'object' } },
                },
              },
            },
          },
        },
        responses: {
          '201': {
            description: "`{ id, url, state: 'created' }`: the new run",
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          '200': {
            description: "`{ id, url, state: 'exists' }`: this run was stored before",
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
          '413': {
            description: 'The document is larger than the dashboard takes',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
      },
    },
    '/api/runs/{id}': {
      get: {
        summary: 'One run in full (the /runs/{id} page)',
        parameters: [runIdParam],
        responses: ok('Detail, percentiles, CDF points, tokens per second, dimensions'),
      },
    },
    '/api/runs/{id}/requests': {
      get: {
        summary: 'Per-request rows of a run, in seq order',
        parameters: [
          runIdParam,
          int('limit', 'Page size.', 1, 10_000, 100),
          int('offset', 'Requests to skip.', 0, 100_000_000, 0),
          {
            name: 'state',
            in: 'query',
            description: 'Only ok or error requests.',
            schema: { type: 'string', enum: ['ok', 'error'] },
          },
          {
            name: 'chunkGaps',
            in: 'query',
            description: 'Include chunk gaps (ms).',
            schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
          },
        ],
        responses: ok('`{ runId, limit, offset, requests }`'),
      },
    },
    '/api/runs/{id}/label': {
      post: {
        summary: "Set or clear a run's label",
        security: [{ bearer: [] }],
        parameters: [runIdParam],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['label'],
                properties: { label: { type: ['string', 'null'], maxLength: 200 } },
              },
            },
          },
        },
        responses: {
          ...ok('`{ runId, label }`'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
        },
      },
    },
    '/api/alerts': {
      get: {
        summary: 'Alerts the gate opened, newest first, with run, series and lifecycle (the /alerts page)',
        parameters: [
          {
            name: 'state',
            in: 'query',
            description: 'Only alerts in this state, or all.',
            schema: { type: 'string', enum: [...alertStates, 'all'], default: 'active' },
          },
          {
            name: 'metric',
            in: 'query',
            description: 'Only alerts on this metric, e.g. ttftMsP95.',
            schema: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' },
          },
          int('limit', 'Alerts to return.', 1, MAX_ALERTS_LIMIT, 100),
        ],
        responses: ok('`{ alerts, hasMore, counts, activeCount, metrics }`'),
      },
    },
    '/api/alerts/{id}/acknowledge': alertAction('Acknowledge an alert: a real regression someone owns'),
    '/api/alerts/{id}/dismiss': alertAction('Dismiss an alert: noise, or an intended change'),
    '/api/compare': {
      get: {
        summary: 'Two runs side by side with significance (the /compare page)',
        parameters: [
          {
            name: 'a',
            in: 'query',
            required: true,
            description: 'Base run id.',
            schema: { type: 'integer', minimum: 1 },
          },
          {
            name: 'b',
            in: 'query',
            required: true,
            description: 'Candidate run id.',
            schema: { type: 'integer', minimum: 1 },
          },
        ],
        responses: ok('Figures with Δ%, Mann–Whitney results, CDF points'),
      },
    },
    '/api/procurement': {
      get: {
        summary: 'Targets ranked for buying (the /procurement page)',
        description:
          'For one scenario and load: each chosen target’s latest completed run with outputTokensPerS, peak memory, its environment’s hourly price, tokens/s per $·hour, output tokens per dollar, tokens/s per GB, and goodputRequestsPerS / goodFraction recomputed from the stored requests at the SLO given; ranked by `rank` (targets missing the figure last, with the reason) and a recommendation.',
        parameters: [
          text('scenario', 'Scenario name; default: the most recently run.'),
          {
            name: 'load',
            in: 'query',
            description:
              'Workload key (scenario hash + load step) from `loads`; default: the one with the most targets.',
            schema: { type: 'string', pattern: '^[0-9a-f]{12}$' },
          },
          {
            name: 'targets',
            in: 'query',
            description:
              'Fingerprint of a target to compare; repeat for several. None: every target of the load.',
            schema: {
              type: 'array',
              maxItems: MAX_PROCUREMENT_TARGETS,
              items: { type: 'string', pattern: '^[0-9a-f]{8,128}$' },
            },
            style: 'form',
            explode: true,
          },
          {
            name: 'sloTtftMs',
            in: 'query',
            description: 'SLO bound on ttftMs. Neither bound given: the scenario’s SLO, else 500 ms / 50 ms.',
            schema: { type: 'number', exclusiveMinimum: 0, maximum: 3_600_000 },
          },
          {
            name: 'sloTpotMs',
            in: 'query',
            description: 'SLO bound on tpotMs (see sloTtftMs).',
            schema: { type: 'number', exclusiveMinimum: 0, maximum: 3_600_000 },
          },
          {
            name: 'rank',
            in: 'query',
            description: 'Objective to rank by.',
            schema: { type: 'string', enum: [...PROCUREMENT_OBJECTIVES], default: 'cost-efficiency' },
          },
        ],
        responses: ok('The procurement model'),
      },
    },
    '/api/environments': {
      get: {
        summary: 'Environments (machines runs were recorded on) with their hourly price',
        responses: { '200': { description: '`{ environments }`, each with `price` (null until entered)' } },
      },
    },
    '/api/environments/{id}/price': {
      put: {
        summary: "Set an environment's hourly price (replaces the previous one)",
        security: [{ bearer: [] }],
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'Environment id.',
            schema: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['usdPerHour'],
                properties: {
                  usdPerHour: {
                    type: 'number',
                    exclusiveMinimum: 0,
                    maximum: MAX_USD_PER_HOUR,
                    description: 'US dollars per hour.',
                  },
                  note: { type: ['string', 'null'], maxLength: 200 },
                  by: { type: ['string', 'null'], maxLength: 200, description: 'Who set it.' },
                },
              },
            },
          },
        },
        responses: {
          ...ok('`{ price }`'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description:
          'The token the dashboard was started with (BENCH_TOKEN). Without one, writes are refused (403).',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'problems'],
        properties: { error: { type: 'string' }, problems: { type: 'array', items: { type: 'string' } } },
      },
    },
    responses: {
      BadRequest: {
        description: 'A parameter is invalid; `problems` lists each one',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      NotFound: {
        description: 'No such run, scenario, series or alert',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Unauthorized: {
        description: 'Missing or wrong bearer token',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Forbidden: {
        description: 'No token configured: writes are disabled',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  },
} as const
