import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { type SchemaRegistryClient, confluentSchemaRegistry, createDecoder, createEncoder } from '../codec/index.js';
import type { AppConfig } from '../config/index.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LoadedModel, buildHttpApp } from '../http/index.js';
import { type ModelBundle, ScoringEngine } from '../inference/index.js';
import { KafkaWorker } from '../ingest/index.js';
import { createKafkaPort } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';
import { type Metrics, createMetrics } from '../metrics/index.js';
import { processRecords } from '../pipeline/index.js';
import { ModelManager, type ModelRefs, type ResolvedRouting, readRegistry } from '../registry/index.js';

export interface Service {
  readonly engine: ScoringEngine;
  readonly manager: ModelManager;
  /** Reloads the models (what POST /models/reload and SIGHUP do). */
  reload(): Promise<{ result: 'swapped' | 'unchanged'; serving: string[]; previous?: string[] }>;
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
  const refs: ModelRefs = { primary: config.model.ref, canary: config.model.abSplit, shadow: config.model.shadow };
  const threshold = config.model.shadowDecisionThreshold;
  // Label children resolved once: observing through them skips hashing the labels three times per event
  // (3.6 % of the worker's main thread in the end-to-end profile).
  const profitHistogram = metrics.predictions.labels({ output: 'profit_percent' });
  const successHistogram = metrics.predictions.labels({ output: 'success_probability' });
  const durationHistogram = metrics.predictions.labels({ output: 'duration_hours' });
  const manager = await ModelManager.start(
    config.model.dir,
    refs,
    (routing) =>
      new ScoringEngine(routing, { maxSize: config.batch.maxSize, maxDelayMs: config.batch.maxDelayMs, queueMax: config.batch.queueMax }, {
        onDispatch: (size, waitedMs) => {
          metrics.batchSize.observe(size);
          metrics.batchWait.observe(waitedMs / 1000);
        },
        onInference: (model, _rows, seconds) => metrics.inferenceLatency.observe({ model_name: model.bundle }, seconds),
        onPredictions: (model, profit, success, duration, rows) => {
          metrics.eventsScored.inc({ bundle: model.bundle, version: model.version }, rows);
          for (let i = 0; i < rows; i++) {
            profitHistogram.observe(profit[i] ?? 0);
            successHistogram.observe(success[i] ?? 0);
            durationHistogram.observe(duration[i] ?? 0);
          }
        },
        onShadow: (serving, shadow) => {
          metrics.shadowEvents.inc();
          metrics.shadowAbsDelta.inc({ output: 'profit_percent' }, Math.abs(shadow.scores.predictedProfitPercent - serving.scores.predictedProfitPercent));
          metrics.shadowAbsDelta.inc({ output: 'success_probability' }, Math.abs(shadow.scores.successProbability - serving.scores.successProbability));
          metrics.shadowAbsDelta.inc({ output: 'duration_hours' }, Math.abs(shadow.scores.predictedDurationHours - serving.scores.predictedDurationHours));
          metrics.shadowAbsDelta.inc({ output: 'composite_score' }, Math.abs(shadow.compositeScore - serving.compositeScore));
          if (shadow.compositeScore >= threshold !== serving.compositeScore >= threshold) metrics.shadowDecisionDisagreements.inc();
        },
      }),
    logger,
    {
      onReload: (result) => metrics.modelReloads.inc({ result }),
      onRouting: (r) => {
        metrics.modelInfo.reset();
        const canaryShare = r.canary?.percent ?? 0;
        metrics.modelInfo.set({ bundle: r.primary.bundle, version: r.primary.version, role: 'primary', alias: r.primary.alias ?? '' }, 1);
        if (r.canary !== undefined) metrics.modelInfo.set({ bundle: r.canary.model.bundle, version: r.canary.model.version, role: 'canary', alias: r.canary.model.alias ?? '' }, canaryShare);
        if (r.shadow !== undefined) metrics.modelInfo.set({ bundle: r.shadow.bundle, version: r.shadow.version, role: 'shadow', alias: r.shadow.alias ?? '' }, 1);
        logger.info({ primary: r.primary.dir, canary: r.canary?.model.dir, canaryPercent: r.canary?.percent, shadow: r.shadow?.dir }, 'serving models');
      },
    },
  );
  const engine = manager.engine;

  let worker: KafkaWorker | undefined;
  if (withWorker) {
    const kafka = createKafkaPort(config.kafka, logger);
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
      shadowTopic: config.model.shadow === undefined ? undefined : config.model.shadowTopic,
      delivery: config.delivery,
      chunkSize: config.batch.maxSize,
      partitionsConsumedConcurrently: config.consumer.concurrency,
      fromBeginning: config.consumer.fromBeginning,
      sessionTimeoutMs: config.consumer.sessionTimeoutMs,
      commitIntervalMs: config.consumer.commitIntervalMs,
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
    metrics.setLagSource(worker.lag.bind(worker));
  }

  let draining = false;
  const cardMetrics = new Map<string, unknown>();
  const metricsOf = async (dir: string, file: string | undefined): Promise<unknown> => {
    if (!cardMetrics.has(dir)) {
      cardMetrics.set(dir, await readFile(join(dir, file ?? 'metrics.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => ({})));
    }
    return cardMetrics.get(dir);
  };
  const loaded = (): LoadedModel[] => {
    const r = engine.routing;
    const resolved = manager.current;
    const canaryShare = r.canary?.percent ?? 0;
    const entry = (bundle: ModelBundle, alias: string | undefined, role: LoadedModel['role'], sharePercent: number): LoadedModel => ({
      bundle,
      alias,
      role,
      sharePercent,
      metrics: cardMetrics.get(bundle.dir) ?? {},
    });
    return [
      entry(r.primary, resolved.primary.alias, 'primary', 100 - canaryShare),
      ...(r.canary === undefined ? [] : [entry(r.canary.bundle, resolved.canary?.model.alias, 'canary', canaryShare)]),
      ...(r.shadow === undefined ? [] : [entry(r.shadow, resolved.shadow?.alias, 'shadow', 0)]),
    ];
  };
  const refreshCardMetrics = async (): Promise<void> => {
    for (const m of loaded()) await metricsOf(m.bundle.dir, m.bundle.manifest.metrics);
  };
  await refreshCardMetrics();
  const describe = (r: ResolvedRouting): string[] => [
    `${r.primary.bundle}@${r.primary.version}`,
    ...(r.canary === undefined ? [] : [`${r.canary.model.bundle}@${r.canary.model.version} (canary ${r.canary.percent}%)`]),
    ...(r.shadow === undefined ? [] : [`${r.shadow.bundle}@${r.shadow.version} (shadow)`]),
  ];
  const reload = async (): Promise<{ result: 'swapped' | 'unchanged'; serving: string[]; previous?: string[] }> => {
    const report = await manager.reload();
    await refreshCardMetrics();
    return report.result === 'swapped'
      ? { result: 'swapped', serving: describe(report.routing), previous: describe(report.previous) }
      : { result: 'unchanged', serving: describe(report.routing) };
  };
  const http = buildHttpApp({
    logger,
    metrics,
    version,
    engine: () => engine,
    models: loaded,
    aliases: async () => Object.fromEntries(Object.entries((await readRegistry(config.model.dir)).bundles).map(([b, v]) => [b, v.aliases])),
    reload,
    adminToken: config.adminToken,
    draining: () => draining,
    limits: config.http,
    readiness: () => {
      if (draining) return { ready: false, reasons: ['draining'] };
      return worker?.readiness() ?? { ready: true, reasons: [] };
    },
  });
  const url = await http.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url, admin: config.adminToken !== undefined }, 'HTTP sidecar listening');
  await worker?.start();
  manager.startPolling(config.model.pollIntervalMs);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true; // readiness answers 503 from here on
      const steps: Array<[string, () => Promise<void>]> = [
        ['worker', async () => worker?.stop()],
        ['engine', () => engine.close()],
        ['http', () => http.close()],
        ['models', () => manager.close()],
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
  return { engine, manager, worker, http, metrics, url, reload, close };
}
