import { describe, expect, inject, it } from 'vitest';
import { confluentSchemaRegistry, createDecoder, createEncoder, frameConfluent } from '../../../src/codec/index.js';
import { avroType, opportunitySchema, scoredOpportunityType, validateOpportunity, type Opportunity } from '../../../src/contract/index.js';
import { hasCode, isRetriable } from '../../../src/errors.js';
import * as fixtures from '../../fixtures/opportunities.js';
import { avroRecord } from '../../helpers/events.js';
import { uniqueName } from '../../helpers/kafka.js';
import { incompatibleWriterSchema, newerWriterSchema, olderWriterSchema } from '../../helpers/schemas.js';

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

  it('reports an unreachable registry as retriable, failing the batch rather than the events', async () => {
    const down = confluentSchemaRegistry({ url: 'http://127.0.0.1:9/apis/ccompat/v7', retries: 0 });
    const failure = await createDecoder('confluent-avro', down)
      .decode([{ value: frameConfluent(1, Buffer.from([2, 65])) }])
      .catch((err: unknown) => err);
    expect(hasCode(failure, 'SCHEMA_REGISTRY_UNAVAILABLE')).toBe(true);
    expect(isRetriable(failure)).toBe(true);
  });
});
