import { describe, expect, inject, it } from 'vitest';
import { confluentSchemaRegistry, createDecoder, createEncoder, frameConfluent } from '../../../src/codec/index.js';
import { avroType, opportunitySchema, scoredOpportunitySchema, scoredOpportunityType, validateOpportunity, type Opportunity } from '../../../src/contract/index.js';
import { hasCode, isRetriable } from '../../../src/errors.js';
import * as fixtures from '../../fixtures/opportunities.js';
import { avroRecord } from '../../helpers/events.js';
import { uniqueName } from '../../helpers/kafka.js';
import { incompatibleWriterSchema, newerWriterSchema, olderWriterSchema, scoredSchemaV1 } from '../../helpers/schemas.js';

// Real Confluent-compatible registry (Apicurio Registry, or SCHEMA_REGISTRY_URL), provided by the global setup.
const registry = () => confluentSchemaRegistry({ url: inject('schemaRegistryUrl') });

async function decodeOne(bytes: Buffer): Promise<ReturnType<typeof validateOpportunity> | string> {
  const [outcome] = await createDecoder('confluent-avro', registry()).decode([{ value: bytes }]);
  if (outcome === undefined) throw new Error('no outcome');
  return outcome.ok ? validateOpportunity(outcome.record) : outcome.error.code;
}

describe('confluent-avro against a real schema registry', () => {
  it('round-trips an event written with our schema', async () => {
    const id = await registry().registerAvro(uniqueName('opps-value'), opportunitySchema);
    const bytes = frameConfluent(id, avroType(opportunitySchema).toBuffer(avroRecord(fixtures.referenceExample)));
    const result = await decodeOne(bytes);
    expect(typeof result !== 'string' && result.ok && result.value).toEqual(fixtures.referenceExample);
  });

  it('resolves older and newer compatible writer schemas into ours', async () => {
    const subject = uniqueName('evolving-value');
    const olderId = await registry().registerAvro(subject, olderWriterSchema);
    const newerId = await registry().registerAvro(subject, newerWriterSchema);
    expect(newerId).not.toBe(olderId);
    const expected: Opportunity = { ...fixtures.nextFundingInThePast, id: null };
    const fromOlder = await decodeOne(frameConfluent(olderId, avroType(olderWriterSchema).toBuffer(avroRecord(fixtures.nextFundingInThePast))));
    expect(typeof fromOlder !== 'string' && fromOlder.ok && fromOlder.value).toEqual(expected);
    const newerBytes = avroType(newerWriterSchema).toBuffer({ ...avroRecord(fixtures.nextFundingInThePast), openInterestUsd: 5e8 });
    const fromNewer = await decodeOne(frameConfluent(newerId, newerBytes));
    expect(typeof fromNewer !== 'string' && fromNewer.ok && fromNewer.value).toEqual(fixtures.nextFundingInThePast);
  });

  it('dead-letters events of an incompatible writer schema or an unknown id', async () => {
    const id = await registry().registerAvro(uniqueName('other-value'), incompatibleWriterSchema);
    const bytes = frameConfluent(id, avroType(incompatibleWriterSchema).toBuffer(avroRecord(fixtures.referenceExample)));
    expect(await decodeOne(bytes)).toBe('SCHEMA_INCOMPATIBLE');
    expect(await decodeOne(frameConfluent(2_000_000_000, Buffer.from([2, 65])))).toBe('SCHEMA_UNKNOWN');
  });

  it('registers the output schema and frames results with its id', async () => {
    const subject = uniqueName('scored-value');
    const encoder = await createEncoder('confluent-avro', { registry: registry(), subject });
    const scored = {
      id: 'x',
      symbol: 'BTCUSDT',
      longExchange: 'bybit',
      shortExchange: 'binance',
      detectedAt: 1_761_490_800_000,
      predictedProfitPercent: 0.1,
      successProbability: 0.5,
      predictedDurationHours: 8,
      compositeScore: 0.05,
      rankScore: 0.5,
      take: false,
      fundingDifferential: 0.02,
      modelBundle: 'b',
      modelVersion: 'v',
      scoredAt: 1_761_490_801_000,
      source: null,
    };
    const bytes = encoder.encode(scored);
    const writer = await registry().avroSchemaById(bytes.readInt32BE(1));
    expect(writer.fromBuffer(bytes.subarray(5))).toEqual(scored);
    expect(scoredOpportunityType.fromBuffer(bytes.subarray(5))).toEqual(scored);
  });

  it('accepts the output schema with rankScore, take and fundingDifferential as a compatible change: old readers read new records, new readers old ones', async () => {
    const subject = uniqueName('scored-evolution-value');
    const url = inject('schemaRegistryUrl');
    const json = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
    const v1Id = await registry().registerAvro(subject, scoredSchemaV1);
    // The registry itself judges the change, under FULL compatibility (backward and forward), and registers it.
    expect((await fetch(`${url}/config/${subject}`, { method: 'PUT', headers: json, body: JSON.stringify({ compatibility: 'FULL' }) })).status).toBe(200);
    const body = JSON.stringify({ schema: JSON.stringify(scoredOpportunitySchema) });
    const check = await fetch(`${url}/compatibility/subjects/${subject}/versions/latest`, { method: 'POST', headers: json, body });
    expect(await check.json()).toMatchObject({ is_compatible: true });
    const registered = await fetch(`${url}/subjects/${subject}/versions`, { method: 'POST', headers: json, body });
    expect(registered.status).toBe(200);
    const newId = ((await registered.json()) as { id: number }).id;
    expect(newId).not.toBe(v1Id);
    const record = {
      id: 'y',
      symbol: 'ETHUSDT',
      longExchange: 'bybit',
      shortExchange: 'binance',
      detectedAt: 1_761_490_800_000,
      predictedProfitPercent: -0.1,
      successProbability: 0.07,
      predictedDurationHours: 30,
      compositeScore: -0.007,
      rankScore: 0.07,
      take: true,
      fundingDifferential: 0.004,
      modelBundle: 'opportunity-scorer',
      modelVersion: '2.0.0',
      scoredAt: 1_761_490_801_000,
      source: { topic: 't', partition: 1, offset: 7 },
    };
    const bytes = frameConfluent(newId, scoredOpportunityType.toBuffer(record));
    // A consumer still on the old schema reads the new record with the writer schema the registry serves for its
    // id: the new fields are skipped, the rest is unchanged.
    const oldReader = avroType(scoredSchemaV1);
    const { rankScore: _rank, take: _take, fundingDifferential: _differential, ...old } = record;
    expect(oldReader.fromBuffer(bytes.subarray(5), oldReader.createResolver(await registry().avroSchemaById(bytes.readInt32BE(1))))).toEqual(old);
    // A consumer on the new schema reads an old record: the defaults (null, false) fill in.
    const oldBytes = oldReader.toBuffer(old);
    const v1Writer = await registry().avroSchemaById(v1Id);
    expect(scoredOpportunityType.fromBuffer(oldBytes, scoredOpportunityType.createResolver(v1Writer))).toEqual({ ...old, rankScore: null, take: false, fundingDifferential: null });
  });

  it('reports an unreachable registry as retriable, failing the batch rather than the events', async () => {
    const down = confluentSchemaRegistry({ url: 'http://127.0.0.1:9/apis/ccompat/v7', retries: 0 });
    const failure = await createDecoder('confluent-avro', down)
      .decode([{ value: frameConfluent(1, Buffer.from([2, 65])) }])
      .catch((err: unknown) => err);
    expect(hasCode(failure, 'SCHEMA_REGISTRY_UNAVAILABLE')).toBe(true);
    expect(isRetriable(failure)).toBe(true);
  });
});
