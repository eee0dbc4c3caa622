import { readFileSync } from 'node:fs';
// Before kafkajs: replaces its aborted-transaction filter (see aborted.ts).
import './aborted.js';
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';

/**
 * kafkajs warnings about what this project chose on purpose, said where it chose it: a bounded producer's retries
 * (KafkaJsPort.producer). Every start would warn of them, and nobody can act on it; they log at info, once. kafkajs
 * gives its log lines no code, so its text is the only handle.
 */
const CHOSEN_WARNINGS = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

/** Builds the kafkajs client from the typed config; kafkajs's own log lines go to pino under component "kafkajs". */
export function createKafka(config: KafkaConfig, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const seen = new Set<string>();
  const infoOnce = (kind: string, fields: Record<string, unknown>, message: string): void => {
    if (seen.has(kind)) {
      log.debug(fields, message);
      return;
    }
    if (seen.size < 1_000) seen.add(kind);
    log.info(fields, message);
  };
  const options: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: toKafkaJsLevel(logger.level),
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      // A detached plain copy: kafkajs passes live internal objects (request buffers among them), and pino's
      // redaction walks and temporarily rewrites what it logs, which broke SCRAM authentication at debug level.
      const fields = { namespace: entry.namespace, ...detach(rest) };
      switch (entry.level) {
        case KafkaLogLevel.ERROR:
          // kafkajs logs at error level what its callers still handle: a broker's error response (namespace
          // Connection) and a request it is about to retry (retryCount). Both reach this service as a thrown error
          // or a crash event, which it logs itself; here they are transient protocol conditions (a coordinator
          // loading, a transaction still settling), so each kind is an info line once, then debug.
          if (entry.namespace === 'Connection' || 'retryCount' in rest) infoOnce(`${entry.namespace}:${message}`, fields, message);
          else log.error(fields, message);
          break;
        case KafkaLogLevel.WARN:
          if (CHOSEN_WARNINGS.has(message)) infoOnce(message, fields, message);
          else log.warn(fields, message);
          break;
        case KafkaLogLevel.INFO:
          log.info(fields, message);
          break;
        default:
          log.debug(fields, message);
      }
    },
  };
  if (config.ssl !== false) {
    options.ssl = {
      rejectUnauthorized: config.ssl.rejectUnauthorized,
      ...(config.ssl.caFile === undefined ? {} : { ca: [readFileSync(config.ssl.caFile, 'utf8')] }),
    };
  }
  if (config.sasl !== undefined) options.sasl = toSasl(config.sasl);
  return new Kafka(options);
}

function detach(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(fields, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  } catch {
    // Circular or otherwise unserialisable: keep the primitive fields only.
    return Object.fromEntries(Object.entries(fields).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v)));
  }
}

function toSasl(sasl: NonNullable<KafkaConfig['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function toKafkaJsLevel(level: string): KafkaLogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return KafkaLogLevel.DEBUG;
    case 'info':
      return KafkaLogLevel.INFO;
    case 'warn':
      return KafkaLogLevel.WARN;
    case 'silent':
      return KafkaLogLevel.NOTHING;
    default:
      return KafkaLogLevel.ERROR;
  }
}
