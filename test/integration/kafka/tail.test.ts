import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import type { Kafka } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../../../src/logging/index.js';
import { PlatformaticTail } from '../../../src/kafka/platformatic/tail.js';
import type { SourceRecord } from '../../../src/pipeline/index.js';
import { createTestTopic, testAdmin, testBrokers, testKafka, testPort, uniqueName } from '../../helpers/kafka.js';
import { until } from '../../helpers/wait.js';

const logger = createLogger({ level: 'silent', pretty: false });

/** Writes `values` in one transaction (committed, or aborted). */
async function transaction(kafka: Kafka, topic: string, values: readonly string[], outcome: 'commit' | 'abort'): Promise<void> {
  const producer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const tx = await producer.transaction();
    await tx.send({ topic, messages: values.map((value, i) => ({ key: String(i), value })) });
    await (outcome === 'commit' ? tx.commit() : tx.abort());
  } finally {
    await producer.disconnect();
  }
}

const values = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** What the port gives the tail: a fresh read_committed consumer in a group of its own. */
const consumer = (): Consumer<Buffer, Buffer, Buffer, Buffer> =>
  new Consumer({ clientId: uniqueName('tail'), bootstrapBrokers: testBrokers(), groupId: uniqueName('tail'), maxWaitTime: 100, isolationLevel: FetchIsolationLevels.READ_COMMITTED, autocommit: false });

const once = (seen: readonly SourceRecord[]): boolean => new Set(seen.map((r) => `${r.partition}:${r.offset}`)).size === seen.length;

describe('the tail reader', () => {
  it('(the port, the client under test) delivers every committed record from the beginning, and what comes after, none of an aborted transaction', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 2, 'tail');
    await transaction(kafka, topic, values('a', 30), 'commit');
    const seen: string[] = [];
    const tail = await testPort().tail([topic], (r) => seen.push(r.value?.toString() ?? ''));
    onTestFinished(() => tail.close());
    await until('the first 30', () => seen.length >= 30, 30_000);
    await transaction(kafka, topic, values('x', 10), 'abort');
    await transaction(kafka, topic, values('b', 20), 'commit');
    await until('all 50', () => seen.length >= 50, 30_000);
    expect(seen.sort()).toEqual([...values('a', 30), ...values('b', 20)].sort());
  });

  it('(platformatic) opened again where it stopped, as its watchdog does, loses and repeats nothing, across transaction markers and an aborted transaction', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 2, 'tail');
    const seen: SourceRecord[] = [];
    await transaction(kafka, topic, values('a', 40), 'commit');
    const tail = await PlatformaticTail.open([topic], (r) => seen.push(r), consumer, logger);
    onTestFinished(() => tail.close());
    await until('the first 40', () => seen.length >= 40, 30_000);

    await tail.reopen('test: after a committed transaction');
    await transaction(kafka, topic, values('x', 15), 'abort');
    await transaction(kafka, topic, values('b', 25), 'commit');
    await until('65 in all', () => seen.length >= 65, 30_000);

    // Two calls at once make one reopening.
    await Promise.all([tail.reopen('test: twice at once'), tail.reopen('test: twice at once')]);
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic, messages: values('c', 10).map((value) => ({ value })) });
    await plain.disconnect();
    await until('75 in all', () => seen.length >= 75, 30_000);
    // Anything read twice would come right after a reopening: give it the time of several fetches.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(tail.reopens).toBe(2);
    expect(seen.map((r) => r.value?.toString()).sort()).toEqual([...values('a', 40), ...values('b', 25), ...values('c', 10)].sort());
    expect(once(seen)).toBe(true);
  });

  it('(platformatic) whose reopening failed (no broker to be had) goes on from what it delivered at the next one', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 2, 'tail');
    const seen: SourceRecord[] = [];
    let unreachable = false;
    const maybeUnreachable = (): Consumer<Buffer, Buffer, Buffer, Buffer> =>
      unreachable ? new Consumer({ clientId: uniqueName('tail'), bootstrapBrokers: ['127.0.0.1:1'], groupId: uniqueName('tail'), retries: 0 }) : consumer();
    await transaction(kafka, topic, values('a', 30), 'commit');
    const tail = await PlatformaticTail.open([topic], (r) => seen.push(r), maybeUnreachable, logger);
    onTestFinished(() => tail.close());
    await until('the first 30', () => seen.length >= 30, 30_000);
    unreachable = true;
    await expect(tail.reopen('test: no broker')).rejects.toThrow();
    unreachable = false;
    await transaction(kafka, topic, values('b', 20), 'commit');
    await tail.reopen('test: the broker again');
    await until('50 in all', () => seen.length >= 50, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(seen.map((r) => r.value?.toString()).sort()).toEqual([...values('a', 30), ...values('b', 20)].sort());
    expect(once(seen)).toBe(true);
  });

  it('(platformatic) whose watchdog fires at every check (a hair trigger) reopens again and again, and still loses and repeats nothing', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 2, 'tail');
    const seen: SourceRecord[] = [];
    const tail = await PlatformaticTail.open([topic], (r) => seen.push(r), consumer, logger, { stallMs: 1, checkEveryMs: 150 });
    onTestFinished(() => tail.close());
    const producer = kafka.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    const sent: string[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = values(`r${round}-`, 20);
      await producer.send({ topic, messages: batch.map((value) => ({ value })) });
      sent.push(...batch);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await until('all 200', () => seen.length >= 200, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(tail.reopens).toBeGreaterThan(3);
    expect(seen.map((r) => r.value?.toString()).sort()).toEqual(sent.sort());
    expect(once(seen)).toBe(true);
  });
});
