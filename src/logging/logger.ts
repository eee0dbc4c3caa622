import { pino, type Logger, type DestinationStream } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogLevel } from '../config/index.js';

export type { Logger } from 'pino';

/**
 * Paths pino censors before a line is written. Secrets can reach a log line through config objects, Kafka client
 * options and HTTP headers, at whatever depth a caller nests them, so the common shapes are listed explicitly
 * (pino's redaction has no recursive wildcard).
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'sasl.password',
  'token',
  '*.token',
  '*.*.token',
  'adminToken',
  '*.adminToken',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable output (for terminals); JSON lines otherwise. */
  readonly pretty: boolean;
  /** Where lines go; defaults to stdout. Tests pass a stream to read lines back. */
  readonly destination?: DestinationStream;
  readonly base?: Readonly<Record<string, unknown>>;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ??
    (options.pretty ? PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : pino.destination(1));
  return pino(
    {
      level: options.level,
      base: { service: 'opportunity-scorer', ...options.base },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    destination,
  );
}

/** A child logger that names the component on every line (`component` field). */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
