import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { type AvroReader, JSON_CONTENT_TYPE, type SchemaRegistryClient, confluentSchemaRegistry, createDecoder } from '../codec/index.js';
import type { AppConfig } from '../config/index.js';
import { type Outcome, outcomeToJson, outcomeType, scoredOpportunityType } from '../contract/index.js';
import { ScorerError } from '../errors.js';
import { buildMonitorApp } from '../http/index.js';
import { readBundleInfo } from '../inference/index.js';
import { KafkaWorker } from '../ingest/index.js';
import { type KafkaPort, type TailReader, createKafkaPort, requireTopics } from '../kafka/index.js';
import { Lifecycle, type LifecycleView } from '../lifecycle/index.js';
import type { Logger } from '../logging/index.js';
import { type Step, drain, drainSteps, failure, rollBack } from './steps.js';
import { type Metrics, type MonitorMetrics, createMetrics, createMonitorMetrics } from '../metrics/index.js';
import { type CardFigures, JoinStore, LiveWindow, MonitorProcessor, cardFigures, decodeEvaluated } from '../monitor/index.js';

export interface MonitorServiceOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly version: string;
  /** How often the store ages its window and bounds its waiting outcomes. */
  readonly housekeepingMs?: number;
}

const SCORED_READER: AvroReader = { type: scoredOpportunityType, schemaFile: 'scored-opportunity.avsc' };
const OUTCOME_READER: AvroReader = { type: outcomeType, schemaFile: 'outcome.avsc' };
/** What `close` stops after readiness goes off, in this order (each only if it was started). */
const DRAIN_ORDER = ['housekeeping', 'worker', 'processor', 'tail', 'producer', 'http', 'store'] as const;

/**
 * `opportunity-scorer monitor`: joins the scored topic with the outcomes topic (its own group, partition i of both
 * to one member), publishes each pair once to the evaluated topic, and serves live figures per model version read
 * from that topic. Same lifecycle rules as the scorer: a failed start closes what it opened; `close` drains in a
 * fixed order (readiness 503 → the join worker stops fetching, publishes, commits and leaves its group → readers →
 * HTTP → store).
 */
export class MonitorService {
  readonly worker: KafkaWorker;
  readonly http: FastifyInstance;
  readonly metrics: Metrics;
  readonly window: LiveWindow;
  readonly store: JoinStore;
  readonly url: string;
  readonly #lifecycle: Lifecycle;
  readonly #steps: readonly Step[];
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  private constructor(parts: { worker: KafkaWorker; http: FastifyInstance; metrics: Metrics; window: LiveWindow; store: JoinStore; url: string; lifecycle: Lifecycle; steps: readonly Step[]; logger: Logger }) {
    this.worker = parts.worker;
    this.http = parts.http;
    this.metrics = parts.metrics;
    this.window = parts.window;
    this.store = parts.store;
    this.url = parts.url;
    this.#lifecycle = parts.lifecycle;
    this.#steps = parts.steps;
    this.#log = parts.logger;
  }

  get lifecycle(): LifecycleView {
    return this.#lifecycle.view;
  }

  static async start({ config, logger, version, housekeepingMs = 60_000 }: MonitorServiceOptions): Promise<MonitorService> {
    const log = logger.child({ component: 'monitor-service' });
    const lifecycle = new Lifecycle(log);
    const m = config.monitor;
    const topics = { scored: config.topics.output, outcomes: m.outcomesTopic, evaluated: m.evaluatedTopic };
    const opened: Step[] = [];
    try {
      const kafka = createKafkaPort(config.kafka, logger);
      await checkTopics(kafka, topics, m.deadLetterTopic);
      const store = new JoinStore(m.storePath);
      opened.push(['store', () => store.close()]);

      const registry: SchemaRegistryClient | undefined = config.codec.schemaRegistryUrl === undefined ? undefined : confluentSchemaRegistry({ url: config.codec.schemaRegistryUrl });
      const window = new LiveWindow({ count: m.windowCount, ms: m.windowMs });
      const cards = new CardCache(config.model.dir);
      let lastPairAt: number | undefined;
      // The worker is made last (it starts consuming); the gauges and routes made before it read it through this.
      const late: { worker?: KafkaWorker } = {};
      const registryOfMetrics = new Registry();
      const metrics = createMetrics(registryOfMetrics);
      const owned = (): number[] => [...new Set([...(late.worker?.assignment ?? new Map<string, readonly number[]>()).values()].flat())];
      const monitorMetrics: MonitorMetrics = createMonitorMetrics(registryOfMetrics, {
        // Every gauge reads the figures: computed once a second at most, and the store's counts once per 5 s.
        live: () => window.versions().flatMap((v) => window.figures(v.bundle, v.version, 1_000) ?? []),
        card: (bundle, v) => cards.peek(bundle, v),
        store: every(5_000, () => ({ ...store.counts(owned(), Date.now(), m.outcomeWaitMs), bytes: store.sizeBytes() })),
        lastPairAt: () => lastPairAt,
      });

      const processor = new MonitorProcessor({
        kafka,
        store,
        topics,
        groupId: m.groupId,
        scoredDecoder: createDecoder('auto', registry, SCORED_READER),
        outcomeDecoder: createDecoder(config.codec.input, registry, OUTCOME_READER),
        outcomeWindowMs: m.outcomeWindowMs,
        logger,
        fence: async (partition) => {
          await late.worker?.fence(topics.scored, partition);
          await late.worker?.fence(topics.outcomes, partition);
        },
        observe: {
          applied: (side, n) => monitorMetrics.records.inc({ side, result: 'applied' }, n),
          duplicates: (side, n) => monitorMetrics.records.inc({ side, result: 'duplicate' }, n),
          deadLettered: (side) => monitorMetrics.records.inc({ side, result: 'dead_lettered' }),
          pairs: (n) => monitorMetrics.pairsPublished.inc(n),
          rebuilt: (topic, n) => monitorMetrics.rebuiltRecords.inc({ topic }, n),
        },
      });
      opened.push(['processor', () => processor.close()]);

      const tail: TailReader = await kafka.tail([topics.evaluated], (r) => {
        const pair = decodeEvaluated(r.value, r.partition);
        if (pair === undefined) return;
        const before = window.added;
        window.add(pair);
        if (window.added > before) lastPairAt = Date.now();
      });
      opened.push(['tail', () => tail.close()]);

      const outcomesProducer = await kafka.producer();
      opened.push(['producer', () => outcomesProducer.close()]);

      let draining = false;
      const http = buildMonitorApp({
        logger,
        metrics,
        version,
        limits: config.http,
        readiness: () => {
          if (draining) return { ready: false, reasons: ['draining'] };
          if (lifecycle.is('failed')) return { ready: false, reasons: [`monitor failed: ${lifecycle.failure ?? 'unknown'}`] };
          const reasons = [...(late.worker?.readiness().reasons ?? ['the join worker has not started']), ...(tail.joined ? [] : ['the evaluated-topic reader has not joined'])];
          return { ready: reasons.length === 0, reasons };
        },
        publishOutcomes: async (outcomes: readonly Outcome[]) => {
          if (draining) throw new ScorerError('SHUTTING_DOWN', 'the monitor is draining');
          await outcomesProducer.send(outcomes.map((o) => ({ topic: topics.outcomes, key: o.id, value: Buffer.from(JSON.stringify(outcomeToJson(o))), headers: { 'content-type': JSON_CONTENT_TYPE } })));
          monitorMetrics.outcomesAccepted.inc({ route: 'http' }, outcomes.length);
        },
        versions: () => window.versions(),
        performance: (bundle, v) => window.figures(bundle, v),
        card: (bundle, v) => cards.get(bundle, v),
        unmatched: (limit) => {
          const now = Date.now();
          return { partitions: owned(), counts: store.counts(owned(), now, m.outcomeWaitMs), unmatched: store.unmatched(owned(), now, m.outcomeWaitMs, limit) };
        },
      });
      opened.push(['http', () => http.close()]);
      const url = await http.listen({ host: config.http.host, port: config.http.port });
      log.info({ url }, 'monitor HTTP listening');

      const joinWorker = new KafkaWorker({
        kafka,
        groupId: m.groupId,
        inputTopics: [topics.scored, topics.outcomes],
        outputTopic: topics.evaluated,
        deadLetterTopic: m.deadLetterTopic,
        delivery: config.delivery,
        chunkSize: config.batch.maxSize,
        partitionsConsumedConcurrently: config.consumer.concurrency,
        fromBeginning: true,
        sessionTimeoutMs: config.consumer.sessionTimeoutMs,
        commitIntervalMs: config.consumer.commitIntervalMs,
        transactionMaxRecords: config.consumer.transactionMaxRecords,
        logger,
        metrics,
        copartitioned: true,
        onJoined: () => processor.rejoined(),
        process: (records) => processor.process(records),
      });
      late.worker = joinWorker;
      metrics.setLagSource(joinWorker.lag.bind(joinWorker));
      opened.push(['worker', () => joinWorker.stop()]);
      joinWorker.lifecycle.onChange((state, why) => {
        if (state === 'failed' && lifecycle.is('starting', 'running')) lifecycle.to('failed', `join worker failed: ${why ?? 'unknown'}`);
      });
      await joinWorker.start();

      const timer = setInterval(() => {
        try {
          const now = Date.now();
          store.expire(now - m.outcomeWindowMs, now - 2 * m.outcomeWindowMs);
          for (const p of owned()) store.boundWaiting(p, m.maxWaiting);
        } catch (err) {
          log.error({ err }, 'join store housekeeping failed');
        }
      }, housekeepingMs);
      timer.unref();
      opened.push(['housekeeping', () => clearInterval(timer)]);

      lifecycle.to('running');
      const steps = drainSteps(() => {
        draining = true;
      }, opened, DRAIN_ORDER);
      return new MonitorService({ worker: joinWorker, http, metrics, window, store, url, lifecycle, steps, logger: log });
    } catch (err) {
      await rollBack(lifecycle, log, opened, err);
      throw err;
    }
  }

  get failed(): Promise<string> {
    return failure(this.#lifecycle.view);
  }

  close(): Promise<void> {
    this.#closing ??= drain(this.#lifecycle, this.#steps, this.#log, this.worker.lifecycle);
    return this.#closing;
  }
}

/**
 * The join is partition-local only when the scored, outcomes and evaluated topics have equal partition counts
 * (records keyed by id land on the same partition number): anything else stops the monitor, saying how to fix it.
 */
async function checkTopics(kafka: KafkaPort, topics: { scored: string; outcomes: string; evaluated: string }, deadLetter: string): Promise<void> {
  const admin = await kafka.admin();
  try {
    await requireTopics(admin, [topics.scored, topics.outcomes, topics.evaluated, deadLetter]);
    const counts = await Promise.all([topics.scored, topics.outcomes, topics.evaluated].map(async (t) => [t, (await admin.partitions(t)).length] as const));
    if (new Set(counts.map(([, n]) => n)).size > 1) {
      const [scored, n] = counts[0] as readonly [string, number];
      throw new ScorerError(
        'CONFIG_INVALID',
        `the monitor joins by partition, so its topics need equal partition counts: ${counts.map(([t, c]) => `${t} has ${c}`).join(', ')}. ` +
          `Recreate the others with ${n} partitions like ${scored} (adding partitions moves keys, so only on empty topics), or point OUTCOMES_TOPIC/EVALUATED_TOPIC at topics with ${n}.`,
      );
    }
  } finally {
    await admin.close();
  }
}

/** `read`, called at most once per `ms` (its last value in between). */
function every<T>(ms: number, read: () => T): () => T {
  let at = Number.NEGATIVE_INFINITY;
  let value: T | undefined;
  return () => {
    const now = performance.now();
    if (value === undefined || now - at >= ms) {
      value = read();
      at = now;
    }
    return value;
  };
}

/** Cards of the versions seen, read once from MODEL_DIR (a version whose bundle is not there has none). */
class CardCache {
  readonly #dir: string;
  readonly #cards = new Map<string, Promise<CardFigures | undefined>>();
  readonly #ready = new Map<string, CardFigures | undefined>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  get(bundle: string, version: string): Promise<CardFigures | undefined> {
    const key = `${bundle}@${version}`;
    let card = this.#cards.get(key);
    if (card === undefined) {
      card = readBundleInfo(join(this.#dir, bundle, version)).then(
        (info) => cardFigures(info.card),
        () => undefined,
      );
      this.#cards.set(key, card);
      void card.then((c) => this.#ready.set(key, c));
    }
    return card;
  }

  /** The card if read already; starts reading it otherwise (scrapes must not wait for disk). */
  peek(bundle: string, version: string): CardFigures | undefined {
    void this.get(bundle, version);
    return this.#ready.get(`${bundle}@${version}`);
  }
}
