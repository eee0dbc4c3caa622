import { z } from 'zod';
import { MODEL_REF_FORMS, parseMlflowRef } from '../mlflow/refs.js';

/**
 * Every configuration key the service reads, in README order. Each key is an environment variable name
 * (the optional config file uses the same names). Values arrive as strings and are parsed here; units are in
 * the name (`…_MS`, `…_BYTES`) so the typed config can carry them without conversion ambiguity.
 */
export interface ConfigKey<T = unknown> {
  readonly schema: z.ZodType<T>;
  /** Default as the user would write it; absent means "unset" (optional key). */
  readonly default?: string;
  readonly doc: string;
  /** What values are allowed, phrased for an error message. */
  readonly allowed: string;
  /** Never printed back: values are replaced with "[redacted]" in errors and `config print`. */
  readonly secret?: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
const DELIVERY_MODES = ['at-least-once', 'exactly-once'] as const;
const STALE_POLICIES = ['score', 'dead-letter', 'drop'] as const;
const INPUT_CODECS = ['auto', 'json', 'avro', 'confluent-avro'] as const;
const OUTPUT_CODECS = ['json', 'avro', 'confluent-avro'] as const;
const INFERENCE_THREAD_MODES = ['auto', 'true', 'false'] as const;

function int(min: number, max: number = Number.MAX_SAFE_INTEGER): z.ZodType<number> {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`));
}

function bool(): z.ZodType<boolean> {
  return z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }))
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodType<T[number]> {
  return z
    .string()
    .trim()
    .pipe(z.enum(values, { error: 'is not an allowed value' }));
}

const topicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'topic names use letters, digits, ".", "_" and "-" (1–249 chars)');

/** A bundle in MODEL_DIR (`<bundle>@<version|alias>`) or one of MLflow's model URIs. */
const LOCAL_MODEL_REF = /^[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9._-]+)?$/;
const isModelRef = (v: string): boolean => LOCAL_MODEL_REF.test(v) || parseMlflowRef(v) !== undefined;
const modelRef = z.string().refine(isModelRef, `must look like ${MODEL_REF_FORMS}`);

function list<T>(item: z.ZodType<T, string>): z.ZodType<T[]> {
  return z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p.length > 0),
    )
    .pipe(z.array(item).min(1, 'needs at least one entry'));
}

const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'each broker is host:port');
const nonEmpty = z.string().trim().min(1, 'must not be empty');
const url = z.url({ error: 'must be an http(s) URL' });
const optional = <T>(s: z.ZodType<T>): z.ZodType<T | undefined> =>
  z.preprocess((v) => (v === '' ? undefined : v), s.optional());

const key = <T>(k: ConfigKey<T>): ConfigKey<T> => k;

export const configKeys = {
  LOG_LEVEL: key({
    schema: oneOf(LOG_LEVELS),
    default: 'info',
    doc: 'Minimum level written to the log.',
    allowed: LOG_LEVELS.join(', '),
  }),
  LOG_FORMAT: key({
    schema: oneOf(['auto', 'json', 'pretty'] as const),
    default: 'auto',
    doc: 'json: one JSON object per line; pretty: human-readable; auto: pretty when stdout is a terminal, else json.',
    allowed: 'auto, json, pretty',
  }),
  KAFKA_BROKERS: key({
    schema: list(hostPort),
    default: '127.0.0.1:9092',
    doc: 'Bootstrap brokers, comma-separated.',
    allowed: 'host:port[,host:port…]',
  }),
  KAFKA_CLIENT: key({
    schema: oneOf(['kafkajs', 'platformatic'] as const),
    default: 'platformatic',
    doc: 'Kafka client library behind the Kafka port: @platformatic/kafka (measured faster, lower latency) or kafkajs (README: Kafka clients).',
    allowed: 'kafkajs, platformatic',
  }),
  KAFKA_CLIENT_ID: key({
    schema: nonEmpty,
    default: 'opportunity-scorer',
    doc: 'Kafka client id (shows in broker logs and quotas).',
    allowed: 'a non-empty string',
  }),
  KAFKA_CONNECTION_TIMEOUT_MS: key({
    schema: int(100, 300_000),
    default: '3000',
    doc: 'Time allowed to open a broker connection.',
    allowed: 'integer milliseconds, 100–300000',
  }),
  KAFKA_REQUEST_TIMEOUT_MS: key({
    schema: int(100, 300_000),
    default: '30000',
    doc: 'Time allowed for one broker request.',
    allowed: 'integer milliseconds, 100–300000',
  }),
  KAFKA_SSL: key({
    schema: bool(),
    default: 'false',
    doc: 'Connect with TLS.',
    allowed: 'true or false',
  }),
  KAFKA_SSL_CA_FILE: key({
    schema: optional(nonEmpty),
    doc: 'PEM file of the CA that signed the brokers’ certificates (TLS only; default: the system trust store).',
    allowed: 'a file path',
  }),
  KAFKA_SSL_REJECT_UNAUTHORIZED: key({
    schema: bool(),
    default: 'true',
    doc: 'Reject brokers whose certificate does not verify. Turn off only for local testing.',
    allowed: 'true or false',
  }),
  KAFKA_SASL_MECHANISM: key({
    schema: optional(oneOf(SASL_MECHANISMS)),
    doc: 'SASL mechanism; unset means no SASL. Requires KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD.',
    allowed: SASL_MECHANISMS.join(', '),
  }),
  KAFKA_SASL_USERNAME: key({
    schema: optional(nonEmpty),
    doc: 'SASL user name.',
    allowed: 'a non-empty string',
  }),
  KAFKA_SASL_PASSWORD: key({
    schema: optional(nonEmpty),
    doc: 'SASL password (secret: never logged).',
    allowed: 'a non-empty string',
    secret: true,
  }),
  INPUT_TOPICS: key({
    schema: list(topicName),
    default: 'opportunities',
    doc: 'Topics the worker consumes opportunity events from, comma-separated.',
    allowed: 'topic[,topic…]',
  }),
  OUTPUT_TOPIC: key({
    schema: topicName,
    default: 'opportunities.scored',
    doc: 'Topic scored opportunities are published to.',
    allowed: 'a topic name',
  }),
  DLQ_TOPIC: key({
    schema: topicName,
    default: 'opportunities.dlq',
    doc: 'Dead-letter topic for events that cannot be scored (original bytes plus reason headers).',
    allowed: 'a topic name',
  }),
  TOPIC_PARTITIONS: key({
    schema: int(1, 10_000),
    default: '4',
    doc: 'Partitions used by `opportunity-scorer topics create` for topics it creates.',
    allowed: 'integer 1–10000',
  }),
  CONSUMER_GROUP: key({
    schema: nonEmpty,
    default: 'opportunity-scorer',
    doc: 'Consumer group id of the worker.',
    allowed: 'a non-empty string',
  }),
  CONSUMER_CONCURRENCY: key({
    schema: int(1, 256),
    default: '4',
    doc: 'Partitions processed at the same time by one worker (their events meet in the shared micro-batcher).',
    allowed: 'integer 1–256',
  }),
  CONSUMER_FROM_BEGINNING: key({
    schema: bool(),
    default: 'true',
    doc: 'Where a new consumer group starts: true = the oldest retained event (nothing published before the first start is missed), false = new events only.',
    allowed: 'true or false',
  }),
  CONSUMER_SESSION_TIMEOUT_MS: key({
    schema: int(6_000, 300_000),
    default: '30000',
    doc: 'A worker silent for this long loses its partitions to the others (also how long a crashed worker holds them).',
    allowed: 'integer milliseconds, 6000–300000',
  }),
  CONSUMER_COMMIT_INTERVAL_MS: key({
    schema: int(0, 60_000),
    default: '0',
    doc: 'At-least-once: 0 commits offsets after every published chunk, so a crash repeats at most the chunks in flight; a larger value commits at most that often, with both clients (fewer commit round trips; a crash or a rebalance repeats up to an interval of records), and what is resolved when the worker drains. Exactly-once commits inside each transaction.',
    allowed: 'integer milliseconds, 0–60000',
  }),
  TRANSACTION_MAX_RECORDS: key({
    schema: int(1, 1_000_000),
    default: '4096',
    doc: "Exactly-once: the most input records one transaction covers. Each transaction costs the broker several round trips, so a partition's fetched records go in one transaction up to this many (scored in BATCH_MAX_SIZE model runs): under load transactions grow with the lag; at low load a fetch holds a few records and they leave at once. Measured (2026-12-05, 300,000 events): one transaction per 256-record chunk ran at half the at-least-once rate, 4096 at 0.89 of it. Its outputs go in requests of at most 512 KiB, so a large transaction stays under the broker's message.max.bytes.",
    allowed: 'integer 1–1000000',
  }),
  DELIVERY: key({
    schema: oneOf(DELIVERY_MODES),
    default: 'at-least-once',
    doc: 'at-least-once: idempotent producer, offsets committed after outputs are acknowledged. exactly-once: outputs and offsets in one Kafka transaction.',
    allowed: DELIVERY_MODES.join(', '),
  }),
  INPUT_CODEC: key({
    schema: oneOf(INPUT_CODECS),
    default: 'auto',
    doc: 'How input event bytes are decoded; auto decides per message.',
    allowed: INPUT_CODECS.join(', '),
  }),
  OUTPUT_CODEC: key({
    schema: oneOf(OUTPUT_CODECS),
    default: 'json',
    doc: 'How scored results are encoded.',
    allowed: OUTPUT_CODECS.join(', '),
  }),
  SCHEMA_REGISTRY_URL: key({
    schema: optional(url),
    doc: 'Confluent-compatible schema registry; required when a codec is confluent-avro.',
    allowed: 'an http(s) URL',
  }),
  BATCH_MAX_SIZE: key({
    schema: int(1, 65_536),
    default: '256',
    doc: 'A micro-batch is dispatched to the models once this many rows wait…',
    allowed: 'integer 1–65536',
  }),
  BATCH_MAX_DELAY_MS: key({
    schema: int(0, 60_000),
    default: '0',
    doc: '…or once this long has passed since its first row, whichever comes first; 0: as soon as the models are free (rows arriving while a batch runs go together in the next). Measured (2026-12-04): 0 serves /predict at 21.1k req/s (p99 5 ms) as 1 ms did (21.4k, p99 7 ms) and takes 1 ms off the Kafka median (4 vs 5 ms at 2,000 events/s); 5 ms capped /predict at 6.5k req/s.',
    allowed: 'integer milliseconds, 0–60000',
  }),
  BATCH_QUEUE_MAX: key({
    schema: int(1, 10_000_000),
    default: '8192',
    doc: 'Rows allowed to wait for the models; callers beyond it are held back (backpressure).',
    allowed: 'integer 1–10000000',
  }),
  MAX_EVENT_AGE_MS: key({
    schema: int(0),
    default: '0',
    doc: 'Events older than this (by detectedAt) are stale; 0 turns the check off.',
    allowed: 'integer milliseconds ≥ 0',
  }),
  STALE_POLICY: key({
    schema: oneOf(STALE_POLICIES),
    default: 'dead-letter',
    doc: 'What happens to a stale event.',
    allowed: STALE_POLICIES.join(', '),
  }),
  MODEL_DIR: key({
    schema: nonEmpty,
    default: 'models',
    doc: 'Model registry directory (models/<bundle>/<version>/).',
    allowed: 'a directory path',
  }),
  MODEL_REF: key({
    schema: modelRef,
    default: 'opportunity-scorer@production',
    doc: 'Model bundle that serves: <bundle>@<version|alias> from MODEL_DIR, or from MLflow (MLFLOW_TRACKING_URI) models:/<name>/<version>, models:/<name>@<alias> or runs:/<run_id>/<path>.',
    allowed: MODEL_REF_FORMS,
  }),
  AB_SPLIT: key({
    schema: optional(
      z
        .string()
        .regex(/:(100|[0-9]{1,2})(\.[0-9]+)?$/, 'must end in :<percent>')
        .transform((v) => ({ ref: v.slice(0, v.lastIndexOf(':')), percent: Number(v.slice(v.lastIndexOf(':') + 1)) }))
        .refine((v) => isModelRef(v.ref), `must look like <modelRef>:<percent>, the ref one of ${MODEL_REF_FORMS}`)
        .refine((v) => v.percent <= 100, 'percent must be 0–100'),
    ),
    doc: 'A/B split: <modelRef>:<percent> sends that share of events (sticky by opportunity id) to a second bundle.',
    allowed: '<modelRef>:<0–100> (a ref as MODEL_REF takes)',
  }),
  SHADOW_MODEL: key({
    schema: optional(modelRef),
    doc: 'A bundle that also scores every event; its results go only to SHADOW_TOPIC, never to the output or HTTP.',
    allowed: MODEL_REF_FORMS,
  }),
  SHADOW_TOPIC: key({
    schema: topicName,
    default: 'opportunities.shadow',
    doc: 'Topic for the shadow bundle\'s results (worker only).',
    allowed: 'a topic name',
  }),
  SHADOW_DECISION_THRESHOLD: key({
    schema: z.string().trim().regex(/^-?\d+(\.\d+)?$/, 'must be a number').transform(Number),
    default: '0',
    doc: 'Composite score at which an opportunity counts as "take it"; the share of events where primary and shadow decide differently is a metric.',
    allowed: 'a number (percent)',
  }),
  INFERENCE_THREAD: key({
    schema: oneOf(INFERENCE_THREAD_MODES),
    default: 'auto',
    doc: 'Run each bundle\'s models on a thread of their own for batches of 64 rows or more (onnxruntime-node runs a session on the thread that calls it; smaller batches stay on the event loop); auto: for `run`, not for `serve`. Measured (2026-12-04, paired runs): the Kafka worker moves 20–40 % more events/s with it and keeps a shorter tail at 10,000 events/s, for about 50 MiB more RSS; p99 at 2,000 events/s came out a few ms higher.',
    allowed: INFERENCE_THREAD_MODES.join(', '),
  }),
  MODEL_POLL_INTERVAL_MS: key({
    schema: int(0, 86_400_000),
    default: '0',
    doc: 'Reload when the registry resolves MODEL_REF, AB_SPLIT or SHADOW_MODEL differently (e.g. after `models promote`); 0 turns polling off.',
    allowed: 'integer milliseconds ≥ 0',
  }),
  MLFLOW_TRACKING_URI: key({
    schema: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
    doc: 'MLflow tracking server for models:/ and runs:/ model refs, `models push` and retraining; unset means bundles come from MODEL_DIR only.',
    allowed: 'an http(s) URL',
  }),
  MLFLOW_TRACKING_TOKEN: key({
    schema: optional(z.string().min(1)),
    doc: 'Bearer token for MLflow (instead of a username and password). Secret: never logged.',
    allowed: 'a string',
    secret: true,
  }),
  MLFLOW_TRACKING_USERNAME: key({
    schema: optional(z.string().min(1)),
    doc: 'Basic-auth user for MLflow (with MLFLOW_TRACKING_PASSWORD).',
    allowed: 'a string',
  }),
  MLFLOW_TRACKING_PASSWORD: key({
    schema: optional(z.string()),
    doc: 'Basic-auth password for MLflow. Secret: never logged.',
    allowed: 'a string',
    secret: true,
  }),
  MLFLOW_CACHE_DIR: key({
    schema: nonEmpty,
    default: '.mlflow-cache',
    doc: 'Where bundles fetched from MLflow are kept (checked against their manifest before use); with MLflow unreachable, the bundle a ref last resolved to loads from here.',
    allowed: 'a directory path',
  }),
  MLFLOW_TIMEOUT_MS: key({
    schema: int(100, 600_000),
    default: '10000',
    doc: 'Timeout of one request to MLflow.',
    allowed: 'integer milliseconds, 100–600000',
  }),
  MLFLOW_EXPERIMENT_NAME: key({
    schema: nonEmpty,
    default: 'opportunity-scorer',
    doc: 'MLflow experiment that `models push` and retraining runs log to.',
    allowed: 'a name',
  }),
  ADMIN_TOKEN: key({
    schema: optional(z.string().min(16, 'must be at least 16 characters')),
    doc: 'Bearer token of the admin endpoints (POST /models/reload); unset disables them. Secret: never logged.',
    allowed: 'a string of 16+ characters',
    secret: true,
  }),
  HTTP_HOST: key({
    schema: nonEmpty,
    default: '0.0.0.0',
    doc: 'Address the HTTP sidecar listens on.',
    allowed: 'a host name or IP address',
  }),
  HTTP_PORT: key({
    schema: int(0, 65_535),
    default: '8080',
    doc: 'Port of the HTTP sidecar (0 picks a free port).',
    allowed: 'integer 0–65535',
  }),
  HTTP_BODY_LIMIT_BYTES: key({
    schema: int(1_024, 100 * 1024 * 1024),
    default: '1048576',
    doc: 'Largest request body accepted; larger ones get 413.',
    allowed: 'integer bytes, 1024–104857600',
  }),
  HTTP_JSON_MAX_DEPTH: key({
    schema: int(2, 1_000),
    default: '32',
    doc: 'Deepest JSON nesting accepted in a request body; deeper bodies get 400 before they are parsed.',
    allowed: 'integer 2–1000',
  }),
  PREDICT_BATCH_MAX_ITEMS: key({
    schema: int(1, 100_000),
    default: '1000',
    doc: 'Most opportunities in one POST /predict/batch; more get 413.',
    allowed: 'integer 1–100000',
  }),
  HTTP_CORS_ORIGINS: key({
    schema: optional(list(z.string().regex(/^(\*|https?:\/\/[^\s,]+)$/, 'each origin is * or an http(s) origin'))),
    doc: 'Origins allowed to call the API from a browser (comma-separated, or *); unset turns CORS off.',
    allowed: 'origin[,origin…] or *',
  }),
  OUTCOMES_TOPIC: key({
    schema: topicName,
    default: 'opportunities.outcomes',
    doc: 'Topic of outcome events (schemas/outcome.avsc, any input codec), keyed by opportunity id; POST /outcomes writes here and the monitor reads it.',
    allowed: 'a topic name',
  }),
  EVALUATED_TOPIC: key({
    schema: topicName,
    default: 'opportunities.evaluated',
    doc: 'Topic the monitor publishes each joined prediction and outcome to, once (JSON, keyed by id).',
    allowed: 'a topic name',
  }),
  OUTCOMES_DLQ_TOPIC: key({
    schema: topicName,
    default: 'opportunities.outcomes.dlq',
    doc: 'Dead-letter topic of the monitor: outcome (and scored) records it cannot read, original bytes plus reason headers.',
    allowed: 'a topic name',
  }),
  MONITOR_GROUP: key({
    schema: nonEmpty,
    default: 'opportunity-scorer-monitor',
    doc: "The monitor's consumer group (reads the output and outcomes topics, partition i of both to one member).",
    allowed: 'a non-empty string',
  }),
  MONITOR_STORE_PATH: key({
    schema: nonEmpty,
    default: './monitor-state/join.sqlite',
    doc: "The monitor's join store (SQLite file, one per monitor process); rebuilt from the topics when missing.",
    allowed: 'a writable file path',
  }),
  OUTCOME_WINDOW_MS: key({
    schema: int(60_000, 90 * 86_400_000),
    default: '691200000',
    doc: 'How long a prediction waits for its outcome (8 days by default; holds run up to 168 h); an outcome for an older prediction is unmatched (prediction_expired).',
    allowed: 'integer milliseconds, 60000–7776000000',
  }),
  OUTCOME_WAIT_MS: key({
    schema: int(0, 90 * 86_400_000),
    default: '3600000',
    doc: 'How long an outcome that arrived before its prediction waits before it counts as unmatched (no_prediction); it still joins if the prediction comes within the window.',
    allowed: 'integer milliseconds, 0–7776000000',
  }),
  MONITOR_MAX_WAITING: key({
    schema: int(1, 100_000_000),
    default: '1000000',
    doc: 'Most outcomes waiting for their prediction per partition; the oldest beyond it are dropped and counted (pending_overflow).',
    allowed: 'integer ≥ 1',
  }),
  MONITOR_WINDOW_COUNT: key({
    schema: int(10, 10_000_000),
    default: '50000',
    doc: 'Live metrics cover at most this many of the latest joined pairs per model version (by closedAt).',
    allowed: 'integer 10–10000000',
  }),
  MONITOR_WINDOW_MS: key({
    schema: int(60_000, 365 * 86_400_000),
    default: '604800000',
    doc: "Live metrics cover pairs closed within this long of the version's newest closedAt (7 days by default).",
    allowed: 'integer milliseconds, 60000–31536000000',
  }),
  SHUTDOWN_GRACE_MS: key({
    schema: int(0, 3_600_000),
    default: '30000',
    doc: 'Time allowed to drain on SIGTERM/SIGINT before a forced non-zero exit.',
    allowed: 'integer milliseconds, 0–3600000',
  }),
} as const satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof configKeys;

export type RawConfig = {
  readonly [K in ConfigKeyName]: (typeof configKeys)[K] extends ConfigKey<infer T> ? T : never;
};
