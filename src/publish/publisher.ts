import type { FetchedBatch, KafkaAdmin, KafkaPort, KafkaProducer, OutMessage } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';
import { SendQueue } from './send-queue.js';
import { TransactionalProducers } from './transactional.js';
import { ScorerError } from '../errors.js';

export type Delivery = 'at-least-once' | 'exactly-once';

/**
 * How a chunk's outputs reach Kafka and how its input offsets are settled: one strategy per delivery mode, so the
 * worker has no delivery-mode branches.
 */
export interface Publisher {
  readonly delivery: Delivery;
  /** Whether the consumer commits resolved offsets itself (at-least-once), or the publisher does (exactly-once). */
  readonly consumerCommits: boolean;
  /**
   * The most input records one publish should cover, or undefined for one chunk each. At-least-once writes are
   * cheap and leave soonest a chunk at a time; a transaction costs round trips, so it takes more of a fetched batch.
   */
  readonly recordsPerPublish: number | undefined;
  /** Connects what must exist before consuming starts. */
  start(): Promise<void>;
  /**
   * Writes `messages` (acks=all). Exactly-once commits the consumer position after `lastOffset` in the same
   * transaction; at-least-once leaves the offsets to the consumer, after this resolves.
   */
  publish(messages: readonly OutMessage[], batch: FetchedBatch, lastOffset: string): Promise<void>;
  /** The partitions ("topic:partition") this member owns after a join. */
  assigned(partitions: ReadonlySet<string>): void;
  /**
   * Exactly-once: claims the partition's transactional id anew (a new producer epoch) before any work on it, so an
   * earlier owner's open transaction ends and it can commit nothing more, and a transaction still completing (ours
   * too) has completed when this resolves (at-least-once: nothing to do).
   */
  fence(topic: string, partition: number): Promise<void>;
  /**
   * Exactly-once: claims the partition's transactional id anew (fence: so a transaction an earlier owner, an earlier
   * attempt of this one or this member's last commit left completing has completed either way) and returns the
   * group's committed offset for it: records below it are written already and must not be processed again. The
   * consumer's own starting offset cannot say this, as neither client asks for stable offsets (KIP-447's
   * require_stable). At-least-once: 0, nothing is checked.
   */
  settle(topic: string, partition: number): Promise<bigint>;
  /** Why the publisher cannot write now (empty when it can). */
  notReady(): string[];
  /** Lets writes in flight settle, refuses new ones and closes every producer. Idempotent. */
  close(): Promise<void>;
}

export interface PublisherOptions {
  /** Exactly-once: input records one transaction covers at most. */
  readonly transactionMaxRecords?: number | undefined;
}

export function createPublisher(delivery: Delivery, kafka: KafkaPort, groupId: string, logger: Logger, options: PublisherOptions = {}): Publisher {
  return delivery === 'exactly-once' ? new ExactlyOncePublisher(kafka, groupId, logger, options.transactionMaxRecords) : new AtLeastOncePublisher(kafka, logger);
}

/**
 * One idempotent producer behind a send queue. A failed write replaces the producer (once per failure, however many
 * callers saw it): kafkajs can leave a producer whose write failed in a state that never recovers, and the caller
 * retries the chunk on the new one.
 */
class AtLeastOncePublisher implements Publisher {
  readonly delivery = 'at-least-once' as const;
  readonly consumerCommits = true;
  readonly recordsPerPublish = undefined;
  readonly #kafka: KafkaPort;
  readonly #log: Logger;
  #producer: KafkaProducer | undefined;
  #queue: SendQueue | undefined;
  #generation = 0;
  #resetting: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(kafka: KafkaPort, logger: Logger) {
    this.#kafka = kafka;
    this.#log = logger;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const producer = await this.#kafka.producer({ boundedRetries: true });
    if (this.#closed) {
      // The drain closed the publisher meanwhile: a producer connected now would never be closed.
      await producer.close();
      return;
    }
    this.#producer = producer;
    this.#queue = new SendQueue(producer);
  }

  async publish(messages: readonly OutMessage[]): Promise<void> {
    const generation = this.#generation;
    const queue = this.#queue;
    if (queue === undefined) {
      // The last replacement could not connect (the brokers were down): try again, and let the caller back off.
      await this.#reset(generation).catch((err: unknown) => this.#log.warn({ err }, 'connecting the producer failed'));
      throw new ScorerError('KAFKA_UNAVAILABLE', 'the producer is not connected');
    }
    try {
      await queue.send(messages);
    } catch (err) {
      await this.#reset(generation).catch((resetErr: unknown) => this.#log.warn({ err: resetErr }, 'replacing the producer failed'));
      throw err;
    }
  }

  #reset(generation: number): Promise<void> {
    if (generation !== this.#generation || this.#closed) return this.#resetting ?? Promise.resolve();
    this.#generation++;
    this.#resetting = (async () => {
      const old = this.#producer;
      const queue = this.#queue;
      this.#producer = undefined;
      this.#queue = undefined;
      await queue?.close();
      await old?.close().catch(() => undefined);
      await this.#connect();
    })();
    return this.#resetting;
  }

  assigned(): void {}

  fence(): Promise<void> {
    return Promise.resolve();
  }

  settle(): Promise<bigint> {
    return Promise.resolve(0n);
  }

  notReady(): string[] {
    return this.#producer === undefined ? ['producer is not connected'] : [];
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      // A chunk of a crashed consumer run can still be publishing, and a replacement producer connecting: let
      // them settle first, so no connection outlives the drain.
      await this.#resetting?.catch(() => undefined);
      const producer = this.#producer;
      this.#producer = undefined;
      await this.#queue?.close();
      await producer?.close();
    })();
    return this.#closing;
  }
}

/** Each chunk's writes and its consumer position in one transaction of the input partition's producer. */
class ExactlyOncePublisher implements Publisher {
  readonly delivery = 'exactly-once' as const;
  readonly consumerCommits = false;
  readonly recordsPerPublish: number | undefined;
  readonly #kafka: KafkaPort;
  readonly #groupId: string;
  readonly #log: Logger;
  readonly #producers: TransactionalProducers;
  #admin: Promise<KafkaAdmin> | undefined;

  constructor(kafka: KafkaPort, groupId: string, logger: Logger, transactionMaxRecords: number | undefined) {
    this.#kafka = kafka;
    this.recordsPerPublish = transactionMaxRecords;
    this.#groupId = groupId;
    this.#log = logger;
    this.#producers = new TransactionalProducers(kafka, groupId, logger);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  async publish(messages: readonly OutMessage[], batch: FetchedBatch, lastOffset: string): Promise<void> {
    const { topic, partition } = batch;
    const producer = await this.#producers.get(topic, partition);
    try {
      await producer.commit(messages, batch.transactionOffsets(lastOffset));
    } catch (err) {
      // A fenced or broken producer is replaced on the next attempt.
      await this.#producers.discard(topic, partition);
      throw err;
    }
  }

  assigned(partitions: ReadonlySet<string>): void {
    void this.#producers.retain(partitions);
  }

  async fence(topic: string, partition: number): Promise<void> {
    // A new producer each time, so the claim is a new InitProducerId even when this member owns the id already: the
    // coordinator answers it only once every earlier transaction of the id, our own last one included, has completed
    // (its markers written, its offsets in the group). A commit is acknowledged before that, so a producer that has
    // committed cannot serve as the barrier (kafkajs's OffsetFetch has no require_stable to wait instead).
    await this.#producers.discard(topic, partition);
    try {
      await (await this.#producers.get(topic, partition)).fence();
    } catch (err) {
      await this.#producers.discard(topic, partition);
      throw new ScorerError('KAFKA_UNAVAILABLE', `claiming the transactional id of ${topic}[${partition}] failed`, { cause: err });
    }
  }

  async settle(topic: string, partition: number): Promise<bigint> {
    await this.fence(topic, partition);
    try {
      const admin = await (this.#admin ??= this.#kafka.admin());
      return (await admin.committed(this.#groupId, [topic])).get(topic)?.get(partition) ?? 0n;
    } catch (err) {
      const admin = this.#admin;
      this.#admin = undefined;
      await admin?.then((a) => a.close()).catch(() => undefined);
      throw new ScorerError('KAFKA_UNAVAILABLE', `reading the committed offset of ${topic}[${partition}] for group ${this.#groupId} failed`, { cause: err });
    }
  }

  notReady(): string[] {
    return [];
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.then((a) => a.close()).catch((err: unknown) => this.#log.warn({ err }, 'closing the admin client failed'));
    await this.#producers.closeAll();
  }
}
