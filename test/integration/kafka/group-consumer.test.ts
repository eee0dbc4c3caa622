import { describe, expect, it, onTestFinished } from 'vitest';
import type { FetchedBatch, GroupConsumer } from '../../../src/kafka/index.js';
import { createTestTopic, testAdmin, testGroupOptions, testKafka, testPort, uniqueName } from '../../helpers/kafka.js';
import { until } from '../../helpers/wait.js';

describe('the group consumer (the port, the client under test)', () => {
  it("hands a partition's fetched records over as one batch, not the first record alone and the rest after it", async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(await testAdmin(kafka), 1);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // One request, so the broker stores them as one record batch and the first fetch returns all of them.
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();

    const port = testPort();
    const batches: number[] = [];
    let all!: () => void;
    const done = new Promise<void>((resolve) => (all = resolve));
    const consumer: GroupConsumer = port.groupConsumer(
      testGroupOptions(uniqueName('group'), [topic], { concurrency: 4 }),
      { joined: () => undefined, rebalancing: () => undefined, stopped: () => undefined, crashed: () => undefined },
    );
    onTestFinished(async () => {
      await consumer.stop();
      await consumer.disconnect();
    });
    await consumer.run(async (batch: FetchedBatch) => {
      batches.push(batch.records.length);
      batch.resolve((batch.records.at(-1) as { offset: string }).offset);
      await batch.commitIfNecessary();
      if (batches.reduce((a, b) => a + b, 0) >= 40) all();
    });
    await done;
    expect(batches).toEqual([40]);
  });

  it('with a commit interval, commits at most once an interval while running, and what it resolved when it stops', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topic = await createTestTopic(admin, 1);
    const groupId = uniqueName('group');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    const produce = (from: number): Promise<unknown> => producer.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })) });
    const committed = async (): Promise<string | undefined> => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset;

    let handled = 0;
    const consumer: GroupConsumer = testPort().groupConsumer(testGroupOptions(groupId, [topic], { commits: { intervalMs: 60_000 } }), {
      joined: () => undefined,
      rebalancing: () => undefined,
      stopped: () => undefined,
      crashed: () => undefined,
    });
    let stopped = false;
    onTestFinished(async () => {
      if (!stopped) await consumer.stop();
      await consumer.disconnect();
    });
    await consumer.run(async (batch: FetchedBatch) => {
      batch.resolve((batch.records.at(-1) as { offset: string }).offset);
      handled += batch.records.length;
      await batch.commitIfNecessary();
    });

    // The first commit is due at once; the next only after a minute.
    await produce(0);
    await until('the first 5 records handled and committed', async () => handled === 5 && (await committed()) === '5', 30_000, 50);
    await produce(5);
    await until('the next 5 records handled', () => handled === 10, 30_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await committed()).toBe('5');

    await consumer.stop();
    stopped = true;
    expect(await committed()).toBe('10');
  });
});
