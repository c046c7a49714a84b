/**
 * OpenAPI 3.1 description of /api, written by hand next to the routes (test/dashboard checks every route
 * is here and everything here is a route).
 * @module
 */
import { runStates } from '../../db/schema.ts'
import { DEFAULT_POINT_BUDGET, LEADERBOARD_SORTS } from '../params.ts'

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
  description,
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
        responses: ok('Points (downsampled), limit band and markers'),
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
        description: 'No such run, scenario or series',
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
