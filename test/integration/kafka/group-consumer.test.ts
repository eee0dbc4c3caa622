import { describe, expect, it, onTestFinished } from 'vitest';
import type { FetchedBatch, GroupConsumer } from '../../../src/kafka/index.js';
import { createTestTopic, testAdmin, testGroupOptions, testKafka, testPort, uniqueName } from '../../helpers/kafka.js';

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
});
