import { describe, expect, it, onTestFinished } from 'vitest';
import type { FetchedBatch, KafkaPort } from '../../../src/kafka/index.js';
import { readTopics } from '../../../src/ledger/index.js';
import { createLogger } from '../../../src/logging/index.js';
import type { ProcessedChunk, SourceRecord } from '../../../src/pipeline/index.js';
import { kafkaJsPort, testAdmin, testKafka, testPort } from '../../helpers/kafka.js';
import { type Topics, testWorker, workerTopics } from '../../helpers/service.js';
import { until } from '../../helpers/wait.js';

const logger = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent', pretty: false });


/** Copies each input value to the output topic, so the test can count what was written for each input record. */
const copy = (records: readonly SourceRecord[]): Promise<ProcessedChunk> =>
  Promise.resolve({
    outputs: records.map((r) => ({ key: r.key?.toString() ?? '', value: r.value ?? Buffer.alloc(0), headers: {} })),
    shadowOutputs: [],
    deadLetters: [],
    dropped: 0,
    scoredTimes: [],
  });

/**
 * The port of the client under test, with one fault to arm: the next transaction commits, and then its caller is told
 * it failed (its answer lost, as on a reset connection); the heartbeat after that throws once, as kafkajs's does on a
 * reset connection, which ends the batch handler and makes kafkajs fetch the partition again without a rejoin.
 */
function ambiguousCommitPort(port: KafkaPort): { port: KafkaPort; arm: () => void; fired: () => boolean } {
  let armed = false;
  let fired = false;
  let failHeartbeat = false;
  const batch = (b: FetchedBatch): FetchedBatch => ({
    topic: b.topic,
    partition: b.partition,
    records: b.records,
    isRunning: () => b.isRunning(),
    isStale: () => b.isStale(),
    heartbeat: () => {
      if (!failHeartbeat) return b.heartbeat();
      failHeartbeat = false;
      return Promise.reject(new Error('injected: the heartbeat failed on a reset connection'));
    },
    resolve: (offset) => b.resolve(offset),
    commitIfNecessary: () => b.commitIfNecessary(),
    transactionOffsets: (offset) => b.transactionOffsets(offset),
  });
  const wrapped: KafkaPort = {
    client: port.client,
    admin: () => port.admin(),
    producer: (options) => port.producer(options),
    transactionalProducer: async (id) => {
      const producer = await port.transactionalProducer(id);
      return {
        fence: () => producer.fence(),
        close: () => producer.close(),
        commit: async (messages, offsets) => {
          await producer.commit(messages, offsets);
          if (!armed) return;
          armed = false;
          fired = true;
          failHeartbeat = true;
          throw new Error('injected: the commit took effect, but its answer was lost');
        },
      };
    },
    groupConsumer: (options, events) => {
      const consumer = port.groupConsumer(options, events);
      return { run: (eachBatch) => consumer.run((b) => eachBatch(batch(b))), stop: () => consumer.stop(), disconnect: () => consumer.disconnect() };
    },
    readRange: (topic, partition, start, end) => port.readRange(topic, partition, start, end),
    tail: (topics, onRecord) => port.tail(topics, onRecord),
  };
  return { port: wrapped, arm: () => (armed = true), fired: () => fired };
}

/**
 * A one-partition exactly-once worker over `port` that copies its input, started; `send` writes inputs `in-<from>`…
 * `in-<to - 1>` and `outputs` reads the output topic back (read_committed, through kafkajs).
 */
async function exactlyOnceWorker(port: KafkaPort): Promise<{
  kafka: ReturnType<typeof testKafka>;
  topics: Topics;
  send: (from: number, to: number) => Promise<unknown>;
  outputs: () => Promise<string[]>;
}> {
  const kafka = testKafka();
  const topics = await workerTopics(await testAdmin(kafka), 1);
  const producer = kafka.producer();
  await producer.connect();
  onTestFinished(() => producer.disconnect());
  const worker = testWorker(topics, { kafka: port, delivery: 'exactly-once', chunkSize: 100, logger, retry: { initialMs: 50, maxMs: 200 }, process: copy });
  onTestFinished(() => worker.stop());
  await worker.start();
  return {
    kafka,
    topics,
    send: (from, to) => producer.send({ topic: topics.input, messages: Array.from({ length: to - from }, (_, i) => ({ key: `k${from + i}`, value: `in-${from + i}` })) }),
    outputs: async () => (await readTopics(kafkaJsPort(kafka), [topics.output], { idleMs: 1_000, timeoutMs: 20_000 })).map((e) => e.value.toString()),
  };
}

describe('exactly-once: a partition is settled before its records are written', () => {
  it("a commit that failed after it took effect (another holder of the partition's transactional id committed it) is not written again", async () => {
    const { kafka, topics, send, outputs } = await exactlyOnceWorker(testPort());

    await send(0, 5);
    await until('the first five written', async () => (await outputs()).length === 5, 60_000, 100);

    // What an ambiguous commit leaves: the worker's transactional id (group.topic.partition) has committed the next
    // chunk's outputs and offsets, but the worker's producer is told its commit failed (here: it was fenced).
    const other = kafka.producer({ transactionalId: `${topics.group}.${topics.input}.0`, idempotent: true, maxInFlightRequests: 1 });
    await other.connect();
    onTestFinished(() => other.disconnect());
    const tx = await other.transaction();
    await tx.send({ topic: topics.output, messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${5 + i}`, value: `in-${5 + i}` })) });
    await tx.sendOffsets({ consumerGroupId: topics.group, topics: [{ topic: topics.input, partitions: [{ partition: 0, offset: '10' }] }] });
    await tx.commit();

    // The worker fetches 5–9 as one chunk (one record batch), fails to commit it and tries again: it must find the
    // chunk committed and write nothing; 10 and 11 follow as usual.
    await send(5, 10);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await send(10, 12);
    await until('all twelve written', async () => (await outputs()).length >= 12, 60_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await outputs()).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `in-${i}`).sort());
  });

  it('a commit that took effect but was reported failed, then a heartbeat that throws (the chunk fetched again without a rejoin): nothing is written twice', async () => {
    const faulty = ambiguousCommitPort(testPort());
    const { send, outputs } = await exactlyOnceWorker(faulty.port);

    await send(0, 5);
    await until('the first five written', async () => (await outputs()).length === 5, 60_000, 100);
    faulty.arm();
    await send(5, 10);
    await until('the armed fault fired', () => faulty.fired(), 60_000, 100);
    await send(10, 12);
    await until('all twelve written', async () => (await outputs()).length >= 12, 60_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await outputs()).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `in-${i}`).sort());
  });
});
