import { type Problem, Checker, describe } from './validate.js';

/** How a scored opportunity's trade ended (schemas/outcome.avsc); times are epoch milliseconds. */
export interface Outcome {
  readonly id: string;
  readonly closedAt: number;
  readonly realisedProfitPercent: number;
  /** Null only from the seed-003 route: the monitor then takes closedAt − the prediction's detectedAt. */
  readonly holdHours: number | null;
  /** Whether the trade succeeded: the event's own flag, else realisedProfitPercent > 0. */
  readonly success: boolean;
  readonly modelVersion: string | null;
}

export type OutcomeValidation = { readonly ok: true; readonly value: Outcome } | { readonly ok: false; readonly problems: readonly Problem[] };

const MAX_ID_LENGTH = 256;
const MAX_HOLD_HOURS = 24 * 365;
/** A realised profit of ±1000 % of notional on a funding carry trade is a unit error, not a trade. */
const MAX_ABS_PROFIT_PERCENT = 1000;

/**
 * Validates a decoded outcome (JSON object or Avro record), listing every problem found. `holdHours` may be null
 * only when `allowUnknownHold` (the seed-003 route, whose shape has no hold); unknown extra fields are ignored.
 */
export function validateOutcome(input: unknown, options: { readonly allowUnknownHold?: boolean } = {}): OutcomeValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ path: [], code: 'wrong_type', message: `an outcome must be a JSON object, got ${input === null ? 'null' : describe(input)}` }] };
  }
  const c = new Checker(input as Record<string, unknown>);
  const id = c.requiredString('id', MAX_ID_LENGTH);
  const closedAt = c.timestamp('closedAt');
  const realisedProfitPercent = c.requiredNumber('realisedProfitPercent');
  const holdHours = options.allowUnknownHold === true ? c.optionalNumber('holdHours') : c.requiredNumber('holdHours');
  const success = c.optionalBoolean('success');
  const modelVersion = c.optionalString('modelVersion', 64);
  c.range('realisedProfitPercent', realisedProfitPercent, (v) => Math.abs(v) <= MAX_ABS_PROFIT_PERCENT, `must be within ±${MAX_ABS_PROFIT_PERCENT} (percent of notional)`);
  c.range('holdHours', holdHours, (v) => v >= 0 && v <= MAX_HOLD_HOURS, `must be between 0 and ${MAX_HOLD_HOURS} hours`);
  if (c.problems.length > 0) return { ok: false, problems: c.problems };
  return { ok: true, value: { id, closedAt, realisedProfitPercent, holdHours, success: success ?? realisedProfitPercent > 0, modelVersion } };
}

/** The JSON form: the Avro field names, closedAt as an ISO-8601 string. */
export function outcomeToJson(o: Outcome): Record<string, unknown> {
  return { ...o, closedAt: new Date(o.closedAt).toISOString() };
}
