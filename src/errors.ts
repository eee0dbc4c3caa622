/**
 * The closed list of error codes. Callers decide what to do from `code` and `retriable`, never from message text.
 * Every code is documented in docs/errors.md (a test keeps the two in step).
 */
export const errorCodes = {
  CONFIG_INVALID: { retriable: false },
  KAFKA_UNAVAILABLE: { retriable: true },
  KAFKA_TOPIC_MISSING: { retriable: false },
  KAFKA_ADMIN_FAILED: { retriable: true },
  DECODE_FAILED: { retriable: false },
  SCHEMA_UNKNOWN: { retriable: false },
  SCHEMA_INCOMPATIBLE: { retriable: false },
  SCHEMA_REGISTRY_UNAVAILABLE: { retriable: true },
  ENCODE_FAILED: { retriable: false },
  MODEL_LOAD_FAILED: { retriable: false },
  MODEL_FEATURE_MISMATCH: { retriable: false },
  MODEL_SELF_CHECK_FAILED: { retriable: false },
  MLFLOW_UNAVAILABLE: { retriable: true },
  MLFLOW_REQUEST_FAILED: { retriable: false },
  INFERENCE_FAILED: { retriable: false },
  OVERLOADED: { retriable: true },
  SHUTTING_DOWN: { retriable: true },
  STALE_EVENT: { retriable: false },
  VALIDATION_FAILED: { retriable: false },
  PUBLISH_FAILED: { retriable: true },
  CHECKPOINT_INVALID: { retriable: false },
  INTERNAL: { retriable: false },
} as const satisfies Record<string, { readonly retriable: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

export interface ScorerErrorOptions {
  readonly cause?: unknown;
  /** Overrides the code's default when a specific occurrence is (or is not) worth retrying. */
  readonly retriable?: boolean;
  /** Structured, loggable context (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class ScorerError extends Error {
  override readonly name = 'ScorerError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: ScorerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? errorCodes[code].retriable;
    this.details = options.details ?? {};
  }
}

/** The first ScorerError in the `cause` chain (the error itself included), if any. */
export function findScorerError(err: unknown, code?: ErrorCode): ScorerError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof ScorerError && (code === undefined || current.code === code)) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

/** Whether retrying could help: decided by the outermost ScorerError in the chain; unknown errors are not retriable. */
export function isRetriable(err: unknown): boolean {
  return findScorerError(err)?.retriable ?? false;
}

export function hasCode(err: unknown, code: ErrorCode): boolean {
  return findScorerError(err, code) !== undefined;
}
