import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka } from '../../helpers/kafka.js';
import { ledgerReport, produceJson, readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';

describe('the Kafka worker delivers every event', () => {
  it('at-least-once: 10,000 events in, every id scored, none missing', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const events = sampleEvents(10_000, 'alo');
    await produceJson(kafka, topics.input, events);
    await startInProcess({ ...topics.env, DELIVERY: 'at-least-once' });

    const ids = events.map((e) => e.id);
    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => es.length >= ids.length);
    const report = ledgerReport(entries, topics.output, ids);
    expect(report.missing).toEqual([]);
    expect(report.inBoth).toEqual([]);
    expect(entries.filter((e) => e.topic === topics.dlq)).toEqual([]);
    const first = entries[0];
    expect(first?.headers['model-bundle']).toBe('opportunity-scorer');
    expect(first?.headers['model-version']).toBe('2.0.0');
  });

  it('exactly-once: exactly 10,000 results under read_committed', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const events = sampleEvents(10_000, 'eos');
    await produceJson(kafka, topics.input, events);
    await startInProcess({ ...topics.env, DELIVERY: 'exactly-once' });

    const ids = events.map((e) => e.id);
    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => es.length >= ids.length, 90_000, 3_000);
    const report = ledgerReport(entries, topics.output, ids);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.outputs).toBe(10_000);
  });

  it('exactly-once: a backlog goes in transactions of many chunks (TRANSACTION_MAX_RECORDS), still exactly once', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    const events = sampleEvents(10_000, 'eos-backlog');
    await produceJson(kafka, topics.input, events);
    // Chunks of 64: one transaction per chunk would be at least 157 of them.
    await startInProcess({ ...topics.env, DELIVERY: 'exactly-once', BATCH_MAX_SIZE: '64', TRANSACTION_MAX_RECORDS: '4096' });

    const ids = events.map((e) => e.id);
    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => es.length >= ids.length, 90_000, 3_000);
    const report = ledgerReport(entries, topics.output, ids);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    // Every committed transaction leaves one marker in each output partition it wrote: the offsets beyond the
    // 10,000 results count them, and so bound the transactions from above.
    const end = (await admin.fetchTopicOffsets(topics.output)).reduce((sum, p) => sum + Number(p.high), 0);
    const markers = end - 10_000;
    expect(markers).toBeGreaterThan(0);
    expect(markers).toBeLessThan(10_000 / 64 / 2);
  });

  it('keeps per-partition order: outputs of one key come in input order', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka), 2);
    const events = sampleEvents(600, 'order').map((e, i) => ({ ...e, id: `order-${i}` }));
    const producer = kafka.producer();
    await producer.connect();
    // Three keys: each key's events land on one partition, in this order.
    await producer.send({ topic: topics.input, messages: events.map((e, i) => ({ key: `k${i % 3}`, value: JSON.stringify(e) })) });
    await producer.disconnect();
    await startInProcess({ ...topics.env, BATCH_MAX_SIZE: '32' });
    const entries = await readLedger(kafka, [topics.output], (es) => es.length >= events.length);
    for (const key of ['0', '1', '2']) {
      const seq = entries.map((e) => Number(e.id?.split('-')[1])).filter((n) => String(n % 3) === key);
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      expect(seq).toHaveLength(200);
    }
  });
});
