import { describe, expect, inject, it } from 'vitest';
import { confluentSchemaRegistry, frameConfluent } from '../../../src/codec/index.js';
import { opportunitySchema, opportunityType } from '../../../src/contract/index.js';
import { testAdmin, testKafka } from '../../helpers/kafka.js';
import { readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';

const JSON_TYPE = 'application/json';
const AVRO_TYPE = 'application/vnd.opportunity-scorer.avro';
const CONFLUENT_TYPE = 'application/vnd.confluent.avro';

describe('hostile Kafka input', () => {
  it('dead-letters every bad payload with its reason and keeps scoring the good ones', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const registryUrl = inject('schemaRegistryUrl');
    const registry = confluentSchemaRegistry({ url: registryUrl });
    const schemaId = await registry.registerAvro(`${topics.input}-value`, opportunitySchema);
    const [base] = sampleEvents(1, 'base');
    const good = sampleEvents(500, 'good');
    const avro = (e: Record<string, unknown>): Buffer => opportunityType.toBuffer({ ...e });
    const nested = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const nestedParses = (() => {
      try {
        JSON.parse(nested);
        return true;
      } catch {
        return false;
      }
    })();
    // [name, value, content-type, expected reason]
    const corpus: Array<[string, Buffer | string | null, string | undefined, string]> = [
      ['truncated Avro', avro({ ...base, id: 'trunc' }).subarray(0, 30), AVRO_TYPE, 'DECODE_FAILED'],
      ['unknown schema id', frameConfluent(1_999_999_999, avro({ ...base, id: 'unknown-id' })), undefined, 'SCHEMA_UNKNOWN'],
      ['wrong magic byte', Buffer.concat([Buffer.from([1, 0, 0, 0, schemaId]), avro({ ...base, id: 'magic' })]), CONFLUENT_TYPE, 'DECODE_FAILED'],
      ['invalid UTF-8 JSON', Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), JSON_TYPE, 'DECODE_FAILED'],
      ['deeply nested JSON', nested, JSON_TYPE, nestedParses ? 'VALIDATION_FAILED' : 'DECODE_FAILED'],
      ['a huge string', JSON.stringify({ ...base, id: 'huge', symbol: 'X'.repeat(500_000) }), JSON_TYPE, 'VALIDATION_FAILED'],
      ['NaN in an Avro double', avro({ ...base, id: 'nan', longFundingRate: Number.NaN }), AVRO_TYPE, 'VALIDATION_FAILED'],
      ['Infinity in an Avro double', avro({ ...base, id: 'inf', fundApr: Number.POSITIVE_INFINITY }), AVRO_TYPE, 'VALIDATION_FAILED'],
      ['a negative interval', JSON.stringify({ ...base, id: 'neg', shortFundingIntervalHours: -8 }), JSON_TYPE, 'VALIDATION_FAILED'],
      ['a zero interval', JSON.stringify({ ...base, id: 'zero', longFundingIntervalHours: 0 }), JSON_TYPE, 'VALIDATION_FAILED'],
      ['a timestamp in year 9999', JSON.stringify({ ...base, id: 'y9999', detectedAt: '9999-01-01T00:00:00Z' }), JSON_TYPE, 'VALIDATION_FAILED'],
      ['an empty value', Buffer.alloc(0), undefined, 'DECODE_FAILED'],
      ['a null value', null, undefined, 'DECODE_FAILED'],
      ['garbage with a null key', Buffer.from('garbage\u0001\u0002'), undefined, 'DECODE_FAILED'],
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.input,
      messages: [
        ...good.slice(0, 250).map((e) => ({ key: e.id, value: JSON.stringify(e) })),
        ...corpus.map(([name, value, type]) => ({ key: name === 'garbage with a null key' ? null : name, value, headers: type === undefined ? {} : { 'content-type': type } })),
        // A null key on a valid event is not an error: the output key becomes the event id.
        { key: null, value: JSON.stringify({ ...base, id: 'null-key-ok' }) },
        ...good.slice(250).map((e) => ({ key: e.id, value: JSON.stringify(e) })),
      ],
    });
    await producer.disconnect();
    await startInProcess({ ...topics.env, SCHEMA_REGISTRY_URL: registryUrl, INPUT_CODEC: 'auto' });

    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => es.length >= good.length + 1 + corpus.length, 60_000);
    const dlq = entries.filter((e) => e.topic === topics.dlq);
    const outputs = entries.filter((e) => e.topic === topics.output);
    expect(outputs.map((e) => e.id).sort()).toEqual([...good.map((e) => e.id), 'null-key-ok'].sort());
    expect(dlq).toHaveLength(corpus.length);
    // Dead letters keep the original key, so each is found by its name.
    const reasonByKey = new Map(dlq.map((e) => [e.key ?? '<null>', e.headers['dlq-reason']]));
    for (const [name, , , reason] of corpus) {
      expect(reasonByKey.get(name === 'garbage with a null key' ? '<null>' : name), name).toBe(reason);
    }
  });
});
