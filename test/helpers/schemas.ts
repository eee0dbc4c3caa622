import { readFileSync } from 'node:fs';
import type avro from 'avsc';
import { opportunitySchema } from '../../src/contract/index.js';

type Field = { name: string; type: unknown; default?: unknown };
type RecordSchema = { type: 'record'; name: string; namespace?: string; fields: Field[] };

const current = opportunitySchema as unknown as RecordSchema;

/** An older producer's schema: written before `id` and the trailing projection fields existed. */
export const olderWriterSchema: avro.Schema = {
  ...current,
  fields: current.fields.filter((f) => !['id', 'fundProfit8h24hProj', 'fundApr24hProj', 'priceSpread24hAvg', 'priceSpread3dAvg'].includes(f.name)),
} as unknown as avro.Schema;

/** A newer producer's schema: one more optional field. */
export const newerWriterSchema: avro.Schema = {
  ...current,
  fields: [...current.fields, { name: 'openInterestUsd', type: ['null', 'double'], default: null }],
} as unknown as avro.Schema;

/** Not resolvable into ours: `fundApr` (required, no default in our schema) is gone. */
export const incompatibleWriterSchema: avro.Schema = {
  ...current,
  fields: current.fields.filter((f) => f.name !== 'fundApr'),
} as unknown as avro.Schema;

/** The output schema as it was before rankScore and take (schema version 1): what older consumers still read with. */
export const scoredSchemaV1: avro.Schema = JSON.parse(
  readFileSync(new URL('../fixtures/schemas/scored-opportunity.v1.avsc', import.meta.url), 'utf8'),
) as avro.Schema;
