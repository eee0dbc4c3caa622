import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { readTopics } from '../../../src/ledger/index.js';
import { createTestTopic, testAdmin, testKafka, testPort, uniqueName } from '../../helpers/kafka.js';

interface Collector {
  readonly values: string[];
  /** Resolves once `count` values have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<string[]>;
}

async function collect(kafka: Kafka, topic: string, options: { readUncommitted?: boolean } = {}): Promise<Collector> {
  const consumer: Consumer = kafka.consumer({
    groupId: uniqueName('group'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  onTestFinished(async () => {
    await consumer.disconnect();
  });
  const values: string[] = [];
  const waiters: Array<() => void> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }: EachMessagePayload) => {
      values.push(message.value?.toString() ?? '');
      for (const w of waiters.splice(0)) w();
      return Promise.resolve();
    },
  });
  return {
    values,
    waitFor: (count, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${values.length}/${count} messages: ${values.join(',')}`)), timeoutMs);
        const check = (): void => {
          if (values.length >= count) {
            clearTimeout(timer);
            resolve([...values]);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

describe('the integration broker', () => {
  it('is a real Kafka broker found by the global setup', async () => {
    expect(inject('kafkaSource')).not.toBe('');
    const admin = await testAdmin();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
  });

  it('creates a topic, and what is produced to it is consumed in order', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topic = await createTestTopic(admin, 3);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onTestFinished(async () => {
      await producer.disconnect();
    });
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    // One key: one partition, so consumption order must equal production order.
    await producer.send({ topic, messages: sent.map((value) => ({ key: 'k', value })) });

    const consumer = await collect(kafka, topic);
    expect(await consumer.waitFor(sent.length)).toEqual(sent);
  });

  it('shows transactional writes to read_committed consumers only after commit, and never after abort', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topic = await createTestTopic(admin, 1, 'txn');
    const producer = kafka.producer({ transactionalId: uniqueName('txn-id'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onTestFinished(async () => {
      await producer.disconnect();
    });

    const committedReader = await collect(kafka, topic);
    const uncommittedReader = await collect(kafka, topic, { readUncommitted: true });

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();

    const open = await producer.transaction();
    await open.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    // The read_uncommitted reader sees all four records, so they are in the log; the read_committed reader
    // is held at the last stable offset, before the first (aborted) record.
    await uncommittedReader.waitFor(4);
    expect(uncommittedReader.values).toEqual(['aborted-1', 'aborted-2', 'committed-1', 'committed-2']);
    expect(committedReader.values).toEqual([]);

    await open.commit();
    expect(await committedReader.waitFor(2)).toEqual(['committed-1', 'committed-2']);
  });

  // kafkajs 2.2.4 took the broker's list of aborted transactions (in the order they ended) as the order they began,
  // and returned a1 here (src/kafka/kafkajs/aborted.ts); the monitor's evaluated topic after a kill looks like this.
  it('never shows read_committed consumers a record of an aborted transaction, whatever order transactions end in', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 1, 'txn-order');
    const producer = async (): Promise<ReturnType<Kafka['producer']>> => {
      const p = kafka.producer({ transactionalId: uniqueName('txn-id'), idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      onTestFinished(() => p.disconnect());
      return p;
    };
    const [a, b, plain] = [await producer(), await producer(), kafka.producer()];
    await plain.connect();
    onTestFinished(() => plain.disconnect());
    // A begins first and ends last: a1 (offset 0), b1, B's abort marker, a2, A's abort marker, then c1 committed.
    const ta = await a.transaction();
    await ta.send({ topic, messages: [{ value: 'a1' }] });
    const tb = await b.transaction();
    await tb.send({ topic, messages: [{ value: 'b1' }] });
    await tb.abort();
    await ta.send({ topic, messages: [{ value: 'a2' }] });
    await ta.abort();
    await plain.send({ topic, messages: [{ value: 'c1' }] });

    const reader = await collect(kafka, topic);
    expect(await reader.waitFor(1)).toEqual(['c1']);
    // The port over the client under test reads the same.
    const entries = await readTopics(testPort(), [topic], { idleMs: 1_500, timeoutMs: 20_000 });
    expect(entries.map((e) => e.value.toString())).toEqual(['c1']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(reader.values).toEqual(['c1']);
  });

  // @platformatic/kafka 2.12.1 kept one aborted range per producer id and returned a1 and a2 here
  // (src/kafka/platformatic/aborted.ts): a transactional id claimed again after a kill keeps its producer id.
  it('never shows read_committed consumers a record of an aborted transaction when one producer aborts twice around a commit', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 1, 'txn-twice');
    const producer = kafka.producer({ transactionalId: uniqueName('txn-id'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    const inTransaction = async (values: readonly string[], end: 'commit' | 'abort'): Promise<void> => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: values.map((value) => ({ value })) });
      await tx[end]();
    };
    await inTransaction(['a1', 'a2'], 'abort');
    await inTransaction(['c1'], 'commit');
    await inTransaction(['a3'], 'abort');
    await inTransaction(['c2'], 'commit');

    const entries = await readTopics(testPort(), [topic], { idleMs: 1_500, timeoutMs: 20_000 });
    expect(entries.map((e) => e.value.toString())).toEqual(['c1', 'c2']);
  });

  // A client puts all of a request's records for one partition in one record batch, which the broker refuses above
  // message.max.bytes (1 MiB): an exactly-once transaction over a whole fetch of small Avro events once did that.
  it('writes a send of 3 MiB to one partition (the port cuts it into requests under the broker limit)', async () => {
    const topic = await createTestTopic(await testAdmin(), 1, 'large-send');
    const port = testPort();
    const producer = await port.producer({ boundedRetries: true });
    onTestFinished(() => producer.close());
    const messages = Array.from({ length: 3_000 }, (_, i) => ({ topic, key: `k${i}`, value: Buffer.alloc(1_024, 97 + (i % 26)), headers: {} }));
    await producer.send(messages);
    const entries = await readTopics(port, [topic], { idleMs: 1_500, timeoutMs: 30_000 });
    expect(entries).toHaveLength(3_000);
    expect(entries.map((e) => e.key?.toString())).toEqual(messages.map((m) => m.key));
  });
});
