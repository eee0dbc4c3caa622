import { ScorerError } from '../errors.js';
import { AVRO_CONTENT_TYPE, avroEncoder, decodeAvroBody } from './avro.js';
import { CONFLUENT_CONTENT_TYPE, ConfluentAvroDecoder, confluentAvroEncoder } from './confluent.js';
import { JSON_CONTENT_TYPE, decodeJson, jsonEncoder } from './json.js';
import type { SchemaRegistryClient } from './registry.js';
import { type AvroReader, type DecodeOutcome, type EncodedInput, OPPORTUNITY_READER, type RecordDecoder, type RecordEncoder, type WireFormat } from './types.js';

export type InputCodec = 'auto' | WireFormat;

const OPEN_BRACE = 0x7b;

/**
 * The `auto` rule, per message:
 *  1. a `content-type` header naming one of our formats decides;
 *  2. otherwise a value whose first non-whitespace byte is `{` is JSON;
 *  3. otherwise a first byte 0x00 is the Confluent frame;
 *  4. anything else is raw Avro.
 * Rules 2–4 cannot confuse valid events: raw Avro of opportunity.avsc starts with the length of the non-empty
 * `symbol` (a zig-zag varint ≥ 2, never 0x00) followed by the symbol, which validation requires to start with a
 * letter or digit, so the bytes never read as whitespace-then-`{`. Invalid events may be misrouted, but they
 * fail to decode or validate either way.
 */
export function detectFormat(value: Buffer, contentType: string | undefined): WireFormat {
  if (contentType !== undefined) {
    const type = contentType.split(';')[0]?.trim().toLowerCase();
    if (type === JSON_CONTENT_TYPE) return 'json';
    if (type === CONFLUENT_CONTENT_TYPE) return 'confluent-avro';
    if (type === AVRO_CONTENT_TYPE) return 'avro';
  }
  for (const byte of value) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    if (byte === OPEN_BRACE) return 'json';
    break;
  }
  return value[0] === 0 ? 'confluent-avro' : 'avro';
}

/** A decoder for `codec`; `reader` is the schema Avro bodies are read as (opportunity.avsc unless told). */
export function createDecoder(codec: InputCodec, registry: SchemaRegistryClient | undefined, reader: AvroReader = OPPORTUNITY_READER): RecordDecoder {
  const confluent = new ConfluentAvroDecoder(registry, Date.now, reader);
  const formatOf = (input: EncodedInput & { value: Buffer }): WireFormat =>
    codec === 'auto' ? detectFormat(input.value, input.contentType) : codec;
  return {
    async decode(inputs) {
      const formats = inputs.map((i) => (i.value === null || i.value.length === 0 ? undefined : formatOf(i as EncodedInput & { value: Buffer })));
      const framed: Buffer[] = [];
      formats.forEach((f, i) => {
        const value = inputs[i]?.value;
        if (f === 'confluent-avro' && value) framed.push(value);
      });
      if (framed.length > 0) await confluent.prepare(framed);
      return inputs.map((input, i): DecodeOutcome => {
        const format = formats[i];
        if (input.value === null || input.value.length === 0 || format === undefined) {
          return { ok: false, format: undefined, error: new ScorerError('DECODE_FAILED', 'empty value') };
        }
        switch (format) {
          case 'json':
            return decodeJson(input.value);
          case 'avro':
            return decodeAvroBody(input.value, 'avro', undefined, reader.type);
          case 'confluent-avro':
            return confluent.decode(input.value);
        }
      });
    },
  };
}

export async function createEncoder(
  codec: WireFormat,
  options: { readonly registry?: SchemaRegistryClient | undefined; readonly subject: string },
): Promise<RecordEncoder> {
  switch (codec) {
    case 'json':
      return jsonEncoder;
    case 'avro':
      return avroEncoder;
    case 'confluent-avro':
      if (options.registry === undefined) throw new ScorerError('CONFIG_INVALID', 'the confluent-avro output codec needs SCHEMA_REGISTRY_URL');
      return confluentAvroEncoder(options.registry, options.subject);
  }
}
