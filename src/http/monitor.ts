import type { FastifyInstance } from 'fastify';
import { type Outcome, validateOutcome } from '../contract/index.js';
import type { Logger } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Readiness } from './app.js';
import { createBaseApp } from './base.js';
import { type Detail, HttpProblem, details } from './problems.js';

/** What the monitor's HTTP API reads and writes; the monitor service provides it. */
export interface MonitorHttpOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly version: string;
  readonly readiness: () => Readiness;
  readonly limits: { readonly bodyLimitBytes: number; readonly jsonMaxDepth: number; readonly batchMaxItems: number };
  /** Writes outcomes to the outcomes topic; resolves once the brokers acknowledged them. */
  readonly publishOutcomes: (outcomes: readonly Outcome[]) => Promise<void>;
  /** Model versions with joined pairs, and their live figures. */
  readonly versions: () => ReadonlyArray<{ readonly bundle: string; readonly version: string }>;
  readonly performance: (bundle: string, version: string) => unknown;
  /** The card's test-period figures of a version, when its bundle is in MODEL_DIR. */
  readonly card: (bundle: string, version: string) => Promise<unknown>;
  readonly unmatched: (limit: number) => unknown;
  readonly now?: () => number;
}

/**
 * The monitor's HTTP API: ops routes, outcome intake (POST /outcomes and the seed-003 tracking route, both into the
 * outcomes topic, so every source takes the same path through the join) and the live figures per model version.
 */
export function buildMonitorApp(options: MonitorHttpOptions): FastifyInstance {
  const startedAt = Date.now();
  const now = options.now ?? Date.now;
  const app = createBaseApp({ logger: options.logger, metrics: options.metrics, bodyLimitBytes: options.limits.bodyLimitBytes, jsonMaxDepth: options.limits.jsonMaxDepth });

  app.get('/health', () => ({ status: 'healthy', service: 'opportunity-scorer-monitor', version: options.version, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) }));
  app.get('/ready', (_request, reply) => {
    const r = options.readiness();
    if (!r.ready) void reply.code(503).header('retry-after', '5');
    return { ready: r.ready, reasons: r.reasons };
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  app.post('/outcomes', async (request, reply) => {
    const body = request.body;
    const items = Array.isArray(body) ? (body as unknown[]) : [body];
    if (items.length === 0) throw new HttpProblem(422, [{ loc: ['body'], msg: 'no outcomes given', type: 'missing' }]);
    if (items.length > options.limits.batchMaxItems) throw new HttpProblem(413, [{ loc: ['body'], msg: `at most ${options.limits.batchMaxItems} outcomes per request, got ${items.length}`, type: 'too_many_items' }]);
    const problems: Detail[] = [];
    const outcomes: Outcome[] = [];
    items.forEach((item, i) => {
      const v = validateOutcome(item);
      if (v.ok) outcomes.push(v.value);
      else problems.push(...details(v.problems, Array.isArray(body) ? ['body', i] : ['body']));
    });
    if (problems.length > 0) throw new HttpProblem(422, problems);
    await options.publishOutcomes(outcomes);
    return reply.code(202).send({ accepted: outcomes.length, ids: outcomes.map((o) => o.id) });
  });

  // Seed 003 (model_server.py): {model_id, prediction_id, predicted_value, actual_value}. The actual value is the
  // realised profit in percent; closed_at, hold_hours and success are optional additions of ours.
  app.post('/api/ml/performance/track', async (request, reply) => {
    const b = request.body;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new HttpProblem(422, [{ loc: ['body'], msg: 'the body must be a JSON object', type: 'wrong_type' }]);
    const r = b as Record<string, unknown>;
    const problems: Detail[] = [];
    if (typeof r['model_id'] !== 'string' || r['model_id'] === '') problems.push({ loc: ['body', 'model_id'], msg: 'field required: the bundle name', type: 'missing' });
    if (r['predicted_value'] !== undefined && typeof r['predicted_value'] !== 'number') problems.push({ loc: ['body', 'predicted_value'], msg: 'must be a number', type: 'wrong_type' });
    const v = validateOutcome(
      { id: r['prediction_id'], closedAt: r['closed_at'] ?? now(), realisedProfitPercent: r['actual_value'], holdHours: r['hold_hours'], success: r['success'] },
      { allowUnknownHold: true },
    );
    const names: Record<string, string> = { id: 'prediction_id', closedAt: 'closed_at', realisedProfitPercent: 'actual_value', holdHours: 'hold_hours', success: 'success' };
    if (!v.ok) for (const p of v.problems) problems.push({ loc: ['body', ...p.path.map((f) => names[String(f)] ?? f)], msg: p.message, type: p.code });
    if (problems.length > 0 || !v.ok) throw new HttpProblem(422, problems);
    await options.publishOutcomes([v.value]);
    return reply.code(202).send({ success: true, model_id: r['model_id'], prediction_id: v.value.id, tracked: true });
  });

  app.get<{ Params: { model: string } }>('/api/ml/performance/:model', (request) => {
    const versions = options.versions().filter((v) => v.bundle === request.params.model);
    if (versions.length === 0) throw new HttpProblem(404, [{ loc: ['path', 'model'], msg: `no joined outcomes for model ${request.params.model} yet`, type: 'not_found' }]);
    return { model_id: request.params.model, versions: versions.map((v) => options.performance(v.bundle, v.version)) };
  });

  app.get<{ Params: { bundle: string; version: string } }>('/models/:bundle/:version/performance', async (request) => {
    const { bundle, version } = request.params;
    const live = options.performance(bundle, version);
    if (live === undefined) throw new HttpProblem(404, [{ loc: ['path', 'version'], msg: `no joined outcomes for ${bundle}@${version} yet`, type: 'not_found' }]);
    return { live, card: await options.card(bundle, version) };
  });

  app.get('/models', async () => ({
    models: await Promise.all(options.versions().map(async (v) => ({ ...v, live: options.performance(v.bundle, v.version), card: await options.card(v.bundle, v.version) }))),
  }));

  app.get<{ Querystring: { limit?: string } }>('/outcomes/unmatched', (request) => {
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > 1_000_000) throw new HttpProblem(422, [{ loc: ['query', 'limit'], msg: 'limit must be an integer 0–1000000', type: 'wrong_type' }]);
    return options.unmatched(limit);
  });
  return app;
}
