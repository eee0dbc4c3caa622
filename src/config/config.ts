import { readFileSync } from 'node:fs';
import { ScorerError } from '../errors.js';
import { isMlflowRef } from '../mlflow/refs.js';
import { type ConfigKey, type ConfigKeyName, type RawConfig, configKeys } from './keys.js';

export type LogLevel = RawConfig['LOG_LEVEL'];

export interface SaslConfig {
  readonly mechanism: NonNullable<RawConfig['KAFKA_SASL_MECHANISM']>;
  readonly username: string;
  readonly password: string;
}

export interface KafkaConfig {
  readonly client: RawConfig['KAFKA_CLIENT'];
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly ssl: false | { readonly caFile: string | undefined; readonly rejectUnauthorized: boolean };
  readonly sasl: SaslConfig | undefined;
}

/** The service configuration: built once at start-up, validated, unit-normalised and deeply frozen. */
export interface AppConfig {
  readonly log: { readonly level: LogLevel; readonly format: RawConfig['LOG_FORMAT'] };
  readonly kafka: KafkaConfig;
  readonly topics: {
    readonly input: readonly string[];
    readonly output: string;
    readonly deadLetter: string;
    readonly partitions: number;
  };
  readonly consumer: {
    readonly groupId: string;
    readonly concurrency: number;
    readonly fromBeginning: boolean;
    readonly sessionTimeoutMs: number;
    readonly commitIntervalMs: number;
    /** Exactly-once: input records one transaction covers at most. */
    readonly transactionMaxRecords: number;
  };
  readonly delivery: RawConfig['DELIVERY'];
  readonly codec: {
    readonly input: RawConfig['INPUT_CODEC'];
    readonly output: RawConfig['OUTPUT_CODEC'];
    readonly schemaRegistryUrl: string | undefined;
  };
  readonly batch: { readonly maxSize: number; readonly maxDelayMs: number; readonly queueMax: number };
  readonly staleness: { readonly maxEventAgeMs: number; readonly policy: RawConfig['STALE_POLICY'] };
  readonly model: {
    readonly dir: string;
    readonly ref: string;
    readonly abSplit: { readonly ref: string; readonly percent: number } | undefined;
    readonly shadow: string | undefined;
    readonly shadowTopic: string;
    readonly shadowDecisionThreshold: number;
    readonly pollIntervalMs: number;
    /** Whether every loaded bundle runs its models on a thread of its own (INFERENCE_THREAD; auto: for `run` only). */
    readonly inferenceThread: 'auto' | 'true' | 'false';
  };
  /** MLflow as a model source (and where pushes and retraining log); undefined without MLFLOW_TRACKING_URI. */
  readonly mlflow:
    | {
        readonly trackingUri: string;
        readonly token: string | undefined;
        readonly username: string | undefined;
        readonly password: string | undefined;
        readonly timeoutMs: number;
        readonly cacheDir: string;
        readonly experiment: string;
      }
    | undefined;
  readonly adminToken: string | undefined;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly jsonMaxDepth: number;
    readonly batchMaxItems: number;
    readonly corsOrigins: readonly string[] | undefined;
  };
  readonly monitor: {
    readonly outcomesTopic: string;
    readonly evaluatedTopic: string;
    readonly deadLetterTopic: string;
    readonly groupId: string;
    readonly storePath: string;
    readonly outcomeWindowMs: number;
    readonly outcomeWaitMs: number;
    readonly maxWaiting: number;
    readonly windowCount: number;
    readonly windowMs: number;
  };
  readonly shutdownGraceMs: number;
}

export interface ConfigProblem {
  readonly key: string;
  /** The value as seen (secrets redacted); undefined when the key was missing. */
  readonly value: string | undefined;
  readonly message: string;
  readonly allowed: string;
}

export interface ConfigSources {
  /** Environment variables (only the known keys are read). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Optional JSON config file whose keys are the same names as the environment variables. */
  readonly file?: string | undefined;
}

const KEY_NAMES = Object.keys(configKeys) as ConfigKeyName[];

/**
 * Builds the configuration: defaults, then the config file, then the environment (later wins).
 * Throws one CONFIG_INVALID error listing every problem, never just the first.
 */
export function loadConfig(sources: ConfigSources): AppConfig {
  const problems: ConfigProblem[] = [];
  const input = new Map<ConfigKeyName, string>();
  for (const name of KEY_NAMES) {
    const def: ConfigKey = configKeys[name];
    if (def.default !== undefined) input.set(name, def.default);
  }
  if (sources.file !== undefined) {
    for (const [name, value] of readConfigFile(sources.file, problems)) input.set(name, value);
  }
  for (const name of KEY_NAMES) {
    const value = sources.env[name];
    if (value !== undefined) input.set(name, value);
  }

  const raw: Record<string, unknown> = {};
  for (const name of KEY_NAMES) {
    const def: ConfigKey = configKeys[name];
    const seen = input.get(name);
    const result = def.schema.safeParse(seen);
    if (result.success) {
      raw[name] = result.data;
    } else {
      const message = result.error.issues.map((i) => i.message).join('; ');
      problems.push(problem(name, seen, seen === undefined ? 'is required' : message));
    }
  }
  checkCombinations(raw, input, problems);
  if (problems.length > 0) throw configError(problems);
  return deepFreeze(normalise(raw as RawConfig));
}

function readConfigFile(path: string, problems: ConfigProblem[]): Array<[ConfigKeyName, string]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    problems.push({ key: 'CONFIG_FILE', value: path, message: `cannot be read as JSON: ${reason}`, allowed: 'a JSON object file' });
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push({ key: 'CONFIG_FILE', value: path, message: 'must hold a JSON object', allowed: '{"KEY": value, …}' });
    return [];
  }
  const out: Array<[ConfigKeyName, string]> = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (!isKeyName(name)) {
      const hint = suggest(name);
      problems.push({
        key: name,
        value: undefined,
        message: `is not a known key (in ${path})${hint ? `; did you mean ${hint}?` : ''}`,
        allowed: 'one of the keys in the README configuration table',
      });
      continue;
    }
    if (typeof value === 'string') out.push([name, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') out.push([name, String(value)]);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out.push([name, value.join(',')]);
    else problems.push(problem(name, JSON.stringify(value), `has an unsupported JSON type in ${path}`));
  }
  return out;
}

/** Rules across keys; each runs only when the keys it reads parsed, so one bad key does not hide another. */
function checkCombinations(raw: Partial<RawConfig>, input: Map<ConfigKeyName, string>, problems: ConfigProblem[]): void {
  const add = (name: ConfigKeyName, message: string): void => {
    problems.push(problem(name, input.get(name), message));
  };
  if (raw.KAFKA_SASL_MECHANISM !== undefined) {
    if (raw.KAFKA_SASL_USERNAME === undefined) add('KAFKA_SASL_USERNAME', `is required when KAFKA_SASL_MECHANISM is set`);
    if (raw.KAFKA_SASL_PASSWORD === undefined) add('KAFKA_SASL_PASSWORD', `is required when KAFKA_SASL_MECHANISM is set`);
  } else if (raw.KAFKA_SASL_USERNAME !== undefined || raw.KAFKA_SASL_PASSWORD !== undefined) {
    add('KAFKA_SASL_MECHANISM', 'must be set when a SASL user name or password is given');
  }
  if (raw.KAFKA_SSL_CA_FILE !== undefined && raw.KAFKA_SSL === false) {
    add('KAFKA_SSL_CA_FILE', 'is set but KAFKA_SSL is false');
  }
  if (raw.MLFLOW_TRACKING_URI === undefined) {
    const refs: Array<[ConfigKeyName, string | undefined]> = [
      ['MODEL_REF', raw.MODEL_REF],
      ['AB_SPLIT', raw.AB_SPLIT?.ref],
      ['SHADOW_MODEL', raw.SHADOW_MODEL],
    ];
    for (const [k, v] of refs) if (v !== undefined && isMlflowRef(v)) add(k, 'names an MLflow model (models:/ or runs:/), so MLFLOW_TRACKING_URI must be set');
  }
  if (raw.MLFLOW_TRACKING_TOKEN !== undefined && raw.MLFLOW_TRACKING_USERNAME !== undefined) {
    add('MLFLOW_TRACKING_TOKEN', 'and MLFLOW_TRACKING_USERNAME are both set: authenticate to MLflow with one or the other');
  }
  if (raw.MLFLOW_TRACKING_PASSWORD !== undefined && raw.MLFLOW_TRACKING_USERNAME === undefined) {
    add('MLFLOW_TRACKING_USERNAME', 'is required when MLFLOW_TRACKING_PASSWORD is set');
  }
  const usesRegistry = raw.INPUT_CODEC === 'confluent-avro' || raw.OUTPUT_CODEC === 'confluent-avro';
  if (usesRegistry && raw.SCHEMA_REGISTRY_URL === undefined) {
    add('SCHEMA_REGISTRY_URL', 'is required when INPUT_CODEC or OUTPUT_CODEC is confluent-avro');
  }
  const inputs = raw.INPUT_TOPICS ?? [];
  if (raw.OUTPUT_TOPIC !== undefined && inputs.includes(raw.OUTPUT_TOPIC)) add('OUTPUT_TOPIC', 'must differ from every input topic');
  if (raw.DLQ_TOPIC !== undefined && (inputs.includes(raw.DLQ_TOPIC) || raw.DLQ_TOPIC === raw.OUTPUT_TOPIC)) {
    add('DLQ_TOPIC', 'must differ from the input and output topics');
  }
  const monitorTopics = [raw.OUTPUT_TOPIC, raw.OUTCOMES_TOPIC, raw.EVALUATED_TOPIC, raw.OUTCOMES_DLQ_TOPIC].filter((t) => t !== undefined);
  if (new Set(monitorTopics).size !== monitorTopics.length) {
    add('EVALUATED_TOPIC', 'OUTPUT_TOPIC, OUTCOMES_TOPIC, EVALUATED_TOPIC and OUTCOMES_DLQ_TOPIC must all differ');
  }
}

function normalise(raw: RawConfig): AppConfig {
  const sasl =
    raw.KAFKA_SASL_MECHANISM !== undefined && raw.KAFKA_SASL_USERNAME !== undefined && raw.KAFKA_SASL_PASSWORD !== undefined
      ? { mechanism: raw.KAFKA_SASL_MECHANISM, username: raw.KAFKA_SASL_USERNAME, password: raw.KAFKA_SASL_PASSWORD }
      : undefined;
  return {
    log: { level: raw.LOG_LEVEL, format: raw.LOG_FORMAT },
    kafka: {
      client: raw.KAFKA_CLIENT,
      brokers: raw.KAFKA_BROKERS,
      clientId: raw.KAFKA_CLIENT_ID,
      connectionTimeoutMs: raw.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: raw.KAFKA_REQUEST_TIMEOUT_MS,
      ssl: raw.KAFKA_SSL ? { caFile: raw.KAFKA_SSL_CA_FILE, rejectUnauthorized: raw.KAFKA_SSL_REJECT_UNAUTHORIZED } : false,
      sasl,
    },
    topics: {
      input: raw.INPUT_TOPICS,
      output: raw.OUTPUT_TOPIC,
      deadLetter: raw.DLQ_TOPIC,
      partitions: raw.TOPIC_PARTITIONS,
    },
    consumer: {
      groupId: raw.CONSUMER_GROUP,
      concurrency: raw.CONSUMER_CONCURRENCY,
      fromBeginning: raw.CONSUMER_FROM_BEGINNING,
      sessionTimeoutMs: raw.CONSUMER_SESSION_TIMEOUT_MS,
      commitIntervalMs: raw.CONSUMER_COMMIT_INTERVAL_MS,
      transactionMaxRecords: raw.TRANSACTION_MAX_RECORDS,
    },
    delivery: raw.DELIVERY,
    codec: { input: raw.INPUT_CODEC, output: raw.OUTPUT_CODEC, schemaRegistryUrl: raw.SCHEMA_REGISTRY_URL },
    batch: { maxSize: raw.BATCH_MAX_SIZE, maxDelayMs: raw.BATCH_MAX_DELAY_MS, queueMax: raw.BATCH_QUEUE_MAX },
    staleness: { maxEventAgeMs: raw.MAX_EVENT_AGE_MS, policy: raw.STALE_POLICY },
    model: {
      dir: raw.MODEL_DIR,
      ref: raw.MODEL_REF,
      abSplit: raw.AB_SPLIT,
      shadow: raw.SHADOW_MODEL,
      shadowTopic: raw.SHADOW_TOPIC,
      shadowDecisionThreshold: raw.SHADOW_DECISION_THRESHOLD,
      pollIntervalMs: raw.MODEL_POLL_INTERVAL_MS,
      inferenceThread: raw.INFERENCE_THREAD,
    },
    mlflow:
      raw.MLFLOW_TRACKING_URI === undefined
        ? undefined
        : {
            trackingUri: raw.MLFLOW_TRACKING_URI,
            token: raw.MLFLOW_TRACKING_TOKEN,
            username: raw.MLFLOW_TRACKING_USERNAME,
            password: raw.MLFLOW_TRACKING_PASSWORD,
            timeoutMs: raw.MLFLOW_TIMEOUT_MS,
            cacheDir: raw.MLFLOW_CACHE_DIR,
            experiment: raw.MLFLOW_EXPERIMENT_NAME,
          },
    adminToken: raw.ADMIN_TOKEN,
    http: {
      host: raw.HTTP_HOST,
      port: raw.HTTP_PORT,
      bodyLimitBytes: raw.HTTP_BODY_LIMIT_BYTES,
      jsonMaxDepth: raw.HTTP_JSON_MAX_DEPTH,
      batchMaxItems: raw.PREDICT_BATCH_MAX_ITEMS,
      corsOrigins: raw.HTTP_CORS_ORIGINS,
    },
    monitor: {
      outcomesTopic: raw.OUTCOMES_TOPIC,
      evaluatedTopic: raw.EVALUATED_TOPIC,
      deadLetterTopic: raw.OUTCOMES_DLQ_TOPIC,
      groupId: raw.MONITOR_GROUP,
      storePath: raw.MONITOR_STORE_PATH,
      outcomeWindowMs: raw.OUTCOME_WINDOW_MS,
      outcomeWaitMs: raw.OUTCOME_WAIT_MS,
      maxWaiting: raw.MONITOR_MAX_WAITING,
      windowCount: raw.MONITOR_WINDOW_COUNT,
      windowMs: raw.MONITOR_WINDOW_MS,
    },
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
  };
}

function problem(name: ConfigKeyName, value: string | undefined, message: string): ConfigProblem {
  const def: ConfigKey = configKeys[name];
  return { key: name, value: def.secret === true && value !== undefined ? '[redacted]' : value, message, allowed: def.allowed };
}

function configError(problems: readonly ConfigProblem[]): ScorerError {
  const lines = problems.map(
    (p) => `  - ${p.key}${p.value === undefined ? '' : `=${JSON.stringify(p.value)}`}: ${p.message} (allowed: ${p.allowed})`,
  );
  return new ScorerError('CONFIG_INVALID', `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    details: { problems },
  });
}

function isKeyName(name: string): name is ConfigKeyName {
  return Object.hasOwn(configKeys, name);
}

function suggest(name: string): string | undefined {
  const upper = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return KEY_NAMES.find((k) => k === upper) ?? KEY_NAMES.find((k) => k.includes(upper) || upper.includes(k));
}

/** Fields of the typed config that hold secrets (their keys are marked `secret`). */
const SECRET_FIELDS = new Set(['password', 'adminToken', 'token']);

/** Secrets replaced, for printing. */
export function redactedConfig(config: AppConfig): unknown {
  return JSON.parse(
    JSON.stringify(config, (k, v: unknown) => {
      if (typeof v !== 'string') return v;
      if (SECRET_FIELDS.has(k)) return '[redacted]';
      // A URL may carry credentials of its own (http://user:secret@host).
      return k === 'trackingUri' ? v.replace(/\/\/[^/@]*@/, '//[redacted]@') : v;
    }),
  ) as unknown;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
