// Before any fetch: read_committed consumers see no record of an aborted transaction (see aborted.ts).
import './aborted.js';
import { readFileSync } from 'node:fs';
import {
  Admin,
  type BaseOptions,
  Consumer,
  findErrorBy,
  FetchIsolationLevels,
  type GroupPartitionsAssigner,
  ListOffsetTimestamps,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  type SASLOptions,
} from '@platformatic/kafka';
import type { KafkaConfig } from '../../config/index.js';
import { ScorerError } from '../../errors.js';
import type { Logger } from '../../logging/index.js';
import type { SourceRecord } from '../../pipeline/index.js';
import type * as port from '../port.js';
import { bufferedRange, type RangeSink } from '../range.js';
import { MAX_SEND_BYTES, sizedGroups } from '../sized.js';
import { COPARTITIONED_PROTOCOL, copartitionedAssignment } from '../assignment.js';
import { untilLeaders } from '../topics.js';
import { type BufferConsumer, type BufferStream, type Msg, javaCompatiblePartitioner, toProduce, toSourceRecord } from './records.js';
import { PlatformaticTail } from './tail.js';

/** Records fetched but not yet handed to the worker before the stream is paused (memory: about 2 MiB of JSON events). */
const MAX_QUEUED = 4_096;
/** Records of one partition handed over at a time (the worker cuts them into chunks). */
const MAX_BATCH = 1_024;

/** The Kafka port over @platformatic/kafka. */
export class PlatformaticPort implements port.KafkaPort {
  readonly client = 'platformatic' as const;
  readonly #base: BaseOptions;
  readonly #log: Logger;

  constructor(config: KafkaConfig, logger: Logger) {
    this.#base = baseOptions(config);
    this.#log = logger.child({ component: 'platformatic-kafka' });
  }

  async admin(): Promise<port.KafkaAdmin> {
    return Promise.resolve(new PlatformaticAdmin(new Admin({ ...this.#base, clientId: `${this.#base.clientId}-admin` })));
  }

  async producer(options: port.ProducerOptions = {}): Promise<port.KafkaProducer> {
    const producer = new Producer({
      ...this.#base,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // The Java-compatible partitioner: a key lands on the same partition whichever client wrote it.
      partitioner: javaCompatiblePartitioner,
      autocreateTopics: false,
      // An idempotent producer retries for ever unless given a bound above one; the worker retries with backoff.
      ...(options.boundedRetries === true ? { retries: 5, retryDelay: 200 } : {}),
    });
    await producer.metadata({ topics: [] }).catch(async (err: unknown) => {
      await producer.close(true).catch(() => undefined);
      throw err;
    });
    return {
      send: async (messages, bytes) => {
        for (const group of sizedGroups(messages, MAX_SEND_BYTES, bytes)) await producer.send({ messages: group.map(toProduce) });
      },
      close: () => producer.close(true),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<port.TransactionalProducer> {
    const producer = new Producer({
      ...this.#base,
      idempotent: true,
      transactionalId,
      acks: ProduceAcks.ALL,
      partitioner: javaCompatiblePartitioner,
      autocreateTopics: false,
      // InitProducerId must say "no producer yet" (-1/-1): with the client's default 0/0 the coordinator answers
      // PRODUCER_FENCED for ever once an earlier owner of this transactional id died (a killed worker, a moved
      // partition), so the id could never be used again.
      producerId: -1n,
      producerEpoch: -1,
      // A claim waits out the id's completing transaction (CONCURRENT_TRANSACTIONS, milliseconds): back off from
      // 20 ms rather than the client's flat second, to about 3 s in all.
      retries: 8,
      retryDelay: (_client: unknown, _operation: string, attempt: number) => Math.min(1_000, 20 * 2 ** (attempt - 1)),
    });
    // beginTransaction sends InitProducerId (claiming the id); a fence begins the next transaction early, since
    // ending an empty one would be refused by the coordinator.
    let next: ReturnType<typeof producer.beginTransaction> | undefined;
    let used = false;
    return Promise.resolve({
      fence: async (): Promise<void> => {
        // A producer that has begun a transaction owns its id already.
        if (used && next === undefined) return;
        used = true;
        next ??= producer.beginTransaction();
        await next;
      },
      commit: async (messages: readonly port.OutMessage[], offsets: port.TransactionOffsets): Promise<void> => {
        used = true;
        const { consumer, message } = offsets.native as { consumer: Consumer; message: Msg };
        const begun = next ?? producer.beginTransaction();
        next = undefined;
        const tx = await begun;
        try {
          for (const group of sizedGroups(messages)) await tx.send({ messages: group.map(toProduce) });
          await tx.addConsumer(consumer);
          // TxnOffsetCommit with the group generation the record was fetched in (KIP-447): a member that lost the
          // partition in a rebalance cannot commit it.
          await tx.addOffset(message);
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => undefined);
          throw err;
        }
      },
      close: () => producer.close(true),
    });
  }

  groupConsumer(options: port.GroupConsumerOptions, events: port.GroupEvents): port.GroupConsumer {
    return new PlatformaticGroupConsumer(this.#base, options, events, this.#log);
  }

  readRange(topic: string, partition: number, start: bigint, end: bigint): AsyncIterable<SourceRecord> {
    return bufferedRange(start, end, (sink) => this.#readInto(topic, partition, sink));
  }

  async #readInto(topic: string, partition: number, sink: RangeSink): Promise<() => Promise<void>> {
    const consumer = this.#throwAwayConsumer('range');
    let stream: BufferStream;
    try {
      stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.MANUAL, offsets: [{ topic, partition, offset: sink.next() }], autocommit: false });
    } catch (err) {
      await consumer.close(true).catch(() => undefined);
      throw err;
    }
    const key = `${topic}:${partition}`;
    let pending: Promise<void> | undefined;
    const progress = (records: SourceRecord[], readTo: bigint): void => {
      const pushed = sink.push(records, readTo);
      if (pending === undefined) {
        stream.pause();
        pending = pushed.then(() => {
          pending = undefined;
          stream.resume();
        });
      }
    };
    stream.on('data', (m: Msg) => {
      if (m.partition === partition) progress([toSourceRecord(m)], m.offset + 1n);
    });
    // Transaction markers take offsets no record reaches: once every fetched record was delivered, the stream's
    // next fetch position tells how far the partition was read.
    stream.on('fetch', () => {
      if (stream.readableLength === 0) progress([], stream.offsetsToFetch.get(key) ?? sink.next());
    });
    stream.on('error', (err: Error) => sink.fail(new ScorerError('KAFKA_UNAVAILABLE', `reading ${topic}[${partition}] failed: ${err.message}`, { cause: err })));
    return async () => {
      await stream.close().catch(() => undefined);
      await consumer.close(true);
    };
  }

  tail(topics: readonly string[], onRecord: (record: SourceRecord) => void): Promise<port.TailReader> {
    return PlatformaticTail.open(topics, onRecord, () => this.#throwAwayConsumer('tail'), this.#log);
  }

  #throwAwayConsumer(kind: string): BufferConsumer {
    return new Consumer({
      ...this.#base,
      groupId: `opportunity-scorer-${kind}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      maxWaitTime: 100,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      autocommit: false,
    });
  }
}

class PlatformaticAdmin implements port.KafkaAdmin {
  readonly #admin: Admin;

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  listTopics(): Promise<string[]> {
    return this.#admin.listTopics();
  }

  async createTopics(specs: readonly port.TopicSpec[]): Promise<void> {
    // One request per distinct configuration: configs apply to every topic of a request.
    for (const spec of specs) {
      await this.#admin.createTopics({
        topics: [{ topic: spec.topic, partitions: spec.partitions }],
        replicas: -1, // broker default: works on one node and on a cluster
        configs: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
      });
    }
    const topics = specs.map((s) => s.topic);
    await untilLeaders(topics, async () => {
      const md = await this.#admin.metadata({ topics, forceUpdate: true });
      return topics.every((t) => md.topics.get(t)?.partitions.every((p) => p.leader >= 0) === true);
    });
  }

  async partitions(topic: string): Promise<number[]> {
    const md = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
    return Array.from({ length: md.topics.get(topic)?.partitionsCount ?? 0 }, (_, i) => i);
  }

  async offsets(topic: string): Promise<port.PartitionOffsets[]> {
    const [low, high] = await Promise.all([this.#listed(topic, ListOffsetTimestamps.EARLIEST), this.#listed(topic, ListOffsetTimestamps.LATEST)]);
    return [...high].map(([partition, h]) => ({ partition, low: low.get(partition) ?? 0n, high: h })).sort((a, b) => a.partition - b.partition);
  }

  async offsetsAt(topic: string, timestampMs: number): Promise<Array<{ partition: number; offset: bigint }>> {
    const [at, high] = await Promise.all([this.#listed(topic, BigInt(timestampMs)), this.#listed(topic, ListOffsetTimestamps.LATEST)]);
    return [...high].map(([partition, h]) => {
      const o = at.get(partition);
      return { partition, offset: o === undefined || o < 0n ? h : o };
    }).sort((a, b) => a.partition - b.partition);
  }

  async #listed(topic: string, timestamp: bigint): Promise<Map<number, bigint>> {
    const partitions = await this.partitions(topic);
    const listed = await this.#admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    return new Map(listed.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.offset] as const)));
  }

  async committed(groupId: string, topics: readonly string[]): Promise<Map<string, Map<number, bigint>>> {
    // Every topic of the group, filtered here: a topic asked for with no partition indexes comes back empty.
    const groups = await this.#admin.listConsumerGroupOffsets({ groups: [groupId] });
    const out = new Map<string, Map<number, bigint>>(topics.map((t) => [t, new Map()]));
    for (const t of groups[0]?.topics ?? []) {
      for (const p of t.partitions) if (p.committedOffset >= 0n) out.get(t.name)?.set(p.partitionIndex, p.committedOffset);
    }
    return out;
  }

  close(): Promise<void> {
    return this.#admin.close();
  }
}

interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  messages: Msg[];
  busy: boolean;
}

interface Resolved {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
}

/**
 * A group member over one messages stream. The stream fetches ahead of the worker (decoupled, heartbeats on its
 * own); records wait in per-partition queues, and up to `concurrency` partitions are handed to the worker at once,
 * one batch per partition at a time, so order within a partition holds. The stream is paused while the queues are
 * full. On every group join the stream is replaced once the batches in flight have settled: the new one starts
 * from the committed offsets, and whatever the old one had fetched is dropped, as kafkajs drops a rebalanced fetch.
 */
class PlatformaticGroupConsumer implements port.GroupConsumer {
  readonly #base: BaseOptions;
  readonly #options: port.GroupConsumerOptions;
  readonly #events: port.GroupEvents;
  readonly #log: Logger;
  #consumer: BufferConsumer | undefined;
  #stream: BufferStream | undefined;
  #eachBatch: ((batch: port.FetchedBatch) => Promise<void>) | undefined;
  /** Bumped on every rebalance and join: batches of an older epoch are stale. */
  #epoch = 0;
  #running = false;
  readonly #queues = new Map<string, PartitionQueue>();
  #queued = 0;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #resolved = new Map<string, Resolved>();
  #lastCommitAt = 0;
  #committing: Promise<void> | undefined;
  #commitAgain = false;
  #swapping: Promise<void> | undefined;
  #rotate = 0;
  #schedulePending = false;

  constructor(base: BaseOptions, options: port.GroupConsumerOptions, events: port.GroupEvents, log: Logger) {
    this.#base = base;
    this.#options = options;
    this.#events = events;
    this.#log = log;
  }

  async run(eachBatch: (batch: port.FetchedBatch) => Promise<void>): Promise<void> {
    this.#eachBatch = eachBatch;
    const o = this.#options;
    const consumer = new Consumer({
      ...this.#base,
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTime: o.maxWaitMs,
      maxBytes: o.maxBytes,
      maxBytesPerPartition: o.maxBytesPerPartition,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      autocommit: false,
      retries: 10,
      ...(o.copartitioned === true ? { protocols: [{ name: COPARTITIONED_PROTOCOL, version: 0 }], partitionAssigner: copartitionedAssigner } : {}),
    });
    this.#consumer = consumer;
    consumer.on('consumer:group:rebalance', () => {
      // No commit here: the client commits with the generation current when the request leaves, which after the
      // rejoin would be accepted for partitions that moved and overwrite their new owner's progress.
      this.#nextEpoch();
      this.#events.rebalancing();
    });
    // A heartbeat the broker refuses for good (the group's ACL removed) stops this consumer even when no commit is
    // due, as kafkajs's crash does; the worker then runs it again with backoff.
    consumer.on('consumer:heartbeat:error', ({ error }: { error: Error }) => {
      if (refusedForGood(error)) this.#fail(withReasons(error));
    });
    consumer.on('consumer:group:join', () => {
      // The first join happens inside consume(), before there is a stream to replace.
      if (this.#stream === undefined || this.#consumer !== consumer) return;
      const swap: Promise<void> = this.#swap(consumer).finally(() => {
        if (this.#swapping === swap) this.#swapping = undefined;
      });
      this.#swapping = swap;
    });
    // The client gave up (a rejoin that kept failing): the worker runs the consumer again with backoff.
    consumer.on('error', (error: Error) => this.#fail(withReasons(error)));
    this.#running = true;
    try {
      this.#attach(await this.#open(consumer));
    } catch (err) {
      this.#running = false;
      this.#consumer = undefined;
      await consumer.close(true).catch(() => undefined);
      throw withReasons(err);
    }
    this.#events.joined(this.#assignment());
  }

  #open(consumer: BufferConsumer): Promise<BufferStream> {
    return consumer.consume({
      topics: [...this.#options.topics],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: this.#options.fromBeginning ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
      autocommit: false,
    });
  }

  #attach(stream: BufferStream): void {
    this.#stream = stream;
    const epoch = this.#epoch;
    stream.on('data', (m: Msg) => {
      if (stream !== this.#stream || epoch !== this.#epoch) return;
      const key = `${m.topic}:${m.partition}`;
      let q = this.#queues.get(key);
      if (q === undefined) this.#queues.set(key, (q = { topic: m.topic, partition: m.partition, messages: [], busy: false }));
      q.messages.push(m);
      this.#queued++;
      if (this.#queued >= MAX_QUEUED) stream.pause();
      // The client pushes a fetch response's records one at a time, synchronously. Scheduling once they are all
      // queued hands each partition's records over as one batch; scheduling at the first record sent that one alone
      // and held the rest until it was written (two sends where one would do: p99 13–24 ms at 2,000 events/s
      // against 7–12).
      if (!this.#schedulePending) {
        this.#schedulePending = true;
        queueMicrotask(() => {
          this.#schedulePending = false;
          this.#schedule();
        });
      }
    });
    stream.on('error', (err: Error) => {
      if (stream !== this.#stream) return;
      this.#fail(withReasons(err));
    });
  }

  /** A join: settle the old epoch's batches, commit what they resolved, then read on from the committed offsets. */
  async #swap(consumer: BufferConsumer): Promise<void> {
    await this.#swapping;
    const old = this.#stream;
    if (old === undefined || this.#consumer !== consumer || !this.#running) return;
    this.#nextEpoch();
    await Promise.allSettled([...this.#inFlight]);
    await this.#commitAll(this.#assignment());
    if (this.#consumer !== consumer || !this.#running) return;
    try {
      this.#attach(await this.#open(consumer));
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      await old.close().catch(() => undefined);
    }
    this.#events.joined(this.#assignment());
  }

  #dropQueues(): void {
    this.#queues.clear();
    this.#queued = 0;
  }

  /**
   * Everything fetched so far belongs to the past: batches in flight turn stale, and the records still queued are
   * dropped with the stream's fetch position. A later batch of a partition must never run after an earlier one was
   * abandoned, or committing it would skip the abandoned records; they are read again from the committed offset.
   */
  #nextEpoch(): void {
    this.#epoch++;
    this.#stream?.pause();
    this.#dropQueues();
  }

  #assignment(): port.Assignment {
    return new Map((this.#consumer?.assignments ?? []).map((a) => [a.topic, [...a.partitions]]));
  }

  #schedule(): void {
    const handler = this.#eachBatch;
    if (handler === undefined || !this.#running) return;
    const queues = [...this.#queues.values()];
    for (let i = 0; i < queues.length && this.#inFlight.size < this.#options.concurrency; i++) {
      const q = queues[(this.#rotate + i) % queues.length] as PartitionQueue;
      if (q.busy || q.messages.length === 0) continue;
      const messages = q.messages.length <= MAX_BATCH ? q.messages : q.messages.slice(0, MAX_BATCH);
      q.messages = q.messages.length <= MAX_BATCH ? [] : q.messages.slice(MAX_BATCH);
      this.#queued -= messages.length;
      q.busy = true;
      const run = handler(this.#batch(q, messages, this.#epoch))
        .catch((err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          q.busy = false;
          this.#inFlight.delete(run);
          if (this.#queued < MAX_QUEUED / 2 && this.#stream?.isPaused() === true && this.#running && this.#swapping === undefined) this.#stream.resume();
          this.#schedule();
        });
      this.#inFlight.add(run);
    }
    this.#rotate++;
  }

  #batch(q: PartitionQueue, messages: Msg[], epoch: number): port.FetchedBatch {
    const { topic, partition } = q;
    const consumer = this.#consumer;
    const byOffset = (offset: string): Msg => {
      const wanted = BigInt(offset);
      const found = messages.findLast((m) => m.offset === wanted);
      if (found === undefined) throw new ScorerError('INTERNAL', `offset ${offset} is not in the batch of ${topic}[${partition}]`);
      return found;
    };
    return {
      topic,
      partition,
      records: messages.map(toSourceRecord),
      isRunning: () => this.#running,
      isStale: () => epoch !== this.#epoch,
      heartbeat: () => Promise.resolve(),
      resolve: (offset) => {
        const m = byOffset(offset);
        this.#resolved.set(`${topic}:${partition}`, { topic, partition, offset: m.offset + 1n, leaderEpoch: m.leaderEpoch });
      },
      commitIfNecessary: () => {
        const commits = this.#options.commits;
        if (commits !== false && Date.now() - this.#lastCommitAt >= commits.intervalMs) this.#commitSoon();
        return Promise.resolve();
      },
      transactionOffsets: (offset) => ({ groupId: this.#options.groupId, topic, partition, next: BigInt(offset) + 1n, native: { consumer, message: byOffset(offset) } }),
    };
  }

  /**
   * Commits in the background, one request at a time: the next batch need not wait a commit round trip, and what
   * is resolved meanwhile goes with the following commit. Only published records are ever resolved, so a crash
   * before a commit lands repeats them (at-least-once), never skips them.
   */
  #commitSoon(): void {
    if (this.#committing !== undefined) {
      this.#commitAgain = true;
      return;
    }
    this.#committing = this.#commitResolved(this.#assignment()).finally(() => {
      this.#committing = undefined;
      if (this.#commitAgain) {
        this.#commitAgain = false;
        this.#commitSoon();
      }
    });
  }

  /** Waits for background commits, then commits what is still resolved. */
  async #commitAll(assignment: port.Assignment): Promise<void> {
    while (this.#committing !== undefined) await this.#committing;
    await this.#commitResolved(assignment);
  }

  /**
   * Commits the resolved offsets of partitions still assigned (a revoked partition's offset would overwrite its new
   * owner's progress). A failed commit keeps them for the next attempt: records are repeated, never skipped.
   */
  async #commitResolved(assignment: port.Assignment): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#options.commits === false || this.#resolved.size === 0) return;
    const offsets = [...this.#resolved.values()].filter((r) => assignment.get(r.topic)?.includes(r.partition) === true);
    this.#resolved.clear();
    this.#lastCommitAt = Date.now();
    if (offsets.length === 0) return;
    try {
      await consumer.commit({ offsets: offsets.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, leaderEpoch: r.leaderEpoch })) });
    } catch (err) {
      for (const r of offsets) {
        const key = `${r.topic}:${r.partition}`;
        if (!this.#resolved.has(key)) this.#resolved.set(key, r);
      }
      const error = err instanceof Error ? err : new Error(String(err));
      // A rebalance (a rejoin follows) or a passing outage: the offsets go with a later commit. A refusal the
      // broker will repeat (the group's ACL taken away, say) stops this consumer, as kafkajs's crash does, and the
      // worker runs it again with backoff.
      if (refusedForGood(error)) {
        this.#fail(withReasons(error));
        return;
      }
      this.#log.info({ err: withReasons(error).message }, 'committing offsets failed; they are committed with the next batch');
    }
  }

  #fail(error: Error): void {
    if (!this.#running) return;
    this.#running = false;
    this.#nextEpoch();
    this.#events.crashed(error, false);
  }

  async stop(): Promise<void> {
    const wasRunning = this.#running;
    this.#running = false;
    this.#stream?.pause();
    await this.#swapping;
    await Promise.allSettled([...this.#inFlight]);
    await this.#commitAll(this.#assignment());
    this.#dropQueues();
    if (wasRunning) this.#events.stopped();
  }

  async disconnect(): Promise<void> {
    this.#running = false;
    const consumer = this.#consumer;
    const stream = this.#stream;
    this.#consumer = undefined;
    this.#stream = undefined;
    this.#dropQueues();
    await Promise.allSettled([...this.#inFlight]);
    await stream?.close().catch(() => undefined);
    // close() leaves the group, so the partitions move on without waiting for the session timeout.
    await consumer?.close(true);
  }
}

/** A broker answer that will not change on retry and is not a rebalance (an authorization failure, say). */
function refusedForGood(error: Error): boolean {
  return findErrorBy(error, 'needsRejoin', true) === null && findErrorBy(error, 'canRetry', false) !== null;
}

/**
 * The client's errors wrap the broker's answers (`errors`, e.g. "Group authorization failed."): one message
 * naming them all, so a log line or a start-up failure says what the broker refused.
 */
function withReasons(err: unknown): Error {
  const reasons = new Set<string>();
  const walk = (e: unknown, depth: number): void => {
    if (depth > 4 || !(e instanceof Error)) return;
    const nested = (e as Error & { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.length > 0) for (const n of nested) walk(n, depth + 1);
    else if (depth > 0) reasons.add(e.message);
    walk(e.cause, depth + 1);
  };
  walk(err, 0);
  const error = err instanceof Error ? err : new Error(String(err));
  if (reasons.size === 0) return error;
  return new Error(`${error.message}: ${[...reasons].join('; ')}`, { cause: error });
}

function baseOptions(config: KafkaConfig): BaseOptions {
  return {
    clientId: config.clientId,
    bootstrapBrokers: [...config.brokers],
    connectTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    ...(config.ssl === false ? {} : { tls: { rejectUnauthorized: config.ssl.rejectUnauthorized, ...(config.ssl.caFile === undefined ? {} : { ca: [readFileSync(config.ssl.caFile, 'utf8')] }) } }),
    ...(config.sasl === undefined ? {} : { sasl: toSasl(config.sasl) }),
  };
}

function toSasl(sasl: NonNullable<KafkaConfig['sasl']>): SASLOptions {
  const mechanism = ({ plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const)[sasl.mechanism];
  return { mechanism, username: sasl.username, password: sasl.password };
}

/** @platformatic/kafka's form of the co-partitioned assignment (kafka/assignment.ts). */
const copartitionedAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const counts = new Map([...topics].map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]));
  return [...copartitionedAssignment([...members.keys()], counts)].map(([memberId, plan]) => ({
    memberId,
    assignments: new Map([...plan].map(([topic, partitions]) => [topic, { topic, partitions }])),
  }));
};
