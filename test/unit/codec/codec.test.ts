import type avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type SchemaRegistryClient,
  createDecoder,
  createEncoder,
  detectFormat,
  frameConfluent,
} from '../../../src/codec/index.js';
import {
  avroType,
  opportunityType,
  scoredOpportunitySchema,
  scoredOpportunityType,
  validateOpportunity,
  type ScoredOpportunity,
} from '../../../src/contract/index.js';
import { ScorerError, hasCode, isRetriable } from '../../../src/errors.js';
import * as fixtures from '../../fixtures/opportunities.js';
import { avroRecord, jsonEvent } from '../../helpers/events.js';
import { incompatibleWriterSchema, newerWriterSchema, olderWriterSchema } from '../../helpers/schemas.js';

const scored: ScoredOpportunity = {
  id: 'o-1',
  symbol: 'BTCUSDT',
  longExchange: 'bybit',
  shortExchange: 'binance',
  detectedAt: Date.parse('2025-10-26T15:00:00Z'),
  predictedProfitPercent: 0.42,
  successProbability: 0.8,
  predictedDurationHours: 16,
  compositeScore: 0.336,
  rankScore: 0.8,
  take: true,
  fundingDifferential: 0.031,
  modelBundle: 'opportunity-scorer',
  modelVersion: '1.0.0',
  scoredAt: Date.parse('2025-10-26T15:00:01Z'),
  source: { topic: 'opportunities', partition: 2, offset: 1234 },
};

/** In-memory stand-in for the registry's two calls (the real registry is exercised in the integration suite). */
function memoryRegistry(schemas: Record<number, avro.Schema>, failWith?: ScorerError): SchemaRegistryClient & { lookups: number } {
  const client = {
    lookups: 0,
    avroSchemaById(id: number) {
      client.lookups++;
      if (failWith) return Promise.reject(failWith);
      const schema = schemas[id];
      return schema === undefined ? Promise.reject(new ScorerError('SCHEMA_UNKNOWN', `id ${id}`)) : Promise.resolve(avroType(schema));
    },
    registerAvro: () => Promise.resolve(7),
  };
  return client;
}

const one = async (codec: Parameters<typeof createDecoder>[0], value: Buffer | null, registry?: SchemaRegistryClient) => {
  const [outcome] = await createDecoder(codec, registry).decode([{ value }]);
  if (outcome === undefined) throw new Error('no outcome');
  return outcome;
};

describe('json codec', () => {
  it('decodes a UTF-8 JSON object that validates into the same opportunity', async () => {
    const outcome = await one('json', Buffer.from(JSON.stringify(jsonEvent(fixtures.referenceExample))));
    expect(outcome.ok).toBe(true);
    const result = validateOpportunity(outcome.ok ? outcome.record : undefined);
    expect(result.ok && result.value).toEqual(fixtures.referenceExample);
  });

  it.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['malformed JSON', Buffer.from('{"symbol": ')],
    ['an array', Buffer.from('[1,2]')],
    ['deeply nested JSON', Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)],
  ])('turns %s into DECODE_FAILED', async (_what, bytes) => {
    const outcome = await one('json', bytes);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('DECODE_FAILED');
  });

  it('encodes results with ISO timestamps and the same field names', async () => {
    const encoder = await createEncoder('json', { subject: 'x' });
    expect(JSON.parse(encoder.encode(scored).toString())).toEqual({
      ...scored,
      detectedAt: '2025-10-26T15:00:00.000Z',
      scoredAt: '2025-10-26T15:00:01.000Z',
    });
  });

  it('writes every field of scored-opportunity.avsc, in the order its JSON has always had, byte for byte', async () => {
    const encoder = await createEncoder('json', { subject: 'x' });
    expect(encoder.encode(scored).toString()).toBe(
      '{"id":"o-1","symbol":"BTCUSDT","longExchange":"bybit","shortExchange":"binance","detectedAt":"2025-10-26T15:00:00.000Z",' +
        '"predictedProfitPercent":0.42,"successProbability":0.8,"predictedDurationHours":16,"compositeScore":0.336,"rankScore":0.8,' +
        '"take":true,"fundingDifferential":0.031,"modelBundle":"opportunity-scorer","modelVersion":"1.0.0",' +
        '"scoredAt":"2025-10-26T15:00:01.000Z","source":{"topic":"opportunities","partition":2,"offset":1234}}',
    );
    const fields = (scoredOpportunitySchema as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
    expect(Object.keys(JSON.parse(encoder.encode({ ...scored, source: null }).toString()) as object).sort()).toEqual(fields.sort());
  });

  it('round-trips any strings, finite numbers and timestamps, each record with its own scoredAt', async () => {
    const encoder = await createEncoder('json', { subject: 'x' });
    const time = fc.integer({ min: Date.UTC(-200, 0, 1), max: Date.UTC(12000, 0, 1) });
    const number = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), number, number, time, fc.array(time, { minLength: 1, maxLength: 3 }), (id, symbol, profit, funding, detectedAt, scoredAts) => {
        for (const scoredAt of scoredAts) {
          const record: ScoredOpportunity = { ...scored, id, symbol, predictedProfitPercent: profit, fundingDifferential: funding, detectedAt, scoredAt };
          const back = JSON.parse(encoder.encode(record).toString()) as Record<string, unknown>;
          expect(back).toEqual({ ...record, predictedProfitPercent: profit === 0 ? 0 : profit, fundingDifferential: funding === 0 ? 0 : funding, detectedAt: new Date(detectedAt).toISOString(), scoredAt: new Date(scoredAt).toISOString() });
        }
      }),
      { numRuns: 300 },
    );
    // A lone surrogate cannot be written as UTF-8: it is escaped, so it comes back as it went in.
    expect((JSON.parse(encoder.encode({ ...scored, id: 'a\ud800"b' }).toString()) as { id: string }).id).toBe('a\ud800"b');
  });
});

describe('avro codec', () => {
  it('round-trips an opportunity through raw Avro', async () => {
    const outcome = await one('avro', opportunityType.toBuffer(avroRecord(fixtures.hourlyVsEightHour)));
    const result = validateOpportunity(outcome.ok ? outcome.record : undefined);
    expect(result.ok && result.value).toEqual(fixtures.hourlyVsEightHour);
  });

  it('round-trips a result through raw Avro', async () => {
    const encoder = await createEncoder('avro', { subject: 'x' });
    expect(scoredOpportunityType.fromBuffer(encoder.encode(scored))).toEqual(scored);
    expect(scoredOpportunityType.fromBuffer(encoder.encode({ ...scored, source: null }))).toMatchObject({ source: null });
  });

  it('rejects truncated bodies and trailing bytes as DECODE_FAILED', async () => {
    const body = opportunityType.toBuffer(avroRecord(fixtures.referenceExample));
    for (const bad of [body.subarray(0, body.length - 3), Buffer.concat([body, Buffer.from([1, 2])])]) {
      const outcome = await one('avro', bad);
      expect(!outcome.ok && outcome.error.code).toBe('DECODE_FAILED');
    }
  });

  it('reports a result that does not fit the schema as ENCODE_FAILED', async () => {
    const encoder = await createEncoder('avro', { subject: 'x' });
    expect(() => encoder.encode({ ...scored, id: undefined as unknown as string })).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }) as Error);
  });
});

describe('empty values', () => {
  it.each(['json', 'avro', 'confluent-avro', 'auto'] as const)('are DECODE_FAILED with the %s codec', async (codec) => {
    for (const value of [null, Buffer.alloc(0)]) {
      const outcome = await one(codec, value, memoryRegistry({}));
      expect(!outcome.ok && outcome.error.message).toBe('empty value');
    }
  });
});

describe('confluent-avro codec', () => {
  it('resolves the writer schema by id, once per id', async () => {
    const registry = memoryRegistry({ 5: olderWriterSchema });
    const older = avroType(olderWriterSchema);
    const framed = frameConfluent(5, older.toBuffer(avroRecord(fixtures.referenceExample)));
    const decoder = createDecoder('confluent-avro', registry);
    const outcomes = await decoder.decode([{ value: framed }, { value: framed }]);
    await decoder.decode([{ value: framed }]);
    expect(registry.lookups).toBe(1);
    for (const o of outcomes) {
      const result = validateOpportunity(o.ok ? o.record : undefined);
      // Fields the older writer lacked take their defaults.
      expect(result.ok && result.value).toEqual({ ...fixtures.referenceExample, id: null });
    }
  });

  it('reads a newer writer schema with an extra field', async () => {
    const newer = avroType(newerWriterSchema);
    const framed = frameConfluent(9, newer.toBuffer({ ...avroRecord(fixtures.negativeCarry), openInterestUsd: 1e9 }));
    const outcome = await one('confluent-avro', framed, memoryRegistry({ 9: newerWriterSchema }));
    const result = validateOpportunity(outcome.ok ? outcome.record : undefined);
    expect(result.ok && result.value).toEqual(fixtures.negativeCarry);
  });

  it('gives per-event failures for unknown ids, incompatible writers and wrong frames', async () => {
    const registry = memoryRegistry({ 3: incompatibleWriterSchema });
    const incompatible = frameConfluent(3, avroType(incompatibleWriterSchema).toBuffer({ ...avroRecord(fixtures.referenceExample) }));
    const outcomes = await createDecoder('confluent-avro', registry).decode([
      { value: frameConfluent(404, Buffer.from([2, 65])) },
      { value: incompatible },
      { value: Buffer.from([1, 0, 0, 0, 1, 2]) },
      { value: Buffer.from([0, 0]) },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['SCHEMA_UNKNOWN', 'SCHEMA_INCOMPATIBLE', 'DECODE_FAILED', 'DECODE_FAILED']);
  });

  it('fails the whole batch, retriably, when the registry is unavailable', async () => {
    const registry = memoryRegistry({}, new ScorerError('SCHEMA_REGISTRY_UNAVAILABLE', 'down'));
    const failure = await createDecoder('confluent-avro', registry)
      .decode([{ value: frameConfluent(1, Buffer.from([2, 65])) }])
      .catch((err: unknown) => err);
    expect(hasCode(failure, 'SCHEMA_REGISTRY_UNAVAILABLE')).toBe(true);
    expect(isRetriable(failure)).toBe(true);
  });

  it('dead-letters framed events when no registry is configured', async () => {
    const outcome = await one('auto', frameConfluent(1, Buffer.from([2, 65])));
    expect(!outcome.ok && outcome.error.code).toBe('SCHEMA_UNKNOWN');
  });

  it('frames results with the registered id', async () => {
    const encoder = await createEncoder('confluent-avro', { registry: memoryRegistry({}), subject: 'out-value' });
    const bytes = encoder.encode(scored);
    expect([bytes[0], bytes.readInt32BE(1)]).toEqual([0, 7]);
    expect(scoredOpportunityType.fromBuffer(bytes.subarray(5))).toEqual(scored);
  });
});

describe('the auto rule', () => {
  it('follows the content-type header first', () => {
    expect(detectFormat(Buffer.from('{'), 'application/vnd.confluent.avro')).toBe('confluent-avro');
    expect(detectFormat(Buffer.from([0]), 'application/json; charset=utf-8')).toBe('json');
    expect(detectFormat(Buffer.from('{'), 'application/vnd.opportunity-scorer.avro')).toBe('avro');
  });

  it('then tells JSON, the Confluent frame and raw Avro apart by their first bytes', () => {
    expect(detectFormat(Buffer.from(' \n{"a":1}'), undefined)).toBe('json');
    expect(detectFormat(frameConfluent(1, Buffer.from([2])), undefined)).toBe('confluent-avro');
    expect(detectFormat(opportunityType.toBuffer(avroRecord(fixtures.referenceExample)), undefined)).toBe('avro');
  });

  it('never mistakes raw Avro of a valid event for JSON or the Confluent frame', () => {
    const symbol = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/);
    fc.assert(
      fc.property(symbol, fc.constantFrom(null, 'id-1'), (s, id) => {
        const record = { ...avroRecord(fixtures.referenceExample), symbol: s, id };
        expect(validateOpportunity(record).ok).toBe(true);
        expect(detectFormat(opportunityType.toBuffer(record), undefined)).toBe('avro');
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('decodes a mixed batch in order', async () => {
    const older = avroType(olderWriterSchema);
    const outcomes = await createDecoder('auto', memoryRegistry({ 5: olderWriterSchema })).decode([
      { value: Buffer.from(JSON.stringify(jsonEvent(fixtures.referenceExample))) },
      { value: frameConfluent(5, older.toBuffer(avroRecord(fixtures.negativeCarry))) },
      { value: opportunityType.toBuffer(avroRecord(fixtures.shortSettlesFirst)) },
      { value: Buffer.from('garbage') },
    ]);
    expect(outcomes.map((o) => o.format)).toEqual(['json', 'confluent-avro', 'avro', 'avro']);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false]);
  });
});
