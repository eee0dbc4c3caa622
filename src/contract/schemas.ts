import { readFileSync } from 'node:fs';
import avro from 'avsc';

/** The repo's Avro schemas (schemas/*.avsc), read once. The folder sits two levels above both src/ and dist/ files. */
function readSchema(file: string): avro.Schema {
  return JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8')) as avro.Schema;
}

export const opportunitySchema: avro.Schema = readSchema('opportunity.avsc');
export const scoredOpportunitySchema: avro.Schema = readSchema('scored-opportunity.avsc');
export const outcomeSchema: avro.Schema = readSchema('outcome.avsc');

/**
 * Parses a schema the way every schema in the project is parsed: nullable unions decode to the plain value or
 * null (not { double: 1 }), matching the JSON form. A fresh options object each time: avsc keeps its registry of
 * named types in it, and a shared one would make a second schema with the same record name collide.
 */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { wrapUnions: 'auto' });
}

export const opportunityType: avro.Type = avroType(opportunitySchema);
export const scoredOpportunityType: avro.Type = avroType(scoredOpportunitySchema);
export const outcomeType: avro.Type = avroType(outcomeSchema);
