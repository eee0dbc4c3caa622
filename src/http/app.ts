import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findScorerError } from '../errors.js';
import type { ModelBundle, ScoringEngine } from '../inference/index.js';
import type { Logger } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import { createBaseApp } from './base.js';
import { registerOip } from './oip.js';
import { type PredictContext, predictBatch, predictOne } from './predict.js';
import { HttpProblem, serving } from './problems.js';
import {
  errorResponses,
  errorSchema,
  featureRequestSchema,
  modelDetailSchema,
  modelSummarySchema,
  modelsResponseSchema,
  opportunityRequestSchema,
  predictionSchema,
  reloadResponseSchema,
} from './schemas.js';

/** Built next to the compiled code; src/ and dist/ both sit two levels below the project root. */
const REDOC_PAGE = new URL('../../dist/redoc.html', import.meta.url);

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export interface LoadedModel {
  readonly bundle: ModelBundle;
  readonly alias: string | undefined;
  readonly role: 'primary' | 'canary' | 'shadow';
  /** Share of events this bundle answers, in percent (shadow: 0). */
  readonly sharePercent: number;
  /** Test-period metrics from the bundle's model card (metrics.json). */
  readonly metrics: unknown;
}

export interface HttpLimits {
  readonly bodyLimitBytes: number;
  readonly jsonMaxDepth: number;
  readonly batchMaxItems: number;
  readonly corsOrigins: readonly string[] | undefined;
}

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly version: string;
  /** The engine serving /predict; undefined while no model is loaded (503). */
  readonly engine: () => ScoringEngine | undefined;
  readonly models: () => readonly LoadedModel[];
  /** Aliases of the registry (bundle → alias → version). */
  readonly aliases?: () => Promise<Readonly<Record<string, Readonly<Record<string, string>>>>>;
  /** Admin: reloads the models; with `adminToken` unset the route does not exist. */
  readonly reload?: () => Promise<{ result: 'swapped' | 'unchanged'; serving: string[]; previous?: string[] }>;
  readonly adminToken?: string | undefined;
  /** Readiness: a bundle is loaded and, when the worker runs here, it has joined its group. */
  readonly readiness: () => Readiness;
  /** True once draining: /predict answers 503. */
  readonly draining: () => boolean;
  readonly limits: HttpLimits;
  readonly startedAt?: number;
}

/**
 * The HTTP sidecar: health, readiness, metrics, and synchronous scoring in the JSON shape of the Flask API it
 * replaces. Built apart from listen(), so tests inject requests in-process. /predict goes through the same engine
 * and micro-batcher as the Kafka worker: concurrent requests share model runs.
 */
export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const startedAt = options.startedAt ?? Date.now();
  const app = createBaseApp({ logger: options.logger, metrics: options.metrics, bodyLimitBytes: options.limits.bodyLimitBytes, jsonMaxDepth: options.limits.jsonMaxDepth });

  if (options.limits.corsOrigins !== undefined) {
    const origins = options.limits.corsOrigins;
    void app.register(cors, { origin: origins.includes('*') ? true : [...origins] });
  }
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'opportunity-scorer', version: options.version, description: 'Scores funding-rate arbitrage opportunities.' },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  for (const schema of [opportunityRequestSchema, featureRequestSchema, predictionSchema, errorSchema, modelSummarySchema, modelsResponseSchema, reloadResponseSchema, modelDetailSchema]) {
    app.addSchema(schema);
  }
  void app.register(swaggerUi, { routePrefix: '/docs' });
  void app.register((routes, _opts, done) => {
    registerRoutes(routes, options, startedAt);
    done();
  });
  // Its own plugin context: OIP bodies may be binary, and its errors have the protocol's {"error": …} form.
  void app.register((routes, _opts, done) => {
    registerOip(routes, {
      engine: options.engine,
      draining: options.draining,
      serverVersion: options.version,
      ready: () => options.readiness().ready,
      models: options.models,
      jsonMaxDepth: options.limits.jsonMaxDepth,
      batchMaxItems: options.limits.batchMaxItems,
    });
    done();
  }, { prefix: '/v2' });
  return app;
}

function registerRoutes(app: FastifyInstance, options: HttpAppOptions, startedAt: number): void {
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // ReDoc (002's /redoc): the same document rendered by `npm run build` into dist/redoc.html (scripts/docs/redoc.ts).
  let redoc: string | undefined;
  app.get('/redoc', { schema: { hide: true } }, async (_request, reply) => {
    // Read once (272 KiB); a missing page is looked for again, so a build after start-up is picked up.
    redoc ??= await readFile(REDOC_PAGE, 'utf8').catch(() => undefined);
    const page = redoc;
    if (page === undefined) throw new HttpProblem(404, [{ loc: ['path'], msg: 'the ReDoc page is made by `npm run build` (dist/redoc.html); /docs and /openapi.json serve the same document', type: 'not_found' }]);
    return reply.type('text/html; charset=utf-8').send(page);
  });

  app.get('/health', { schema: { tags: ['ops'], summary: 'Liveness (independent of Kafka)' } }, () => ({
    status: 'healthy',
    service: 'opportunity-scorer',
    version: options.version,
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    models_loaded: options.models().length,
  }));

  app.get('/ready', { schema: { tags: ['ops'], summary: 'Readiness: 200 when a model is loaded and the worker (if any) has joined its group' } }, (_request, reply) => {
    const r = options.readiness();
    // Reply is thenable (it resolves when sent): never await it inside a handler.
    if (!r.ready) void reply.code(503).header('retry-after', '5');
    return { ready: r.ready, reasons: r.reasons };
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    void reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  const predictSchema = (body: object, ok: object, summary: string) => ({
    tags: ['predict'],
    summary,
    body,
    response: { 200: ok, ...errorResponses },
  });

  const context = (request: FastifyRequest, reply: FastifyReply): PredictContext => {
    const header = request.headers['x-correlation-id'];
    return {
      engine: serving(options),
      models: options.models(),
      batchMaxItems: options.limits.batchMaxItems,
      correlationHeader: typeof header === 'string' && header !== '' ? header : undefined,
      reply,
    };
  };
  const seedNote =
    ' Also takes the feature-vector bodies of the other servers it replaces, answered in their shapes: `features` as an array of 57 numbers (001), as named columns (004) or as one named record (002); `model_version`, `model_name` or `model_uri` choose among the loaded bundles (404 naming them).';
  for (const prefix of ['', '/api/ml']) {
    app.post(
      `${prefix}/predict`,
      { schema: { ...predictSchema({ anyOf: [{ $ref: 'OpportunityRequest#' }, { $ref: 'FeatureRequest#' }] }, { $ref: 'Prediction#' }, 'Score one opportunity'), description: seedNote } },
      async (request, reply) => predictOne(context(request, reply), request.body),
    );
    app.post(
      `${prefix}/predict/batch`,
      {
        schema: {
          ...predictSchema(
            { anyOf: [{ type: 'array', items: { $ref: 'OpportunityRequest#' } }, { type: 'object', properties: { requests: { type: 'array' }, batch_size: { type: 'integer' } } }, { type: 'object', properties: { features_list: { type: 'array' }, model_uri: { type: 'string' }, return_proba: { type: 'boolean' } } }] },
            { type: 'array', items: { $ref: 'Prediction#' } },
            'Score a list of opportunities; results in the same order',
          ),
          description: `${seedNote} 004's {"requests": [...], "batch_size"} answers an array of its responses; 002's {"features_list": [...]} answers {"predictions", "probabilities", "count"}.`,
        },
      },
      async (request, reply) => predictBatch(context(request, reply), request.body),
    );
  }

  app.get('/api/ml/health', { schema: { tags: ['ops'], summary: 'Liveness in the shape of the server this replaces (001)' } }, () => ({
    status: 'healthy',
    models_loaded: options.models().length,
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
  }));

  const listModels = async (query: { experiment_name?: string; limit?: string }): Promise<Record<string, unknown>> => {
    const limit = query.limit === undefined ? Number.POSITIVE_INFINITY : Number(query.limit);
    if (!(limit >= 0)) throw new HttpProblem(422, [{ loc: ['query', 'limit'], msg: 'limit must be a non-negative integer', type: 'wrong_type' }]);
    const models = options.models();
    const shadow = models.find((m) => m.role === 'shadow');
    // 002's clients filter by MLflow experiment: here one experiment is one bundle name.
    const listed = models.filter((m) => query.experiment_name === undefined || m.bundle.name === query.experiment_name).slice(0, limit);
    return {
      models: listed.map(summary),
      count: listed.length,
      aliases: (await options.aliases?.()) ?? {},
      shadow: shadow === undefined ? { enabled: false } : { enabled: true, model: `${shadow.bundle.name}@${shadow.bundle.version}` },
    };
  };
  const modelsSchema = {
    tags: ['models'],
    summary: 'Which bundles serve which share, the aliases, the shadow',
    querystring: { type: 'object', properties: { experiment_name: { type: 'string', description: 'only bundles of this name (002)' }, limit: { type: 'integer', minimum: 0 } } },
    response: { 200: { $ref: 'ModelsResponse#' } },
  };
  for (const path of ['/models', '/api/ml/models']) {
    app.get<{ Querystring: { experiment_name?: string; limit?: string } }>(path, { schema: modelsSchema }, async (request) => listModels(request.query));
  }

  const token = options.adminToken;
  const reload = options.reload;
  if (token !== undefined && reload !== undefined) {
    const expected = createHash('sha256').update(token).digest();
    const authorise = (request: FastifyRequest, reply: FastifyReply): void => {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      // Constant time: compare fixed-length digests, never the strings themselves.
      if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
        void reply.header('www-authenticate', 'Bearer');
        throw new HttpProblem(401, [{ loc: ['header', 'authorization'], msg: 'a valid bearer token is required', type: 'unauthorized' }]);
      }
    };
    const reloadNow = async (): Promise<Awaited<ReturnType<typeof reload>>> => {
      try {
        return await reload();
      } catch (err) {
        const e = findScorerError(err);
        throw new HttpProblem(409, [{ loc: [], msg: `reload failed; the serving bundles stay: ${e?.message ?? String(err)}`, type: e?.code ?? 'MODEL_LOAD_FAILED' }]);
      }
    };
    const adminResponses = { 401: { $ref: 'ErrorResponse#' }, 404: { $ref: 'ErrorResponse#' }, 409: { $ref: 'ErrorResponse#' } };
    app.post(
      '/models/reload',
      {
        schema: {
          tags: ['admin'],
          summary: 'Load the bundles the registry names now, check them, and swap them in atomically (Authorization: Bearer ADMIN_TOKEN)',
          response: { 200: { $ref: 'ReloadResponse#' }, ...adminResponses },
        },
      },
      async (request, reply) => {
        authorise(request, reply);
        return reloadNow();
      },
    );
    // The replaced servers' reload routes name one model; here a reload is always of every bundle, atomically.
    for (const path of ['/reload/:name', '/api/ml/models/:name/reload']) {
      app.post<{ Params: { name: string } }>(
        path,
        { schema: { tags: ['admin'], summary: 'Reload (004, 001): the same atomic reload as /models/reload; the name must be a loaded bundle (Authorization: Bearer ADMIN_TOKEN)', response: adminResponses } },
        async (request, reply) => {
          authorise(request, reply);
          const name = request.params.name;
          if (!options.models().some((m) => m.bundle.name === name)) {
            const loaded = [...new Set(options.models().map((m) => m.bundle.name))].join(', ');
            throw new HttpProblem(404, [{ loc: ['path', 'name'], msg: `no loaded model named ${name}; loaded: ${loaded || 'none'}`, type: 'model_not_found' }]);
          }
          return { message: `Reloading model ${name}`, ...(await reloadNow()) };
        },
      );
    }
  }

  app.get<{ Params: { name: string } }>(
    '/models/:name',
    { schema: { tags: ['models'], summary: 'One loaded bundle: version, features, model-card metrics', response: { 200: { $ref: 'ModelDetail#' }, 404: { $ref: 'ErrorResponse#' } } } },
    (request) => {
      const model = options.models().find((m) => m.bundle.name === request.params.name && m.role === 'primary') ?? options.models().find((m) => m.bundle.name === request.params.name);
      if (model === undefined) throw new HttpProblem(404, [{ loc: ['path', 'name'], msg: `no loaded bundle named ${request.params.name}`, type: 'not_found' }]);
      return { ...summary(model), feature_names: model.bundle.manifest.features.names, metrics: model.metrics ?? {} };
    },
  );
}

function summary(m: LoadedModel): Record<string, unknown> {
  const manifest = m.bundle.manifest;
  return {
    name: manifest.bundle,
    version: manifest.version,
    ...(m.alias === undefined ? {} : { alias: m.alias }),
    role: m.role,
    share_percent: m.sharePercent,
    created_at: manifest.createdAt,
    feature_hash: manifest.features.hash,
    feature_count: manifest.features.count,
    trees: { profit: manifest.models.profit.trees, success: manifest.models.success.trees, duration: manifest.models.duration.trees },
  };
}

