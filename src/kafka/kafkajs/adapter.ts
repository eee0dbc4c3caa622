// Before kafkajs: replaces its aborted-transaction filter (see aborted.ts).
import './aborted.js';
import { type Admin, AssignerProtocol, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Offsets, type PartitionAssigner, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import { COPARTITIONED_PROTOCOL, copartitionedAssignment } from '../assignment.js';
import { ScorerError } from '../../errors.js';
import type { SourceRecord } from '../../pipeline/index.js';
import type * as port from '../port.js';
import { bufferedRange, type RangeSink } from '../range.js';
import { MAX_SEND_BYTES, sizedGroups } from '../sized.js';
import { untilLeaders } from '../topics.js';

/** The Kafka port over kafkajs. */
export class KafkaJsPort implements port.KafkaPort {
  readonly client = 'kafkajs' as const;
  readonly #kafka: Kafka;

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
  }

  async admin(): Promise<port.KafkaAdmin> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
    } catch (cause) {
      throw new ScorerError('KAFKA_UNAVAILABLE', 'could not connect to the brokers', { cause });
    }
    return kafkaJsAdmin(admin);
  }

  async producer(options: port.ProducerOptions = {}): Promise<port.KafkaProducer> {
    const producer = this.#kafka.producer({
      idempotent: true,
      // kafkajs must not have two requests of an idempotent producer in flight (sequence numbers go out of
      // order, tulios/kafkajs#598, #1005); the send queue above coalesces instead.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The Java-compatible partitioner: a key lands on the same partition whichever client wrote it.
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs would retry an idempotent producer's failed write forever inside one call, so a caller could
      // neither heartbeat nor back off (kafkajs warns that limited retries weaken its idempotence; the worker
      // replaces a producer after a failed write, and at-least-once allows the duplicates that can follow).
      ...(options.boundedRetries === true ? { retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 } } : {}),
    });
    await producer.connect();
    return {
      send: async (messages, bytes) => {
        for (const group of sizedGroups(messages, MAX_SEND_BYTES, bytes)) await producer.sendBatch({ topicMessages: topicMessages(group), acks: -1 });
      },
      close: () => producer.disconnect(),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<port.TransactionalProducer> {
    const producer = this.#kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new KafkaJsTransactions(producer);
  }

  groupConsumer(options: port.GroupConsumerOptions, events: port.GroupEvents): port.GroupConsumer {
    return new KafkaJsGroupConsumer(this.#kafka, options, events);
  }

  readRange(topic: string, partition: number, start: bigint, end: bigint): AsyncIterable<SourceRecord> {
    return bufferedRange(start, end, (sink) => this.#readInto(topic, partition, sink));
  }

  /**
   * One partition through a throw-away group that commits nothing. kafkajs restarts a crashed consumer with a new
   * group member that has no committed offset (autoCommit off), so every join, not only the first, pauses the other
   * partitions and seeks back to the next offset not yet taken; records fetched again below it are dropped.
   */
  async #readInto(topic: string, partition: number, sink: RangeSink): Promise<() => Promise<void>> {
    const admin = await this.admin();
    const all = await admin.partitions(topic).finally(() => admin.close());
    const others = all.filter((p) => p !== partition);
    const consumer = this.#kafka.consumer({ groupId: `opportunity-scorer-range-${process.pid}-${Date.now()}-${partition}`, maxWaitTimeInMs: 100 });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) sink.fail(new ScorerError('KAFKA_UNAVAILABLE', `reading ${topic}[${partition}] failed: ${e.payload.error.message}`, { cause: e.payload.error }));
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
      consumer.seek({ topic, partition, offset: sink.next().toString() });
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (batch.partition !== partition) return;
          await sink.push(batch.messages.map((m) => toSourceRecord(topic, partition, m)), BigInt(batch.lastOffset()) + 1n);
        },
      });
    } catch (err) {
      await consumer.disconnect();
      throw err;
    }
    return () => consumer.disconnect();
  }

  async tail(topics: readonly string[], onRecord: (record: SourceRecord) => void): Promise<port.TailReader> {
    const consumer = this.#kafka.consumer({ groupId: `opportunity-scorer-tail-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, readUncommitted: false, maxWaitTimeInMs: 100 });
    const reader = { joined: false, close: () => consumer.disconnect() };
    consumer.on(consumer.events.GROUP_JOIN, () => {
      reader.joined = true;
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: ({ topic, partition, message }) => {
          onRecord(toSourceRecord(topic, partition, message));
          return Promise.resolve();
        },
      });
    } catch (err) {
      await consumer.disconnect();
      throw err;
    }
    return reader;
  }
}

/** The port's admin over a connected kafkajs admin client. */
export function kafkaJsAdmin(admin: Admin): port.KafkaAdmin {
  const offsets = async (topic: string): Promise<port.PartitionOffsets[]> =>
    (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition);
  return {
    listTopics: () => admin.listTopics(),
    createTopics: async (specs) => {
      await admin.createTopics({
        waitForLeaders: false,
        topics: specs.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: -1, // broker default: works on one node and on a cluster
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      const topics = specs.map((s) => s.topic);
      await untilLeaders(topics, async () => {
        const md = await admin.fetchTopicMetadata({ topics });
        return topics.every((t) => md.topics.find((m) => m.name === t)?.partitions.every((p) => p.leader >= 0) === true);
      });
    },
    partitions: async (topic) => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return (md.topics[0]?.partitions.map((p) => p.partitionId) ?? []).sort((a, b) => a - b);
    },
    offsets,
    offsetsAt: async (topic, timestampMs) => {
      const [at, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, timestampMs), offsets(topic)]);
      const high = new Map(ends.map((e) => [e.partition, e.high]));
      return at.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) < 0n ? (high.get(o.partition) ?? 0n) : BigInt(o.offset) })).sort((a, b) => a.partition - b.partition);
    },
    committed: async (groupId, topics) => {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      return new Map(committed.map((t) => [t.topic, new Map(t.partitions.filter((p) => BigInt(p.offset) >= 0n).map((p) => [p.partition, BigInt(p.offset)]))]));
    },
    close: () => admin.disconnect(),
  };
}

class KafkaJsTransactions implements port.TransactionalProducer {
  readonly #producer: Producer;
  #fenced = false;

  constructor(producer: Producer) {
    this.#producer = producer;
  }

  async commit(messages: readonly port.OutMessage[], offsets: port.TransactionOffsets): Promise<void> {
    // A producer that has begun a transaction owns its id already: a fence has nothing left to do.
    this.#fenced = true;
    const tx = await this.#producer.transaction();
    try {
      for (const group of sizedGroups(messages)) await tx.sendBatch({ topicMessages: topicMessages(group), acks: -1 });
      await tx.sendOffsets({
        consumerGroupId: offsets.groupId,
        topics: [{ topic: offsets.topic, partitions: [{ partition: offsets.partition, offset: offsets.next.toString() }] }],
      });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  async fence(): Promise<void> {
    if (this.#fenced) return;
    // kafkajs sends InitProducerId on a producer's first transaction; aborting it empty sends nothing more.
    const tx = await this.#producer.transaction();
    await tx.abort();
    this.#fenced = true;
  }

  close(): Promise<void> {
    return this.#producer.disconnect();
  }
}

class KafkaJsGroupConsumer implements port.GroupConsumer {
  readonly #options: port.GroupConsumerOptions;
  readonly #consumer: Consumer;
  /** With a commit interval: the next offset of each partition's last resolved record, until it is committed. */
  readonly #resolved = new Map<string, { readonly topic: string; readonly partition: number; readonly offset: string }>();
  /** Bumped at every rebalance and join: a batch of an older generation adds nothing to commit. */
  #generation = 0;
  #lastCommitAt = 0;
  #stopping = false;
  /**
   * The running consumer's own commit of given offsets (kafkajs hands it to every batch): unlike
   * `Consumer.commitOffsets`, it sends once, with no retries that would outlast the generation or hold up a drain.
   */
  #commitOffsets: ((offsets: Offsets) => Promise<void>) | undefined;

  constructor(kafka: Kafka, options: port.GroupConsumerOptions, events: port.GroupEvents) {
    this.#options = options;
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTimeInMs: options.maxWaitMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytes,
      readUncommitted: false,
      retry: { retries: 10 },
      ...(options.copartitioned === true ? { partitionAssigners: [copartitionedAssigner] } : {}),
    });
    const { GROUP_JOIN, CRASH, STOP, REBALANCING } = this.#consumer.events;
    // Offsets resolved but not committed before a rebalance are the last generation's: committed with the next one,
    // they could overwrite the progress of a partition's new owner. Their records are read again (at-least-once).
    this.#consumer.on(GROUP_JOIN, (e) => {
      this.#generation++;
      this.#resolved.clear();
      events.joined(new Map(Object.entries(e.payload.memberAssignment)));
    });
    this.#consumer.on(REBALANCING, () => {
      this.#generation++;
      this.#resolved.clear();
      events.rebalancing();
    });
    this.#consumer.on(STOP, () => events.stopped());
    this.#consumer.on(CRASH, (e) => events.crashed(e.payload.error, e.payload.restart));
  }

  async run(eachBatch: (batch: port.FetchedBatch) => Promise<void>): Promise<void> {
    const { commits, groupId } = this.#options;
    this.#stopping = false;
    this.#resolved.clear();
    this.#commitOffsets = undefined;
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...this.#options.topics], fromBeginning: this.#options.fromBeginning });
    const intervalMs = commits === false ? 0 : commits.intervalMs;
    await this.#consumer.run({
      // No interval: kafkajs commits every batch's resolved offsets before the next (threshold 1), so a crash repeats
      // only what was in flight, and it commits them before it rejoins. An interval is kept here instead: kafkajs's
      // autoCommitInterval bounds only commitOffsetsIfNecessary, and its runner commits after every batch anyway.
      autoCommit: commits !== false && intervalMs === 0,
      ...(commits !== false && intervalMs === 0 ? { autoCommitThreshold: 1 } : {}),
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.concurrency,
      eachBatch: commits === false || intervalMs === 0 ? (payload) => eachBatch(toFetchedBatch(payload, groupId)) : (payload) => this.#withIntervalCommits(payload, eachBatch, intervalMs),
    });
  }

  /**
   * A batch under a commit interval. Its resolved offsets are committed when an interval has passed since the last
   * commit; before the batch's failure goes up (kafkajs rejoins or retries after it, as its own autoCommit does); and
   * when the consumer is stopping, before kafkajs leaves the group.
   */
  async #withIntervalCommits(payload: EachBatchPayload, eachBatch: (batch: port.FetchedBatch) => Promise<void>, intervalMs: number): Promise<void> {
    const { topic, partition } = payload.batch;
    const send = (offsets: Offsets): Promise<void> => payload.commitOffsetsIfNecessary(offsets);
    this.#commitOffsets = send;
    const commit = (): Promise<void> => this.#commitResolved(send);
    const generation = this.#generation;
    const batch: port.FetchedBatch = {
      ...toFetchedBatch(payload, this.#options.groupId),
      resolve: (offset) => {
        payload.resolveOffset(offset);
        if (generation === this.#generation) this.#resolved.set(`${topic}:${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
      },
      commitIfNecessary: () => (Date.now() - this.#lastCommitAt >= intervalMs ? commit() : Promise.resolve()),
    };
    try {
      await eachBatch(batch);
    } catch (err) {
      await commit().catch(() => undefined);
      throw err;
    }
    if (this.#stopping || !payload.isRunning()) await commit();
  }

  /** Commits what is resolved; an entry resolved again meanwhile stays for the next commit. */
  async #commitResolved(send: (offsets: Offsets) => Promise<void>): Promise<void> {
    if (this.#resolved.size === 0) return;
    const taken = [...this.#resolved.values()];
    this.#lastCommitAt = Date.now();
    await send({ topics: byTopic(taken, ({ partition, offset }) => ({ partition, offset })).map(([topic, partitions]) => ({ topic, partitions })) });
    for (const r of taken) {
      const key = `${r.topic}:${r.partition}`;
      if (this.#resolved.get(key) === r) this.#resolved.delete(key);
    }
  }

  async stop(): Promise<void> {
    // Batches that end from here on commit what they resolved themselves; what earlier ones left is committed
    // first, while the member is still in its generation (kafkajs's stop leaves the group).
    this.#stopping = true;
    const send = this.#commitOffsets;
    if (send !== undefined) await this.#commitResolved(send).catch(() => undefined);
    return this.#consumer.stop();
  }

  disconnect(): Promise<void> {
    return this.#consumer.disconnect();
  }
}

function toFetchedBatch(payload: EachBatchPayload, groupId: string): port.FetchedBatch {
  const { topic, partition } = payload.batch;
  return {
    topic,
    partition,
    records: payload.batch.messages.map((m) => toSourceRecord(topic, partition, m)),
    isRunning: () => payload.isRunning(),
    isStale: () => payload.isStale(),
    heartbeat: () => payload.heartbeat(),
    resolve: (offset) => payload.resolveOffset(offset),
    commitIfNecessary: () => payload.commitOffsetsIfNecessary(),
    transactionOffsets: (offset) => ({ groupId, topic, partition, next: BigInt(offset) + 1n, native: undefined }),
  };
}

function toSourceRecord(topic: string, partition: number, m: KafkaMessage): SourceRecord {
  return { topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers ?? {} };
}

/** kafkajs takes messages and offsets grouped by topic: `entry` of each item, in order, under its topic. */
function byTopic<T extends { readonly topic: string }, E>(items: readonly T[], entry: (item: T) => E): Array<[string, E[]]> {
  const topics = new Map<string, E[]>();
  for (const item of items) {
    let list = topics.get(item.topic);
    if (list === undefined) topics.set(item.topic, (list = []));
    list.push(entry(item));
  }
  return [...topics];
}

function topicMessages(messages: readonly port.OutMessage[]): TopicMessages[] {
  return byTopic(messages, (m) => ({ key: m.key, value: m.value, headers: m.headers as Record<string, Buffer | string | Array<Buffer | string>> })).map(([topic, msgs]) => ({ topic, messages: msgs }));
}

/** kafkajs's form of the co-partitioned assignment (kafka/assignment.ts). */
const copartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: COPARTITIONED_PROTOCOL,
  version: 0,
  assign({ members, topics }) {
    const counts = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).length]));
    const plan = copartitionedAssignment(members.map((m) => m.memberId), counts);
    return Promise.resolve(
      [...plan].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: Object.fromEntries(assignment), userData: Buffer.alloc(0) }),
      })),
    );
  },
  protocol({ topics }) {
    return { name: COPARTITIONED_PROTOCOL, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
