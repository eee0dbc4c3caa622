import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { onTestFinished } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { type HttpLimits, buildHttpApp } from '../../src/http/index.js';
import { ModelBundle, ScoringEngine } from '../../src/inference/index.js';
import { createLogger } from '../../src/logging/index.js';
import { type Metrics, createMetrics } from '../../src/metrics/index.js';

export const BUNDLE_DIR = fileURLToPath(new URL('../../models/opportunity-scorer/2.0.0', import.meta.url));

export interface TestHttp {
  readonly app: FastifyInstance;
  readonly engine: ScoringEngine;
  readonly metrics: Metrics;
  /** Model runs so far (batches dispatched by the shared micro-batcher). */
  modelRuns(): number;
  setDraining(v: boolean): void;
}

/** The HTTP app over the committed bundle (real ONNX models), no Kafka; closed when the test finishes. */
export async function testHttp(limits: Partial<HttpLimits> = {}, batch = { maxSize: 256, maxDelayMs: 5, queueMax: 8192 }): Promise<TestHttp> {
  const bundle = await ModelBundle.load(BUNDLE_DIR);
  const metrics = createMetrics(new Registry(), { defaultMetrics: false });
  let runs = 0;
  const engine = new ScoringEngine(bundle, batch, { onDispatch: () => runs++ });
  let draining = false;
  const app = buildHttpApp({
    logger: createLogger({ level: 'silent', pretty: false }),
    metrics,
    version: 'test',
    engine: () => engine,
    models: () => [{ bundle, alias: 'production', role: 'primary', sharePercent: 100, metrics: { success: { model: { roc_auc: 0.7 } } } }],
    readiness: () => ({ ready: !draining, reasons: draining ? ['draining'] : [] }),
    draining: () => draining,
    limits: { bodyLimitBytes: 1 << 20, jsonMaxDepth: 32, batchMaxItems: 100, corsOrigins: undefined, ...limits },
  });
  await app.ready();
  onTestFinished(async () => {
    await app.close();
    await engine.close();
    await bundle.close();
  });
  return { app, engine, metrics, modelRuns: () => runs, setDraining: (v) => (draining = v) };
}
