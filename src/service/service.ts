import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { type SchemaRegistryClient, confluentSchemaRegistry, createDecoder, createEncoder } from '../codec/index.js';
import type { AppConfig } from '../config/index.js';
import { type LoadedModel, buildHttpApp } from '../http/index.js';
import { DEFAULT_SESSION_SETTINGS, type ModelBundle, ScoringEngine } from '../inference/index.js';
import { KafkaWorker } from '../ingest/index.js';
import { createKafkaPort } from '../kafka/index.js';
import { Lifecycle, type LifecycleView } from '../lifecycle/index.js';
import type { Logger } from '../logging/index.js';
import { type Step, drain, drainSteps, failure, rollBack } from './steps.js';
import { type Metrics, createMetrics, engineMetrics, modelManagerMetrics } from '../metrics/index.js';
import { processRecords } from '../pipeline/index.js';
import { ModelManager, type ResolvedRouting, modelSource, readRegistry } from '../registry/index.js';

/** `run`: the Kafka worker and the HTTP sidecar (the main job); `serve`: the HTTP sidecar alone. */
export type ServiceMode = 'run' | 'serve';

export interface ServiceOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly version: string;
  readonly mode: ServiceMode;
}

export interface ReloadResult {
  readonly result: 'swapped' | 'unchanged';
  readonly serving: string[];
  readonly previous?: string[];
}

/** What `close` stops, in this order, after readiness goes off (each only if it was started). */
const DRAIN_ORDER = ['worker', 'engine', 'http', 'models'] as const;

/**
 * The scorer as one object with its own lifecycle, for `run` and `serve` alike: models → engine → (worker) → HTTP.
 * `start` rolls back what it opened when a later step fails; `close` drains in a fixed order (readiness 503 → the
 * worker stops fetching, flushes, publishes, commits and leaves its group → engine → HTTP → models). The service
 * fails when its worker fails; it stays failed through the drain.
 */
export class ScorerService {
  readonly engine: ScoringEngine;
  readonly manager: ModelManager;
  readonly worker: KafkaWorker | undefined;
  readonly http: FastifyInstance;
  readonly metrics: Metrics;
  /** Address the HTTP sidecar listens on. */
  readonly url: string;
  readonly #lifecycle: Lifecycle;
  readonly #steps: readonly Step[];
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  private constructor(parts: { engine: ScoringEngine; manager: ModelManager; worker: KafkaWorker | undefined; http: FastifyInstance; metrics: Metrics; url: string; lifecycle: Lifecycle; steps: readonly Step[]; logger: Logger }) {
    this.engine = parts.engine;
    this.manager = parts.manager;
    this.worker = parts.worker;
    this.http = parts.http;
    this.metrics = parts.metrics;
    this.url = parts.url;
    this.#lifecycle = parts.lifecycle;
    this.#steps = parts.steps;
    this.#log = parts.logger;
  }

  get lifecycle(): LifecycleView {
    return this.#lifecycle.view;
  }

  /** Starts the service; when a step fails, closes what the earlier steps opened (in reverse) and rethrows. */
  static async start({ config, logger, version, mode }: ServiceOptions): Promise<ScorerService> {
    const log = logger.child({ component: 'service' });
    const lifecycle = new Lifecycle(log);
    const metrics = createMetrics(new Registry());
    const opened: Step[] = [];
    try {
      const managerMetrics = modelManagerMetrics(metrics);
      const manager = await ModelManager.start(
        modelSource(config, logger),
        { primary: config.model.ref, canary: config.model.abSplit, shadow: config.model.shadow },
        (routing) =>
          new ScoringEngine(routing, { maxSize: config.batch.maxSize, maxDelayMs: config.batch.maxDelayMs, queueMax: config.batch.queueMax }, engineMetrics(metrics, { shadowDecisionThreshold: config.model.shadowDecisionThreshold })),
        logger,
        {
          onReload: managerMetrics.onReload,
          onRouting: (r) => {
            managerMetrics.onRouting(r);
            logger.info({ primary: r.primary.dir, canary: r.canary?.model.dir, canaryPercent: r.canary?.percent, shadow: r.shadow?.dir }, 'serving models');
          },
        },
        { ...DEFAULT_SESSION_SETTINGS, thread: config.model.inferenceThread === 'true' || (config.model.inferenceThread === 'auto' && mode === 'run') },
      );
      opened.push(['models', () => manager.close()]);
      metrics.setModelProblemsSource(() => manager.problems().length);
      const engine = manager.engine;
      opened.push(['engine', () => engine.close()]);

      const worker = mode === 'run' ? await createWorker(config, logger, metrics, engine) : undefined;
      let draining = false;
      const http = buildHttpApp({
        logger,
        metrics,
        version,
        engine: () => engine,
        models: () => loadedModels(engine, manager),
        aliases: async () => Object.fromEntries(Object.entries((await readRegistry(config.model.dir)).bundles).map(([b, v]) => [b, v.aliases])),
        reload: () => reloadModels(manager),
        adminToken: config.adminToken,
        draining: () => draining,
        limits: config.http,
        readiness: () => {
          if (draining) return { ready: false, reasons: ['draining'] };
          if (lifecycle.is('failed')) return { ready: false, reasons: [`service failed: ${lifecycle.failure ?? 'unknown'}`] };
          // Still ready: the loaded bundles serve. The reasons say why a newer one cannot load.
          const r = worker?.readiness() ?? { ready: true, reasons: [] };
          const models = manager.problems();
          return models.length === 0 ? r : { ready: r.ready, reasons: [...r.reasons, ...models] };
        },
      });
      opened.push(['http', () => http.close()]);
      const url = await http.listen({ host: config.http.host, port: config.http.port });
      log.info({ url, admin: config.adminToken !== undefined }, 'HTTP sidecar listening');
      if (worker !== undefined) {
        // Pushed before start: a start that fails midway leaves producers or a consumer for stop() to close.
        opened.push(['worker', () => worker.stop()]);
        worker.lifecycle.onChange((state, why) => {
          if (state === 'failed' && lifecycle.is('starting', 'running')) lifecycle.to('failed', `worker failed: ${why ?? 'unknown'}`);
        });
        await worker.start();
      }
      manager.startPolling(config.model.pollIntervalMs);
      lifecycle.to('running');
      // Not the reverse of the start order: the engine closes before HTTP, so scoring requests that arrive while
      // HTTP closes get 503 + Retry-After instead of new work.
      const steps = drainSteps(() => {
        draining = true;
      }, opened, DRAIN_ORDER);
      return new ScorerService({ engine, manager, worker, http, metrics, url, lifecycle, steps, logger: log });
    } catch (err) {
      await rollBack(lifecycle, log, opened, err);
      throw err;
    }
  }

  /** Reloads the models (what POST /models/reload and SIGHUP do); a failure keeps the serving bundles. */
  reload(): Promise<ReloadResult> {
    return reloadModels(this.manager);
  }

  /** Resolves with the reason when the service fails (its worker failed, or a drain step did). */
  get failed(): Promise<string> {
    return failure(this.#lifecycle.view);
  }

  /** Drains and closes everything, in order. Idempotent; the service ends stopped, or failed if it had failed. */
  close(): Promise<void> {
    this.#closing ??= drain(this.#lifecycle, this.#steps, this.#log, this.worker?.lifecycle);
    return this.#closing;
  }
}

async function createWorker(config: AppConfig, logger: Logger, metrics: Metrics, engine: ScoringEngine): Promise<KafkaWorker> {
  const kafka = createKafkaPort(config.kafka, logger);
  const registry: SchemaRegistryClient | undefined = config.codec.schemaRegistryUrl === undefined ? undefined : confluentSchemaRegistry({ url: config.codec.schemaRegistryUrl });
  const decoder = createDecoder(config.codec.input, registry);
  const encoder = await createEncoder(config.codec.output, { registry, subject: `${config.topics.output}-value` });
  const worker = new KafkaWorker({
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
    transactionMaxRecords: config.consumer.transactionMaxRecords,
    logger,
    metrics,
    onDrain: () => engine.flush(),
    process: (records) =>
      processRecords(records, { decoder, encoder, engine, maxEventAgeMs: config.staleness.maxEventAgeMs, stalePolicy: config.staleness.policy, metrics }),
  });
  metrics.setLagSource(worker.lag.bind(worker));
  return worker;
}

/** The loaded bundles as the HTTP API lists them: role, alias, traffic share and model card. */
function loadedModels(engine: ScoringEngine, manager: ModelManager): LoadedModel[] {
  const r = engine.routing;
  const resolved = manager.current;
  const canaryShare = r.canary?.percent ?? 0;
  const entry = (bundle: ModelBundle, alias: string | undefined, role: LoadedModel['role'], sharePercent: number): LoadedModel => ({ bundle, alias, role, sharePercent, metrics: bundle.card });
  return [
    entry(r.primary, resolved.primary.alias, 'primary', 100 - canaryShare),
    ...(r.canary === undefined ? [] : [entry(r.canary.bundle, resolved.canary?.model.alias, 'canary', canaryShare)]),
    ...(r.shadow === undefined ? [] : [entry(r.shadow, resolved.shadow?.alias, 'shadow', 0)]),
  ];
}

async function reloadModels(manager: ModelManager): Promise<ReloadResult> {
  const report = await manager.reload();
  return report.result === 'swapped'
    ? { result: 'swapped', serving: describe(report.routing), previous: describe(report.previous) }
    : { result: 'unchanged', serving: describe(report.routing) };
}

function describe(r: ResolvedRouting): string[] {
  return [
    `${r.primary.bundle}@${r.primary.version}`,
    ...(r.canary === undefined ? [] : [`${r.canary.model.bundle}@${r.canary.model.version} (canary ${r.canary.percent}%)`]),
    ...(r.shadow === undefined ? [] : [`${r.shadow.bundle}@${r.shadow.version} (shadow)`]),
  ];
}
