import fastJson from 'fast-json-stringify';
import { ScorerError } from '../errors.js';
import type { ScoredOpportunity } from '../contract/index.js';
import type { DecodeOutcome, RecordEncoder } from './types.js';

export const JSON_CONTENT_TYPE = 'application/json';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 JSON object → record. Arrays, scalars, invalid UTF-8 and malformed JSON are decode failures. */
export function decodeJson(value: Buffer): DecodeOutcome {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch (cause) {
    return fail(`invalid UTF-8: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  return decodeJsonText(text);
}

/**
 * JSON text already decoded (a line a file reader decoded) → record: what decodeJson does after its UTF-8 check, so
 * a line is not encoded again only to be decoded.
 */
export function decodeJsonText(text: string): DecodeOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    // RangeError from pathologically deep nesting lands here too.
    return fail(`malformed JSON: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(`a JSON event must be an object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return { ok: true, record: parsed, format: 'json' };
}

function fail(message: string, cause?: unknown): DecodeOutcome {
  return { ok: false, format: 'json', error: new ScorerError('DECODE_FAILED', message, { cause }) };
}

const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
/**
 * The scored record's JSON form, compiled from its schema: timestamps as ISO-8601 strings (fast-json-stringify
 * formats numbers given to a date-time string field through Date). Several times faster than spreading and
 * JSON.stringify, which cost 5.8 % of the worker's main thread in the end-to-end profile.
 */
const stringifyScored = fastJson({
  type: 'object',
  properties: {
    id: str,
    symbol: str,
    longExchange: str,
    shortExchange: str,
    detectedAt: { type: 'string', format: 'date-time' },
    predictedProfitPercent: num,
    successProbability: num,
    predictedDurationHours: num,
    compositeScore: num,
    rankScore: num,
    take: { type: 'boolean' },
    fundingDifferential: num,
    modelBundle: str,
    modelVersion: str,
    scoredAt: { type: 'string', format: 'date-time' },
    source: {
      type: 'object',
      nullable: true,
      properties: { topic: str, partition: { type: 'integer' }, offset: { type: 'integer' } },
    },
  },
});

export function scoredJson(record: ScoredOpportunity): string {
  return stringifyScored({ ...record, detectedAt: new Date(record.detectedAt), scoredAt: new Date(record.scoredAt) });
}

export const jsonEncoder: RecordEncoder = {
  format: 'json',
  contentType: JSON_CONTENT_TYPE,
  encode: (record: ScoredOpportunity) => Buffer.from(scoredJson(record), 'utf8'),
};
