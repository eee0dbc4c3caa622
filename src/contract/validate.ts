import type { Opportunity } from './opportunity.js';

export type ProblemCode = 'missing' | 'wrong_type' | 'not_finite' | 'out_of_range' | 'invalid_timestamp' | 'too_long';

/** One thing wrong with an input event. `path` names the field (HTTP prefixes the item index for batches). */
export interface Problem {
  readonly path: ReadonlyArray<string | number>;
  readonly code: ProblemCode;
  readonly message: string;
}

export type ValidationResult = { readonly ok: true; readonly value: Opportunity } | { readonly ok: false; readonly problems: readonly Problem[] };

const HOUR_MS = 3_600_000;
/** Timestamps outside this window are certainly wrong (unit mistakes, year 9999): 2015-01-01 … 2100-01-01 UTC. */
const MIN_TIME_MS = Date.UTC(2015, 0, 1);
const MAX_TIME_MS = Date.UTC(2100, 0, 1);
const MAX_NAME_LENGTH = 64;
/**
 * Tickers and venue names: a letter or digit, then letters, digits and . _ - : / (venues also spaces). Besides
 * catching garbage, this keeps raw Avro of a valid event from ever starting like JSON (see codec/decoder.ts).
 */
const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const VENUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;
const MAX_ID_LENGTH = 256;
/** A funding rate of 100 % per interval is far past any venue's cap: such a value is a unit error. */
const MAX_ABS_RATE = 1;

type Input = Record<string, unknown>;

/** Collects every problem of one input object; shared by the opportunity and outcome validators. */
export class Checker {
  readonly problems: Problem[] = [];

  constructor(private readonly input: Input) {}

  private add(field: string, code: ProblemCode, message: string): void {
    this.problems.push({ path: [field], code, message });
  }

  // Required getters return a sentinel ('' or NaN) after recording a problem; the result is only built when
  // there are no problems, so a sentinel never escapes.
  requiredString(field: string, maxLength: number): string {
    return this.string(field, maxLength, true) ?? '';
  }

  optionalString(field: string, maxLength: number): string | null {
    return this.string(field, maxLength, false);
  }

  requiredNumber(field: string): number {
    return this.number(field, true) ?? Number.NaN;
  }

  optionalNumber(field: string): number | null {
    return this.number(field, false);
  }

  optionalBoolean(field: string): boolean | null {
    const v = this.input[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'boolean') {
      this.add(field, 'wrong_type', `must be true or false, got ${describe(v)}`);
      return null;
    }
    return v;
  }

  private string(field: string, maxLength: number, required: boolean): string | null {
    const v = this.input[field];
    if (v === undefined || v === null) {
      if (required) this.add(field, 'missing', 'field required');
      return null;
    }
    if (typeof v !== 'string') {
      this.add(field, 'wrong_type', `must be a string, got ${describe(v)}`);
      return null;
    }
    if (required && v.trim() === '') {
      this.add(field, 'missing', 'must not be empty');
      return null;
    }
    if (v.length > maxLength) {
      this.add(field, 'too_long', `must be at most ${maxLength} characters, got ${v.length}`);
      return null;
    }
    return v;
  }

  private number(field: string, required: boolean): number | null {
    const v = this.input[field];
    if (v === undefined || v === null) {
      if (required) this.add(field, 'missing', 'field required');
      return null;
    }
    if (typeof v !== 'number') {
      this.add(field, 'wrong_type', `must be a number, got ${describe(v)}`);
      return null;
    }
    if (!Number.isFinite(v)) {
      this.add(field, 'not_finite', `must be a finite number, got ${String(v)}`);
      return null;
    }
    return v;
  }

  /** Epoch milliseconds (integer) or an ISO-8601 string with a date and time. */
  timestamp(field: string): number {
    const v = this.input[field];
    let ms: number;
    if (v === undefined || v === null) {
      this.add(field, 'missing', 'field required');
      return Number.NaN;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v) || !Number.isInteger(v)) {
        this.add(field, 'invalid_timestamp', `epoch milliseconds must be a whole number, got ${String(v)}`);
        return Number.NaN;
      }
      ms = v;
    } else if (typeof v === 'string') {
      ms = ISO_8601.test(v) ? Date.parse(v) : Number.NaN;
      if (Number.isNaN(ms)) {
        this.add(field, 'invalid_timestamp', `must be an ISO-8601 date-time or epoch milliseconds, got ${JSON.stringify(v.slice(0, 40))}`);
        return Number.NaN;
      }
    } else {
      this.add(field, 'wrong_type', `must be an ISO-8601 string or epoch milliseconds, got ${describe(v)}`);
      return Number.NaN;
    }
    if (ms < MIN_TIME_MS || ms >= MAX_TIME_MS) {
      this.add(field, 'out_of_range', `must be between 2015-01-01 and 2100-01-01, got ${formatTime(ms)}`);
      return Number.NaN;
    }
    return ms;
  }

  pattern(field: string, value: string, re: RegExp, message: string): void {
    if (value !== '' && !re.test(value)) this.add(field, 'out_of_range', message);
  }

  range(field: string, value: number | null, ok: (v: number) => boolean, message: string): void {
    if (value !== null && !Number.isNaN(value) && !ok(value)) this.add(field, 'out_of_range', message);
  }
}

// Date and time required; seconds, fraction and zone optional (a missing zone means UTC, as Date.parse reads it).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

function formatTime(ms: number): string {
  // Date covers ±8.64e15 ms; beyond that toISOString throws.
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

export function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  return typeof v;
}

/**
 * Validates a decoded event (JSON object or Avro record) into an Opportunity, or lists every problem found.
 * Never throws on data; unknown extra fields are ignored.
 */
export function validateOpportunity(input: unknown): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ path: [], code: 'wrong_type', message: `an opportunity must be a JSON object, got ${input === null ? 'null' : describe(input)}` }] };
  }
  const c = new Checker(input as Input);
  const id = c.optionalString('id', MAX_ID_LENGTH);
  const symbol = c.requiredString('symbol', MAX_NAME_LENGTH);
  const longExchange = c.requiredString('longExchange', MAX_NAME_LENGTH);
  const shortExchange = c.requiredString('shortExchange', MAX_NAME_LENGTH);
  const longFundingRate = c.requiredNumber('longFundingRate');
  const shortFundingRate = c.requiredNumber('shortFundingRate');
  const longFundingIntervalHours = c.requiredNumber('longFundingIntervalHours');
  const shortFundingIntervalHours = c.requiredNumber('shortFundingIntervalHours');
  const longNextFundingTime = c.timestamp('longNextFundingTime');
  const shortNextFundingTime = c.timestamp('shortNextFundingTime');
  const detectedAt = c.timestamp('detectedAt');
  const fundProfit8h = c.requiredNumber('fundProfit8h');
  const fundApr = c.requiredNumber('fundApr');
  const volume24h = c.optionalNumber('volume24h');
  const currentPriceSpreadPercent = c.optionalNumber('currentPriceSpreadPercent');
  const fundProfit8h24hProj = c.optionalNumber('fundProfit8h24hProj');
  const fundApr24hProj = c.optionalNumber('fundApr24hProj');
  const priceSpread24hAvg = c.optionalNumber('priceSpread24hAvg');
  const priceSpread3dAvg = c.optionalNumber('priceSpread3dAvg');

  c.pattern('symbol', symbol, SYMBOL_PATTERN, 'must be a ticker: letters, digits and . _ - : /');
  c.pattern('longExchange', longExchange, VENUE_PATTERN, 'must be a venue name: letters, digits, spaces and . _ -');
  c.pattern('shortExchange', shortExchange, VENUE_PATTERN, 'must be a venue name: letters, digits, spaces and . _ -');
  const rateOk = (v: number): boolean => Math.abs(v) <= MAX_ABS_RATE;
  c.range('longFundingRate', longFundingRate, rateOk, 'must be a decimal fraction per interval between -1 and 1');
  c.range('shortFundingRate', shortFundingRate, rateOk, 'must be a decimal fraction per interval between -1 and 1');
  const intervalOk = (v: number): boolean => v > 0 && v <= 24;
  c.range('longFundingIntervalHours', longFundingIntervalHours, intervalOk, 'must be in (0, 24] hours');
  c.range('shortFundingIntervalHours', shortFundingIntervalHours, intervalOk, 'must be in (0, 24] hours');
  c.range('volume24h', volume24h, (v) => v >= 0, 'must not be negative');
  if (longExchange !== '' && shortExchange !== '' && longExchange.toLowerCase() === shortExchange.toLowerCase()) {
    c.problems.push({ path: ['shortExchange'], code: 'out_of_range', message: 'must differ from longExchange' });
  }
  // A next funding time more than one interval in the past means the detector's state was stale.
  const nextOk = (interval: number) => (t: number) =>
    Number.isNaN(detectedAt) || !intervalOk(interval) || t >= detectedAt - interval * HOUR_MS;
  c.range('longNextFundingTime', longNextFundingTime, nextOk(longFundingIntervalHours), 'must not be more than one funding interval before detectedAt');
  c.range('shortNextFundingTime', shortNextFundingTime, nextOk(shortFundingIntervalHours), 'must not be more than one funding interval before detectedAt');

  if (c.problems.length > 0) return { ok: false, problems: c.problems };
  return {
    ok: true,
    value: {
      id,
      symbol,
      longExchange,
      shortExchange,
      longFundingRate,
      shortFundingRate,
      longFundingIntervalHours,
      shortFundingIntervalHours,
      longNextFundingTime,
      shortNextFundingTime,
      detectedAt,
      fundProfit8h,
      fundApr,
      volume24h,
      currentPriceSpreadPercent,
      fundProfit8h24hProj,
      fundApr24hProj,
      priceSpread24hAvg,
      priceSpread3dAvg,
    },
  };
}
