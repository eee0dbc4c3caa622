import type avro from 'avsc';
import { ScorerError, findScorerError } from '../errors.js';
import { type ScoredOpportunity, scoredOpportunitySchema, scoredOpportunityType } from '../contract/index.js';
import { decodeAvroBody } from './avro.js';
import type { SchemaRegistryClient } from './registry.js';
import { type AvroReader, type DecodeOutcome, OPPORTUNITY_READER, type RecordEncoder } from './types.js';

export const CONFLUENT_CONTENT_TYPE = 'application/vnd.confluent.avro';
const MAGIC = 0;
const HEADER_BYTES = 5;
/** How long "this id does not exist" is remembered, so a flood of one bad id does not flood the registry. */
const NEGATIVE_CACHE_MS = 30_000;

type Resolution = { readonly ok: true; readonly resolver: avro.Resolver } | { readonly ok: false; readonly error: ScorerError; readonly until: number };

/**
 * Confluent wire format (magic byte 0, schema id as int32 big-endian, Avro body). Writer schemas are fetched once
 * per id and resolved into our reader schema (schema evolution); ids unknown to the registry or incompatible with
 * ours make per-event failures.
 */
export class ConfluentAvroDecoder {
  readonly #registry: SchemaRegistryClient | undefined;
  readonly #resolutions = new Map<number, Resolution>();
  readonly #now: () => number;
  readonly #reader: AvroReader;

  constructor(registry: SchemaRegistryClient | undefined, now: () => number = Date.now, reader: AvroReader = OPPORTUNITY_READER) {
    this.#registry = registry;
    this.#now = now;
    this.#reader = reader;
  }

  /** Looks up every schema id in `values` not seen yet. Rejects only when the registry is unavailable. */
  async prepare(values: readonly Buffer[]): Promise<void> {
    const now = this.#now();
    const wanted = new Set<number>();
    for (const v of values) {
      if (v.length >= HEADER_BYTES && v[0] === MAGIC) {
        const id = v.readInt32BE(1);
        const known = this.#resolutions.get(id);
        if (known === undefined || (!known.ok && known.until <= now)) wanted.add(id);
      }
    }
    await Promise.all([...wanted].map(async (id) => this.#resolve(id, now)));
  }

  async #resolve(id: number, now: number): Promise<void> {
    if (this.#registry === undefined) {
      const error = new ScorerError('SCHEMA_UNKNOWN', `Confluent-framed event (schema id ${id}) but no SCHEMA_REGISTRY_URL is configured`);
      this.#resolutions.set(id, { ok: false, error, until: Number.POSITIVE_INFINITY });
      return;
    }
    try {
      const writer = await this.#registry.avroSchemaById(id);
      try {
        this.#resolutions.set(id, { ok: true, resolver: this.#reader.type.createResolver(writer) });
      } catch (cause) {
        const error = new ScorerError('SCHEMA_INCOMPATIBLE', `writer schema id ${id} cannot be read as ${this.#reader.schemaFile}: ${(cause as Error).message}`, { cause });
        this.#resolutions.set(id, { ok: false, error, until: Number.POSITIVE_INFINITY });
      }
    } catch (err) {
      const scorerError = findScorerError(err);
      if (scorerError === undefined || scorerError.retriable) throw err;
      // Ids are immutable once assigned, so incompatibility is final; "not found" may change, hence the expiry.
      const until = scorerError.code === 'SCHEMA_UNKNOWN' ? now + NEGATIVE_CACHE_MS : Number.POSITIVE_INFINITY;
      this.#resolutions.set(id, { ok: false, error: scorerError, until });
    }
  }

  /** Decodes one framed value; `prepare` must have seen it. */
  decode(value: Buffer): DecodeOutcome {
    if (value.length < HEADER_BYTES || value[0] !== MAGIC) {
      const error = new ScorerError('DECODE_FAILED', value.length < HEADER_BYTES ? 'Confluent frame shorter than 5 bytes' : `wrong magic byte ${value[0]}`);
      return { ok: false, format: 'confluent-avro', error };
    }
    const id = value.readInt32BE(1);
    const resolution = this.#resolutions.get(id);
    if (resolution === undefined) {
      return { ok: false, format: 'confluent-avro', error: new ScorerError('INTERNAL', `schema id ${id} was not prepared before decoding`) };
    }
    if (!resolution.ok) return { ok: false, format: 'confluent-avro', error: resolution.error };
    return decodeAvroBody(value.subarray(HEADER_BYTES), 'confluent-avro', resolution.resolver, this.#reader.type);
  }
}

/** Frames scored results with the id our output schema has in the registry (registered at start-up). */
export async function confluentAvroEncoder(registry: SchemaRegistryClient, subject: string): Promise<RecordEncoder> {
  const id = await registry.registerAvro(subject, scoredOpportunitySchema);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC, 0);
  header.writeInt32BE(id, 1);
  return {
    format: 'confluent-avro',
    contentType: CONFLUENT_CONTENT_TYPE,
    encode(record: ScoredOpportunity): Buffer {
      let body: Buffer;
      try {
        body = scoredOpportunityType.toBuffer(record);
      } catch (cause) {
        throw new ScorerError('ENCODE_FAILED', `result does not fit scored-opportunity.avsc: ${(cause as Error).message}`, { cause });
      }
      return Buffer.concat([header, body], HEADER_BYTES + body.length);
    },
  };
}

/** Frames an Avro body for a given schema id (used by producers, tests and the demo). */
export function frameConfluent(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}
