/**
 * OpenAPI 3.1 description of /api. Every parameter and request body is generated from the zod schema
 * the route validates with (dashboard/params.ts, db/bench-run-document.ts): names, types, bounds, enums,
 * defaults and required-ness have one source. What stays hand-written here is prose — summaries, route
 * descriptions and one sentence per parameter, keyed by the schema's own field names (a field added to a
 * schema without its sentence, or a sentence for a field that is gone, fails to type-check).
 * test/dashboard/openapi.test.ts probes the live app with what this document says: each bound accepted
 * at the bound and refused one past it, each enum value accepted, required ones required.
 *
 * Generated with zod 4's own z.toJSONSchema rather than @hono/zod-openapi: the routes validate with plain
 * zod and report every problem their own way (dashboard/errors.ts); @hono/zod-openapi would mean a new
 * dependency and rewriting every route as an OpenAPIHono `createRoute` to get what one function over the
 * existing schemas gives.
 * @module
 */
import { z } from 'zod'
import { documentSchema } from '../../db/bench-run-document.ts'
import {
  alertActionBody,
  alertId,
  alertsQuery,
  compareQuery,
  environmentId,
  historyQuery,
  labelBody,
  leaderboardQuery,
  priceBody,
  procurementQuery,
  requestsQuery,
  runId,
  runsQuery,
  seriesQuery,
  servingBody,
  variantsQuery,
} from '../params.ts'
import { launchMatrixBody, matricesQuery, matrixId } from './matrices.ts'
import { launchStudyBody, studiesQuery, studyId } from './studies.ts'
import { sweepId, sweepsQuery } from './sweeps.ts'

export type JsonSchema = Record<string, unknown>

export interface Parameter {
  name: string
  in: 'query' | 'path'
  required?: true
  description: string
  schema: JsonSchema
  /** Arrays: the name repeats, once per value (`?targets=a&targets=b`). */
  style?: 'form'
  explode?: true
}

/**
 * JSON Schema of what a client sends for `schema`: zod's input side (`io: 'input'`), plus what zod cannot
 * see. A query or path value is a string on the wire, decoded by a pipe (`intParam`: digits → Number →
 * z.number().int().min().max()); zod documents such a pipe by its string side (a pattern of digits). It is
 * documented instead as the number it decodes to — `integer` (or `number`) with that number schema's
 * bounds — and the default zod drops from a transform's input side (the default is a decoded value, which
 * here is also what a client would send) is put back. Refinements have no JSON Schema; the schema's
 * `.meta({ description })` says their rule (params.ts). Dates stay strings, their range in the description.
 */
export function wireSchema(schema: z.ZodType): JsonSchema {
  const json: JsonSchema = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    // Anything without a JSON Schema form (a Date, a function …) is a mistake here, not a silent `{}`.
    unrepresentable: 'throw',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def
      if (def.type === 'pipe' && decodesNumber(zodSchema)) {
        const decoded = z.toJSONSchema(def.out as z.ZodType, { io: 'output' })
        for (const key of ['type', 'pattern', 'minLength', 'maxLength', 'format'])
          delete jsonSchema[key as keyof typeof jsonSchema]
        const { $schema: _, ...number } = decoded
        Object.assign(jsonSchema, number)
      } else if (def.type === 'default' && decodesNumber(def.innerType)) {
        Object.assign(jsonSchema, { default: def.defaultValue })
      }
    },
  })
  delete json.$schema
  return json
}

/** A pipe whose output is a number schema: the query-string form of a number (params.ts intParam, sloMs). */
function decodesNumber(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def
  return def.type === 'pipe' && (def as z.core.$ZodPipeDef).out._zod.def.type === 'number'
}

/** One sentence per field of `schema`, keyed by its names: every field, and only those. */
type Prose<S extends z.ZodObject> = { [K in keyof z.input<S> & string]-?: string }

/** The query parameters a route validates with `schema`, in its field order. */
export function queryParameters<S extends z.ZodObject>(schema: S, prose: Prose<S>): Parameter[] {
  const json = wireSchema(schema) as { properties: Record<string, JsonSchema>; required?: string[] }
  const required = new Set(json.required ?? [])
  return Object.entries(json.properties).map(([name, s]) => {
    const description = (prose as Record<string, string | undefined>)[name]
    // The Prose type makes this unreachable for a typed call; a cast one still fails loudly, at start-up.
    if (description === undefined) throw new Error(`openapi: no description for query parameter ${name}`)
    return {
      name,
      in: 'query',
      ...(required.has(name) ? { required: true } : {}),
      description,
      schema: s,
      ...(s.type === 'array' ? { style: 'form', explode: true } : {}),
    }
  })
}

/** The `{id}` path parameter a route validates with `schema`. */
export function pathParameter(schema: z.ZodType, description: string): Parameter {
  return { name: 'id', in: 'path', required: true, description, schema: wireSchema(schema) }
}

/** A JSON request body validated with `schema`. */
function jsonBody(schema: z.ZodType, required: boolean) {
  return { required, content: { 'application/json': { schema: wireSchema(schema) } } }
}

const errorResponses = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '404': { $ref: '#/components/responses/NotFound' },
}
const ok = (description: string, schema: JsonSchema = { type: 'object' }) => ({
  '200': { description, content: { 'application/json': { schema } } },
  ...errorResponses,
})
const writeErrors = {
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
}

const runIdParam = pathParameter(runId, 'Run id.')

function alertAction(summary: string) {
  return {
    post: {
      summary,
      description:
        'Sets the state from whatever it was (as `bench alerts ack|dismiss`), with who and why, and the time. The body is optional: none is `{}`.',
      security: [{ bearer: [] }],
      parameters: [pathParameter(alertId, 'Alert id.')],
      requestBody: jsonBody(alertActionBody, false),
      responses: { ...ok('`{ alert }`: the alert as now stored, with its run'), ...writeErrors },
    },
  }
}

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'bench dashboard API',
    version: '1',
    description:
      'Read-only views of the results database, one per dashboard page, plus writes that need `Authorization: Bearer <BENCH_TOKEN>`. Metric names, units and definitions follow METRICS.md. Every response is JSON; errors are `{ error, problems }`. A query parameter left empty (`?limit=`) counts as absent; one the route does not know is ignored.',
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
          'One row per target and fingerprint (latest completed run) at one load step (plus accuracy and quality runs), filtered on fingerprint dimensions, with Pareto fronts and a recommendation.',
        parameters: queryParameters(leaderboardQuery, {
          scenario: 'Scenario name; default: the most recently run.',
          load: 'Load step key as `loads[].key` lists it, or `*` for every step ranked together; absent: the scenario’s first load step (`loadChosen: "first-step"`). Accuracy and quality runs are no step and always listed.',
          branch:
            'Only runs of this git branch; `*` every branch; absent: the default branch (BENCH_DEFAULT_BRANCH, else main) with runs that recorded none, or every branch when it has no run (`view.fellBack`).',
          role: 'Run roles: `run` leaves out `bench gate --confirm` re-runs, `confirm` only them, `any` both.',
          engine: 'Engine kind (openai, llama-cpp, onnx).',
          hardware: 'Hardware label as listed in `options.hardware`.',
          method: 'Variant method (base, quantized, pruned, distilled).',
          quant: 'Quant label (Q4_0, Q8_0 …).',
          sort: 'Column to sort by.',
          dir: 'Sort direction; default: best first.',
        }),
        responses: ok('The leaderboard model'),
      },
    },
    '/api/variants': {
      get: {
        summary: 'Variant × engine table of a scenario at one load step (the /variants page)',
        description:
          'Rows are variants (method, quant, bits, size, parent), columns engines; each cell holds out tok/s and TTFT p50 of the load step, peak memory, and acc ± stderr, KLD ± SE and top-1 from the target’s accuracy and quality runs (joined by target, engine and variant). Latest runs in the branch and role scope; flagged cells carry their flags.',
        parameters: queryParameters(variantsQuery, {
          scenario: 'Scenario name; default: the most recently run.',
          load: 'Load step key as `loads[].key` lists it; absent: the scenario’s first load step (`loadChosen: "first-step"`).',
          branch:
            'Only runs of this git branch; `*` every branch; absent: the default branch (BENCH_DEFAULT_BRANCH, else main) with runs that recorded none, or every branch when it has no run (`view.fellBack`).',
          role: 'Run roles: `run` leaves out `bench gate --confirm` re-runs, `confirm` only them, `any` both.',
          sort: 'What rows are sorted by: a figure, or the variant’s name, bits or size.',
          sortEngine:
            'The engine column (an engine kind in `engines`) a figure sort reads; absent: each row’s best over its engines.',
          dir: 'Sort direction; default: best first (names, bits and size ascending).',
        }),
        responses: ok('The variant table model'),
      },
    },
    '/api/history': {
      get: {
        summary: 'One figure of one series over time (the /history page)',
        parameters: queryParameters(historyQuery, {
          fingerprint: 'Comparability fingerprint (hex).',
          metric: 'run_metrics name, e.g. ttftMsP95.',
          branch:
            'Only runs of this git branch; `*` every branch (one line each); absent: the default branch (BENCH_DEFAULT_BRANCH, else main) with runs that recorded none, or every branch when it has no run.',
          role: 'Run roles: `run` leaves out `bench gate --confirm` re-runs, `confirm` only them, `any` both.',
          since: 'Runs started at or after.',
          until: 'Runs started before.',
          points: 'Point budget; longer series are downsampled (LTTB).',
          x: 'x axis: start time or run order.',
        }),
        responses: ok(
          'Points (downsampled; runs with a marker always kept), `band` (run_limits of gated runs, the latest method per run), `markers`, `alerts` and `changePoints` of the series',
        ),
      },
    },
    '/api/series': {
      get: {
        summary:
          'Series (fingerprints) with completed runs, most recent first (the /history page without a fingerprint)',
        parameters: queryParameters(seriesQuery, {
          scenario: 'Only this scenario.',
          target: 'Only this target.',
        }),
        responses: ok('`{ series }`'),
      },
    },
    '/api/runs': {
      get: {
        summary: 'Runs, newest first (the /runs page)',
        parameters: queryParameters(runsQuery, {
          scenario: 'Only this scenario.',
          target: 'Only this target.',
          branch: 'Only this git branch.',
          state: 'Only runs in this state.',
          since: 'Started at or after.',
          until: 'Started before.',
          limit: 'Page size.',
          offset: 'Runs to skip.',
        }),
        responses: ok('`{ runs, hasMore, … }`'),
      },
      post: {
        summary: 'Store a run measured elsewhere (what `bench push` sends)',
        description:
          'Body: the document `bench export <id> --format json` writes (`format: "bench-run"`, `version: 1`; schema: db/bench-run-document.ts). Stored as a new run with its fingerprint, identity, metrics and requests; the same run sent again answers 200 with the id already here. Members the schema does not name (database ids the export also writes) are ignored. Bodies past the size limit (256 MiB by default) get 413.',
        security: [{ bearer: [] }],
        requestBody: jsonBody(documentSchema, true),
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
          ...writeErrors,
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
    '/api/sweeps': {
      get: {
        summary: 'bench sweep results, newest first (the /sweeps page)',
        description:
          'Each sweep with its endpoint (without credentials), model, arrivals, SLO bounds, search settings, state, how the search ended (`end`), knee and first failing rate (requests/s) and its number of step runs.',
        parameters: queryParameters(sweepsQuery, {
          limit: 'Page size.',
          offset: 'Sweeps to skip.',
        }),
        responses: ok('`{ sweeps, hasMore, query }`'),
      },
    },
    '/api/sweeps/{id}': {
      get: {
        summary: 'One bench sweep with its steps (the /sweeps/{id} page)',
        description:
          'The sweep row, its SLO, and every step run in the order run: offered rate, state, verdict (`pass`, `fail`, `running`) and reason, judged as `bench sweep` judges it (completed, no arrival dropped, every SLO percentile within its bound), and the figures the charts draw.',
        parameters: [pathParameter(sweepId, 'Sweep id.')],
        responses: ok('`{ sweep, slo, steps }`'),
      },
    },
    '/api/studies': {
      get: {
        summary:
          'Speculative-decoding studies, newest first, and the study files that can be launched (the /studies page)',
        description:
          'Each study with its state (`queued`, `running`, `completed`, `failed`, `cancelled`), progress (0..1) and phase, K values, the α its predictions used, c, the predicted optimal K and the best measured one; `catalogue`: the spec-*.ts / spec-*.json files of the dashboard’s scenarios/ folder, each validated (`problem` says why one cannot run).',
        parameters: queryParameters(studiesQuery, { limit: 'Page size.' }),
        responses: ok('`{ studies, catalogue }`'),
      },
      post: {
        summary:
          'Launch a study of the catalogue (native or endpoint): queued as a `spec-study` job for `bench worker`',
        description:
          'Answers 201 with `{ study: { id, matrixId, state } }`; 404 when the file is not in the catalogue; 409 when it cannot run here (a model missing) or when the database has no job queue yet (start `bench worker` once).',
        security: [{ bearer: [] }],
        requestBody: jsonBody(launchStudyBody, true),
        responses: {
          '201': { description: '`{ study: { id, matrixId, state } }`' },
          '409': { description: 'The study cannot run here, or no job queue in this database' },
          ...errorResponses,
          ...writeErrors,
        },
      },
    },
    '/api/studies/{id}': {
      get: {
        summary: 'One study with its per-K, per-position and per-prompt rows (the /studies/{id} page)',
        description:
          "The study row (state, progress, error, c, α used, optimal K, environment, details: baselines, logprob α summary, the α × K table) and per K: drafted, accepted, verify steps, acceptance rate, τ, α̂, accept-length counts, tok/s with and without speculation, c, measured and predicted speedup and the error (measured − predicted), per-position rates; per (K, prompt) the counts and τ. An endpoint study (kind `endpoint`, `bench spec-endpoints`) has its rows in endpointK instead: per K what the server reported (drafted, accepted, drafts, acceptance rate, τ, α̂; null where it reported nothing), decode tok/s with and without speculation, c, measured and predicted speedup, error and relative error, same output, the counters' source, per-position rates when counted.",
        parameters: [pathParameter(studyId, 'Study id.')],
        responses: ok('`{ study, perK, perPrompt, endpointK }`'),
      },
    },
    '/api/matrices': {
      get: {
        summary:
          'Matrices queued with bench enqueue (or launched here), newest first, with counts by job state',
        parameters: queryParameters(matricesQuery, { limit: 'Page size.' }),
        responses: ok('`[{ id, scenarioName, label, requiredTags, maxAttempts, createdAt, counts }]`'),
      },
      post: {
        summary:
          'Queue a scenario file of scenarios/ as a matrix of jobs for bench worker (one per target × load step)',
        description:
          'Answers 201 with `{ matrix: { id, jobs } }`; 404 when the file is not in scenarios/; 409 when the scenario is invalid or cannot be split as asked (the message names the field), or when the database has no job queue yet (start `bench worker` once, or queue once with `bench enqueue`).',
        security: [{ bearer: [] }],
        requestBody: jsonBody(launchMatrixBody, true),
        responses: {
          '201': { description: '`{ matrix: { id, jobs } }`' },
          '409': { description: 'The scenario cannot be queued as asked, or no job queue in this database' },
          ...errorResponses,
          ...writeErrors,
        },
      },
    },
    '/api/matrices/{id}': {
      get: {
        summary:
          'One matrix: counts, every job (state, attempts, run, earlier runs, worker, last error), split steps',
        parameters: [pathParameter(matrixId, 'Matrix id.')],
        responses: ok(
          '`{ id, scenarioName, counts, jobs, workers, groups }` (as `bench matrix status --json`)',
        ),
      },
    },
    '/api/matrices/{id}/cancel': {
      post: {
        summary: 'Cancel a matrix: its queued and retrying jobs never run; running ones finish',
        description: 'As `bench matrix cancel`. No body.',
        security: [{ bearer: [] }],
        parameters: [pathParameter(matrixId, 'Matrix id.')],
        responses: {
          ...ok('`{ matrix: { id }, cancelled, running }`'),
          ...writeErrors,
        },
      },
    },
    '/api/studies/{id}/cancel': {
      post: {
        summary: 'Cancel a study still waiting in the queue',
        description:
          'Only a queued study no worker has claimed: 409 otherwise (a running study cannot be stopped from here). No body.',
        security: [{ bearer: [] }],
        parameters: [pathParameter(studyId, 'Study id.')],
        responses: {
          ...ok('`{ study: { id, state } }`'),
          '409': { description: 'Not queued any more' },
          ...writeErrors,
        },
      },
    },
    '/api/runs/{id}/requests': {
      get: {
        summary: 'Per-request rows of a run, in seq order',
        parameters: [
          runIdParam,
          ...queryParameters(requestsQuery, {
            limit: 'Page size.',
            offset: 'Requests to skip.',
            state: 'Only ok or error requests.',
            chunkGaps: 'Include chunk gaps (ms).',
          }),
        ],
        responses: ok('`{ runId, limit, offset, requests }`'),
      },
    },
    '/api/runs/{id}/label': {
      post: {
        summary: "Set or clear a run's label",
        security: [{ bearer: [] }],
        parameters: [runIdParam],
        requestBody: jsonBody(labelBody, true),
        responses: { ...ok('`{ runId, label }`'), ...writeErrors },
      },
    },
    '/api/alerts': {
      get: {
        summary: 'Alerts the gate opened, newest first, with run, series and lifecycle (the /alerts page)',
        parameters: queryParameters(alertsQuery, {
          state: 'Only alerts in this state, or all.',
          metric: 'Only alerts on this metric, e.g. ttftMsP95.',
          limit: 'Alerts to return.',
        }),
        responses: ok('`{ alerts, hasMore, counts, activeCount, metrics }`'),
      },
    },
    '/api/alerts/{id}/acknowledge': alertAction('Acknowledge an alert: a real regression someone owns'),
    '/api/alerts/{id}/dismiss': alertAction('Dismiss an alert: noise, or an intended change'),
    '/api/compare': {
      get: {
        summary: 'Two runs side by side with significance (the /compare page)',
        parameters: queryParameters(compareQuery, { a: 'Base run id.', b: 'Candidate run id.' }),
        responses: ok('Figures with Δ%, Mann–Whitney results, CDF points'),
      },
    },
    '/api/procurement': {
      get: {
        summary: 'Targets ranked for buying (the /procurement page)',
        description:
          'For one scenario, load and model: each chosen target’s latest completed run (default branch, no confirm re-runs, as the leaderboard) with outputTokensPerS, peak memory, the hourly price of its serving machine (a native target’s environment; an endpoint’s serving identity, never the client that ran bench), tokens/s per $·hour, output tokens per dollar, tokens/s per GB, and goodputRequestsPerS / goodFraction recomputed from the stored requests at the SLO given; ranked within the model by `rank` (targets missing the figure last, with the reason), each model’s best, the endpoints’ serving identities and a recommendation.',
        parameters: queryParameters(procurementQuery, {
          scenario: 'Scenario name; default: the most recently run.',
          load: 'Workload key (scenario hash + load step) from `loads`; default: the one with the most targets.',
          targets:
            'Fingerprint of a target to compare; repeat for several (duplicates count once). None: every target of the load.',
          sloTtftMs:
            'SLO bound on ttftMs. No bound given: every bound the scenario set (e2eMs included), else 500 ms / 50 ms.',
          sloTpotMs: 'SLO bound on tpotMs (see sloTtftMs).',
          sloE2eMs: 'SLO bound on e2eMs (see sloTtftMs).',
          rank: 'Objective to rank by.',
          branch:
            'Git branch of the runs compared; `*`: every branch. Default: the default branch and runs without one (as the leaderboard).',
          role: 'Run roles: `run` leaves out `bench gate --confirm` re-runs, `confirm` only them, `any` both.',
          model:
            'Model key from `models` (variant family, root variant or served model id): targets are ranked within one model, across hardware and engines; `*` ranks every model together. Default: the model with the most targets.',
        }),
        responses: ok('The procurement model'),
      },
    },
    '/api/environments': {
      get: {
        summary: 'Environments (machines runs were recorded on) with their hourly price',
        responses: { '200': { description: '`{ environments }`, each with `price` (null until entered)' } },
      },
    },
    '/api/serving': {
      put: {
        summary:
          "Set an endpoint target's serving machine and hourly price (replaces the previous one; overrides the scenario's `serving`)",
        security: [{ bearer: [] }],
        requestBody: jsonBody(servingBody, true),
        responses: { ...ok('`{ serving }`'), ...writeErrors },
      },
    },
    '/api/environments/{id}/price': {
      put: {
        summary: "Set an environment's hourly price (replaces the previous one)",
        security: [{ bearer: [] }],
        parameters: [pathParameter(environmentId, 'Environment id.')],
        requestBody: jsonBody(priceBody, true),
        responses: { ...ok('`{ price }`'), ...writeErrors },
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
