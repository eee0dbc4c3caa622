export { type AvroReader, type DecodeOutcome, type EncodedInput, OPPORTUNITY_READER, type RecordDecoder, type RecordEncoder, type WireFormat } from './types.js';
export { type InputCodec, createDecoder, createEncoder, detectFormat } from './decoder.js';
export { type RegistryOptions, type SchemaRegistryClient, confluentSchemaRegistry } from './registry.js';
export { CONFLUENT_CONTENT_TYPE, frameConfluent } from './confluent.js';
export { AVRO_CONTENT_TYPE, encodeAvro } from './avro.js';
export { JSON_CONTENT_TYPE, scoredJson } from './json.js';
