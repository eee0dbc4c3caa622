import { ScorerError } from '../errors.js';
import { type ScoredOpportunity, scoredToJson } from '../contract/index.js';
import type { DecodeOutcome, RecordEncoder } from './types.js';

export const JSON_CONTENT_TYPE = 'application/json';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 JSON object → record. Arrays, scalars, invalid UTF-8 and malformed JSON are decode failures. */
export function decodeJson(value: Buffer): DecodeOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(value));
  } catch (cause) {
    // RangeError from pathologically deep nesting lands here too.
    const what = cause instanceof TypeError ? 'invalid UTF-8' : 'malformed JSON';
    return fail(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(`a JSON event must be an object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return { ok: true, record: parsed, format: 'json' };
}

function fail(message: string, cause?: unknown): DecodeOutcome {
  return { ok: false, format: 'json', error: new ScorerError('DECODE_FAILED', message, { cause }) };
}

export const jsonEncoder: RecordEncoder = {
  format: 'json',
  contentType: JSON_CONTENT_TYPE,
  encode: (record: ScoredOpportunity) => Buffer.from(JSON.stringify(scoredToJson(record)), 'utf8'),
};
