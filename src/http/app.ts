import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly version: string;
  /** Liveness detail: how many bundles are loaded. */
  readonly modelsLoaded: () => number;
  /** Readiness: a bundle is loaded and, when the worker runs here, it has joined its group. */
  readonly readiness: () => Readiness;
  readonly startedAt?: number;
}

/** The HTTP sidecar, built apart from listen() so tests can inject requests in-process. */
export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const startedAt = options.startedAt ?? Date.now();
  const log: FastifyBaseLogger = options.logger.child({ component: 'http' });
  const app: FastifyInstance = Fastify({
    loggerInstance: log,
    // Per-request lines would dominate the log at thousands of requests per second; metrics count requests.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    options.metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });

  app.get('/health', () => ({
    status: 'healthy',
    service: 'opportunity-scorer',
    version: options.version,
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    models_loaded: options.modelsLoaded(),
  }));

  app.get('/ready', async (_request, reply) => {
    const r = options.readiness();
    // Reply is thenable (it resolves when sent): never await it inside a handler.
    if (!r.ready) void reply.code(503).header('retry-after', '5');
    return { ready: r.ready, reasons: r.reasons };
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  return app;
}
