import type avro from 'avsc';
import { ScorerError } from '../errors.js';
import { type ScoredOpportunity, opportunityType, scoredOpportunityType } from '../contract/index.js';
import type { DecodeOutcome, RecordEncoder, WireFormat } from './types.js';

export const AVRO_CONTENT_TYPE = 'application/vnd.opportunity-scorer.avro';

/**
 * Avro binary body → record, read with our schema (through a resolver when the writer schema differs).
 * Truncated bodies and trailing bytes are decode failures.
 */
export function decodeAvroBody(
  body: Buffer,
  format: WireFormat,
  resolver?: avro.Resolver,
  reader: avro.Type = opportunityType,
): DecodeOutcome {
  try {
    const record: unknown = resolver === undefined ? reader.fromBuffer(body) : reader.fromBuffer(body, resolver);
    return { ok: true, record, format };
  } catch (cause) {
    return {
      ok: false,
      format,
      error: new ScorerError('DECODE_FAILED', `malformed Avro: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
    };
  }
}

export function encodeAvro(record: ScoredOpportunity): Buffer {
  try {
    return scoredOpportunityType.toBuffer(record);
  } catch (cause) {
    throw new ScorerError('ENCODE_FAILED', `result does not fit scored-opportunity.avsc: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

export const avroEncoder: RecordEncoder = {
  format: 'avro',
  contentType: AVRO_CONTENT_TYPE,
  encode: encodeAvro,
};
