import { Counter, Gauge, Histogram, type Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesHistogram } from './histogram.js';

const PREFIX = 'opportunity_scorer_';

/** Seconds buckets from 0.1 ms to 10 s: stage and batch timings. */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Event age buckets: 1 ms to 1 h. */
const AGE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** One partition's lag: records between the group's committed offset and the partition's end. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** Reads lag when Prometheus scrapes; set by whoever owns a consumer (the composition root wires it). */
export type LagSource = () => Promise<readonly PartitionLag[]>;

export type Stage = 'decode' | 'validate' | 'inference' | 'encode' | 'produce' | 'commit';

/**
 * The service's metrics, registered on an injected registry (never the global one). Labels stay low-cardinality:
 * reasons, stages, topics, partitions, bundles — never an id or an offset.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly eventsConsumed: Counter<'topic'>;
  readonly eventsScored: Counter<'bundle' | 'version'>;
  readonly eventsDeadLettered: Counter<'reason'>;
  readonly eventsDropped: Counter<'reason'>;
  readonly stageDuration: Histogram<'stage'>;
  readonly batchSize: Histogram;
  readonly batchWait: Histogram;
  /** Observed once per published event: a {@link SeriesHistogram}, like `predictions`. */
  readonly eventAge: SeriesHistogram<'clock'>;
  readonly inFlight: Gauge;
  readonly produceErrors: Counter<'topic'>;
  readonly produceRetries: Counter;
  readonly modelInfo: Gauge<'bundle' | 'version' | 'role' | 'alias'>;
  readonly modelReloads: Counter<'result'>;
  readonly modelSourceProblems: Gauge;
  readonly shadowEvents: Counter;
  readonly shadowAbsDelta: Counter<'output'>;
  readonly shadowDecisionDisagreements: Counter;
  readonly shadowEncodeFailures: Counter;
  readonly predictions: SeriesHistogram<'output'>;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly lagScrapeErrors: Counter;
  readonly consumerRestarts: Counter<'by'>;
  /** Under the name the replaced model server (004) exported, so its dashboards keep working. */
  readonly inferenceLatency: Histogram<'model_name'>;
  /** Where consumer lag comes from at scrape time; without one the lag gauge is empty. */
  setLagSource(source: LagSource | undefined): void;
  /** How many refs cannot load a newer bundle now (read at scrape time); without one the gauge is 0. */
  setModelProblemsSource(source: (() => number) | undefined): void;
}

export function createMetrics(registry: Registry, options: { defaultMetrics?: boolean } = {}): Metrics {
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: PREFIX, eventLoopMonitoringPrecision: 10 });
    // prom-client names three gauges `_total`, which Prometheus reserves for counters (`promtool check metrics`
    // rejects them); each is the sum of a by-type gauge it also exports, so nothing is lost.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(`${PREFIX}${name}`);
  }
  const registers = [registry];
  let lagSource: LagSource | undefined;
  let modelProblems: (() => number) | undefined;
  const lagScrapeErrors = new Counter({ name: `${PREFIX}consumer_lag_scrape_errors_total`, help: 'Scrapes whose consumer lag could not be read from the brokers (the lag gauge is then empty).', registers });
  const consumerLag = new Gauge({
    name: `${PREFIX}consumer_lag_records`,
    help: "Records between the group's committed offset and the end of each partition this worker owns, read from the brokers at scrape time.",
    labelNames: ['topic', 'partition'],
    registers,
    // Computed when scraped, not from the last fetch: a stuck worker fetches nothing, and its lag must still grow.
    async collect() {
      this.reset();
      if (lagSource === undefined) return;
      try {
        for (const p of await lagSource()) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      } catch {
        lagScrapeErrors.inc();
      }
    },
  });
  return {
    consumerLag,
    lagScrapeErrors,
    setLagSource: (source) => {
      lagSource = source;
    },
    setModelProblemsSource: (source) => {
      modelProblems = source;
    },
    modelSourceProblems: new Gauge({
      name: `${PREFIX}model_source_problems`,
      help: 'Model refs whose newer bundle cannot load right now (MLflow unreachable, an artifact refused by its check, a failed reload) while the loaded bundles serve; GET /ready lists the reasons.',
      registers,
      collect() {
        this.set(modelProblems?.() ?? 0);
      },
    }),
    registry,
    eventsConsumed: new Counter({ name: `${PREFIX}events_consumed_total`, help: 'Events read from the input topics.', labelNames: ['topic'], registers }),
    eventsScored: new Counter({ name: `${PREFIX}events_scored_total`, help: 'Events scored by a serving bundle (primary, canary or pinned; Kafka and HTTP), counted when its models ran; shadow runs count in shadow_events_total.', labelNames: ['bundle', 'version'], registers }),
    eventsDeadLettered: new Counter({ name: `${PREFIX}events_dead_lettered_total`, help: 'Events written to the dead-letter topic, by reason (error code).', labelNames: ['reason'], registers }),
    eventsDropped: new Counter({ name: `${PREFIX}events_dropped_total`, help: 'Events dropped on purpose (STALE_POLICY=drop), by reason.', labelNames: ['reason'], registers }),
    stageDuration: new Histogram({ name: `${PREFIX}stage_duration_seconds`, help: 'Time per batch spent in each pipeline stage.', labelNames: ['stage'], buckets: DURATION_BUCKETS, registers }),
    batchSize: new Histogram({ name: `${PREFIX}batch_size`, help: 'Rows per model run.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], registers }),
    batchWait: new Histogram({ name: `${PREFIX}batch_wait_seconds`, help: 'Time the first row of a batch waited before dispatch.', buckets: DURATION_BUCKETS, registers }),
    eventAge: new SeriesHistogram({ name: `${PREFIX}event_age_seconds`, help: 'Age of events when their result is published: since detectedAt (clock=detected) and since the Kafka record timestamp (clock=kafka).', labelNames: ['clock'], buckets: AGE_BUCKETS, registers }),
    inFlight: new Gauge({ name: `${PREFIX}in_flight_events`, help: 'Events read from Kafka and not yet committed.', registers }),
    produceErrors: new Counter({ name: `${PREFIX}produce_errors_total`, help: 'Failed writes to Kafka (each is retried).', labelNames: ['topic'], registers }),
    produceRetries: new Counter({ name: `${PREFIX}produce_retries_total`, help: 'Retries of failed writes to Kafka.', registers }),
    modelInfo: new Gauge({ name: `${PREFIX}model_info`, help: 'Bundles loaded (value 1; for canary, the share in percent), by role: primary, canary or shadow.', labelNames: ['bundle', 'version', 'role', 'alias'], registers }),
    modelReloads: new Counter({ name: `${PREFIX}model_reloads_total`, help: 'Model reloads by result: success, failure (the old bundles keep serving) or unchanged.', labelNames: ['result'], registers }),
    shadowEvents: new Counter({ name: `${PREFIX}shadow_events_total`, help: 'Events scored by both the serving and the shadow bundle.', registers }),
    shadowAbsDelta: new Counter({ name: `${PREFIX}shadow_abs_delta_total`, help: 'Sum of |shadow - serving| per output; divide by shadow_events_total for the mean.', labelNames: ['output'], registers }),
    shadowDecisionDisagreements: new Counter({ name: `${PREFIX}shadow_decision_disagreements_total`, help: 'Events where serving and shadow fall on different sides of SHADOW_DECISION_THRESHOLD (composite).', registers }),
    shadowEncodeFailures: new Counter({ name: `${PREFIX}shadow_encode_failures_total`, help: 'Shadow results that could not be encoded and were left out of the shadow topic (the serving result is published).', registers }),
    predictions: new SeriesHistogram({
      name: `${PREFIX}prediction_value`,
      help: 'Distribution of each model output (profit %, success probability, duration hours), for drift dashboards.',
      labelNames: ['output'],
      buckets: [-1, -0.5, -0.25, -0.1, -0.05, 0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 2, 4, 8, 16, 24, 48, 72, 120, 168],
      registers,
    }),
    consumerRestarts: new Counter({
      name: `${PREFIX}consumer_restarts_total`,
      help: 'Kafka consumer restarts after a crash: by the Kafka client itself (by=client), or by the worker after the client gave up (by=worker, once per attempt).',
      labelNames: ['by'],
      registers,
    }),
    inferenceLatency: new Histogram({
      name: 'inference_latency_seconds',
      help: 'Time of one model run (the three models of a bundle over one micro-batch), by bundle name; the metric of the model server this replaces, unprefixed on purpose.',
      labelNames: ['model_name'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    httpRequests: new Counter({ name: `${PREFIX}http_requests_total`, help: 'HTTP requests by route and status.', labelNames: ['route', 'method', 'status'], registers }),
    httpDuration: new Histogram({ name: `${PREFIX}http_request_duration_seconds`, help: 'HTTP request latency by route.', labelNames: ['route', 'method'], buckets: DURATION_BUCKETS, registers }),
  };
}
