import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { ScorerError } from '../errors.js';
import { avroType } from '../contract/index.js';

/** What the codecs need from a Confluent-compatible schema registry. */
export interface SchemaRegistryClient {
  /** The Avro writer schema registered under `id`. Rejects with SCHEMA_UNKNOWN, SCHEMA_INCOMPATIBLE or SCHEMA_REGISTRY_UNAVAILABLE. */
  avroSchemaById(id: number): Promise<avro.Type>;
  /** Registers (or finds) `schema` under `subject`; returns its id. */
  registerAvro(subject: string, schema: avro.Schema): Promise<number>;
}

export interface RegistryOptions {
  readonly url: string;
  /** Retries of one request before SCHEMA_REGISTRY_UNAVAILABLE (default 2). */
  readonly retries?: number;
}

/** A client over @kafkajs/confluent-schema-registry; errors are classified by HTTP status, never by message. */
export function confluentSchemaRegistry(options: RegistryOptions): SchemaRegistryClient {
  const registry = new SchemaRegistry({
    host: options.url,
    clientId: 'opportunity-scorer',
    retry: { retries: options.retries ?? 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 2 },
  });
  return {
    async avroSchemaById(id) {
      let schema: unknown;
      try {
        schema = await registry.getSchema(id);
      } catch (cause) {
        throw classify(cause, `schema id ${id}`);
      }
      // The library returns an avsc Type for Avro schemas; JSON Schema and Protobuf come back as other objects.
      const type = schema as Partial<avro.Type>;
      if (typeof type.schema !== 'function') {
        throw new ScorerError('SCHEMA_INCOMPATIBLE', `schema id ${id} is not an Avro schema`);
      }
      return avroType(type.schema());
    },
    async registerAvro(subject, schema) {
      try {
        const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
        return id;
      } catch (cause) {
        throw classify(cause, `registering ${subject}`);
      }
    },
  };
}

function classify(cause: unknown, what: string): ScorerError {
  const status = typeof cause === 'object' && cause !== null && 'status' in cause && typeof cause.status === 'number' ? cause.status : undefined;
  if (status === 404) return new ScorerError('SCHEMA_UNKNOWN', `${what}: not found in the schema registry`, { cause });
  if (status === 409 || status === 422) return new ScorerError('SCHEMA_INCOMPATIBLE', `${what}: rejected by the schema registry (${status})`, { cause });
  return new ScorerError('SCHEMA_REGISTRY_UNAVAILABLE', `${what}: schema registry unavailable${status === undefined ? '' : ` (HTTP ${status})`}`, {
    cause,
  });
}
