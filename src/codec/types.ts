import type { ScorerError } from '../errors.js';
import type avro from 'avsc';
import { type ScoredOpportunity, opportunityType } from '../contract/index.js';

export type WireFormat = 'json' | 'avro' | 'confluent-avro';

/** A decoded record (not yet validated), or why the bytes could not be decoded. */
export type DecodeOutcome =
  | { readonly ok: true; readonly record: unknown; readonly format: WireFormat }
  | { readonly ok: false; readonly error: ScorerError; readonly format: WireFormat | undefined };

export interface EncodedInput {
  readonly value: Buffer | null;
  /** The record's `content-type` header, if any (used by the auto decoder). */
  readonly contentType?: string | undefined;
}

/**
 * Turns event bytes into records. Bad bytes give a failed outcome (data, never an exception); only a failure that
 * is worth retrying for the whole batch (the schema registry is down) rejects the promise.
 */
export interface RecordDecoder {
  decode(inputs: readonly EncodedInput[]): Promise<DecodeOutcome[]>;
}

export interface RecordEncoder {
  readonly format: WireFormat;
  /** Value for the output record's content-type header. */
  readonly contentType: string;
  encode(record: ScoredOpportunity): Buffer;
}

/** The schema events are read as (writer schemas are resolved into it): opportunities by default. */
export interface AvroReader {
  readonly type: avro.Type;
  /** For messages: the schema's file under schemas/. */
  readonly schemaFile: string;
}

export const OPPORTUNITY_READER: AvroReader = { type: opportunityType, schemaFile: 'opportunity.avsc' };
