import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { type SchemaRegistryClient, confluentSchemaRegistry, createDecoder, createEncoder } from '../codec/index.js';
import type { AppConfig } from '../config/index.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildHttpApp } from '../http/index.js';
import { ModelBundle, ScoringEngine } from '../inference/index.js';
import { KafkaWorker } from '../ingest/index.js';
import { createKafka } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';
import { type Metrics, createMetrics } from '../metrics/index.js';
import { processRecords } from '../pipeline/index.js';
import { resolveModelRef } from '../registry/index.js';

export interface Service {
  readonly engine: ScoringEngine;
  readonly worker: KafkaWorker | undefined;
  readonly http: FastifyInstance;
  readonly metrics: Metrics;
  /** Address the HTTP sidecar listens on. */
  readonly url: string;
  /** Drains and closes everything, in order. Idempotent. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly version: string;
  /** Run the Kafka worker (`run`) or only the HTTP sidecar (`serve`). */
  readonly worker: boolean;
}

/** Wires the service from config: model → engine → (worker) → HTTP. Only the composition root calls this. */
export async function startService({ config, logger, version, worker: withWorker }: ServiceOptions): Promise<Service> {
  const metrics = createMetrics(new Registry());
  const resolved = await resolveModelRef(config.model.dir, config.model.ref);
  const bundle = await ModelBundle.load(resolved.dir);
  const check = await bundle.selfCheck();
  logger.info({ bundle: bundle.name, version: bundle.version, alias: resolved.alias, selfCheck: check.maxAbsDiff }, 'model bundle loaded and self-checked');
  metrics.modelInfo.set({ bundle: bundle.name, version: bundle.version }, 1);

  const engine = new ScoringEngine(
    bundle,
    { maxSize: config.batch.maxSize, maxDelayMs: config.batch.maxDelayMs, queueMax: config.batch.queueMax },
    {
      onDispatch: (size, waitedMs) => {
        metrics.batchSize.observe(size);
        metrics.batchWait.observe(waitedMs / 1000);
      },
      onPredictions: (model, profit, success, duration, rows) => {
        metrics.eventsScored.inc({ bundle: model.bundle, version: model.version }, rows);
        for (let i = 0; i < rows; i++) {
          metrics.predictions.observe({ output: 'profit_percent' }, profit[i] ?? 0);
          metrics.predictions.observe({ output: 'success_probability' }, success[i] ?? 0);
          metrics.predictions.observe({ output: 'duration_hours' }, duration[i] ?? 0);
        }
      },
    },
  );

  let worker: KafkaWorker | undefined;
  if (withWorker) {
    const kafka = createKafka(config.kafka, logger);
    const registry: SchemaRegistryClient | undefined =
      config.codec.schemaRegistryUrl === undefined ? undefined : confluentSchemaRegistry({ url: config.codec.schemaRegistryUrl });
    const decoder = createDecoder(config.codec.input, registry);
    const encoder = await createEncoder(config.codec.output, { registry, subject: `${config.topics.output}-value` });
    worker = new KafkaWorker({
      kafka,
      groupId: config.consumer.groupId,
      inputTopics: config.topics.input,
      outputTopic: config.topics.output,
      deadLetterTopic: config.topics.deadLetter,
      delivery: config.delivery,
      chunkSize: config.batch.maxSize,
      partitionsConsumedConcurrently: config.consumer.concurrency,
      fromBeginning: config.consumer.fromBeginning,
      sessionTimeoutMs: config.consumer.sessionTimeoutMs,
      logger,
      metrics,
      onDrain: () => engine.flush(),
      process: (records) =>
        processRecords(records, {
          decoder,
          encoder,
          engine,
          maxEventAgeMs: config.staleness.maxEventAgeMs,
          stalePolicy: config.staleness.policy,
          metrics,
        }),
    });
  }

  let draining = false;
  const modelMetrics = await readFile(join(resolved.dir, bundle.manifest.metrics ?? 'metrics.json'), 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    () => ({}),
  );
  const http = buildHttpApp({
    logger,
    metrics,
    version,
    engine: () => engine,
    models: () => [{ bundle: engine.bundle, alias: resolved.alias, metrics: modelMetrics }],
    draining: () => draining,
    limits: config.http,
    readiness: () => {
      if (draining) return { ready: false, reasons: ['draining'] };
      return worker?.readiness() ?? { ready: true, reasons: [] };
    },
  });
  const url = await http.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url }, 'HTTP sidecar listening');
  await worker?.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true; // readiness answers 503 from here on
      const steps: Array<[string, () => Promise<void>]> = [
        ['worker', async () => worker?.stop()],
        ['engine', () => engine.close()],
        ['http', () => http.close()],
        ['model', () => engine.bundle.close()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          logger.error({ err, step: name }, 'shutdown step failed');
        }
      }
    })();
    return closing;
  };
  return { engine, worker, http, metrics, url, close };
}
