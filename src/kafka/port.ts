import type { SourceRecord } from '../pipeline/index.js';

/**
 * The Kafka port: the few operations the worker, ledger, replay, backfill and topic tools need. Everything outside
 * `src/kafka/` depends on these types only; `KAFKA_CLIENT` chooses the adapter (kafkajs or @platformatic/kafka).
 */
export type KafkaClientName = 'kafkajs' | 'platformatic';

export interface KafkaPort {
  readonly client: KafkaClientName;
  /** A connected admin client. */
  admin(): Promise<KafkaAdmin>;
  /** A connected producer writing with acks=all and idempotence, keys partitioned as the Java client does. */
  producer(options?: ProducerOptions): Promise<KafkaProducer>;
  /** A connected transactional producer (idempotent, acks=all) with a stable transactional id. */
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  /** A member of a consumer group (not connected until `run`). */
  groupConsumer(options: GroupConsumerOptions, events: GroupEvents): GroupConsumer;
  /**
   * Offsets [start, end) of one partition in order, read committed, by a reader that commits nothing. Records
   * arrive at the pace the caller takes them.
   */
  readRange(topic: string, partition: number, start: bigint, end: bigint): AsyncIterable<SourceRecord>;
  /** Every record of `topics` from the beginning, read committed, until closed; commits nothing. */
  tail(topics: readonly string[], onRecord: (record: SourceRecord) => void): Promise<TailReader>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** The first offset still in the log. */
  readonly low: bigint;
  /** The high watermark: the offset the next record will get. */
  readonly high: bigint;
}

export interface KafkaAdmin {
  listTopics(): Promise<string[]>;
  /** Creates the topics (replication factor: the broker default), waiting for their leaders. */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  partitions(topic: string): Promise<number[]>;
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, the first offset whose timestamp is at or after `timestampMs` (the high watermark if none). */
  offsetsAt(topic: string, timestampMs: number): Promise<Array<{ readonly partition: number; readonly offset: bigint }>>;
  /** The group's committed offsets (the next offset to read) per topic and partition; partitions without one are absent. */
  committed(groupId: string, topics: readonly string[]): Promise<Map<string, Map<number, bigint>>>;
  close(): Promise<void>;
}

export interface OutMessage {
  readonly topic: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, Buffer | string | ReadonlyArray<Buffer | string>>>;
}

export interface ProducerOptions {
  /**
   * Give up a write after about this long instead of the client's own long retry, for callers that retry with
   * backoff themselves (the worker).
   */
  readonly boundedRetries?: boolean;
}

export interface KafkaProducer {
  /**
   * Resolves once every message is acknowledged by all in-sync replicas. Messages of more than MAX_SEND_BYTES go in
   * several requests, one after another: when a later one fails, the earlier ones are written all the same.
   * `bytes`, when given, is recordBytes summed over `messages` (a caller that sized them already saves the adapter
   * sizing them again, about 120 ns a message).
   */
  send(messages: readonly OutMessage[], bytes?: number): Promise<void>;
  close(): Promise<void>;
}

/** A consumer position to commit inside a transaction: the batch it came from and the last record taken. */
export interface TransactionOffsets {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read (last taken + 1). */
  readonly next: bigint;
  /** What the adapter that fetched the batch needs (e.g. the group generation the records were fetched in). */
  readonly native: unknown;
}

export interface TransactionalProducer {
  /** One transaction: the messages and the consumer position, committed together or aborted together. */
  commit(messages: readonly OutMessage[], offsets: TransactionOffsets): Promise<void>;
  /**
   * Claims the transactional id now rather than at the first commit (InitProducerId): an earlier owner's open
   * transaction is ended by the coordinator, and that owner can commit nothing more. Idempotent.
   */
  fence(): Promise<void>;
  close(): Promise<void>;
}

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How long a fetch may wait at the broker for data. */
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
  /** Partitions whose batches are handled at once (they meet in the shared micro-batcher). */
  readonly concurrency: number;
  /**
   * At-least-once: resolved offsets are committed by the consumer (every `commitIfNecessary`, or at most every
   * `intervalMs`); exactly-once: `false`, offsets go into the producer's transaction.
   */
  readonly commits: false | { readonly intervalMs: number };
  /**
   * Partition i of every subscribed topic goes to one member (kafka/assignment.ts), for joins of topics keyed
   * alike; otherwise the client's default assignment.
   */
  readonly copartitioned?: boolean;
}

export type Assignment = ReadonlyMap<string, readonly number[]>;

export interface GroupEvents {
  /** The member (re)joined its group with this assignment. */
  readonly joined: (assignment: Assignment) => void;
  /** A rebalance started: the assignment is no longer known. */
  readonly rebalancing: () => void;
  readonly stopped: () => void;
  /**
   * The consumer failed. `restarting`: the client runs it again itself; otherwise it stays down until `run` is
   * called again.
   */
  readonly crashed: (error: Error, restarting: boolean) => void;
}

/** Records of one partition handed to the worker, with the controls of the batch they came in. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly SourceRecord[];
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once the partition may have moved to another member (a rebalance since the fetch). */
  isStale(): boolean;
  /** Keeps the membership alive during long work (a no-op for clients that heartbeat on their own). */
  heartbeat(): Promise<void>;
  /** Marks records up to and including `offset` as done. */
  resolve(offset: string): void;
  /** Commits resolved offsets when the commit policy says so (at-least-once). */
  commitIfNecessary(): Promise<void>;
  /** The position after `offset`, for a transaction. */
  transactionOffsets(offset: string): TransactionOffsets;
}

export interface GroupConsumer {
  /** Connects, subscribes and starts handing batches to `eachBatch` (resolves once the loop runs). */
  run(eachBatch: (batch: FetchedBatch) => Promise<void>): Promise<void>;
  /** Stops fetching, waits for the batches being handled and commits what they resolved. */
  stop(): Promise<void>;
  /** Leaves the group and closes the connections. */
  disconnect(): Promise<void>;
}

export interface TailReader {
  /** Whether the reader has its partitions (no record can arrive before). */
  readonly joined: boolean;
  close(): Promise<void>;
}
