import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import { parseJsonBody } from './json-body.js';
import { toHttpProblem } from './problems.js';

export interface BaseAppOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly bodyLimitBytes: number;
  readonly jsonMaxDepth: number;
}

/**
 * What every HTTP server of the project shares (the scorer's sidecar and the monitor's API): JSON bodies only
 * (depth-checked before parsing; anything else 415), a request id echoed in `x-request-id`, request metrics by route
 * pattern, and errors as `{detail: [...]}` in the Flask API's shape. Bodies are checked by the callers' validators
 * (every problem, one format), never by Fastify's schema validation: schemas only document them.
 */
export function createBaseApp(options: BaseAppOptions): FastifyInstance {
  const log: FastifyBaseLogger = options.logger.child({ component: 'http' });
  const app: FastifyInstance = Fastify({
    loggerInstance: log,
    // Per-request lines would dominate the log at thousands of requests per second; metrics count requests.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: options.bodyLimitBytes,
  });
  app.setValidatorCompiler(() => () => true);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string, options.jsonMaxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook('onSend', (request, reply, _payload, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    options.metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler((error, request, reply) => {
    const problem = toHttpProblem(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    if (problem.retryAfterSeconds !== undefined) void reply.header('retry-after', String(problem.retryAfterSeconds));
    return reply.code(problem.status).send({ detail: problem.detail });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ detail: [{ loc: ['path'], msg: `no route ${request.method} ${request.url}`, type: 'not_found' }] }));
  return app;
}
