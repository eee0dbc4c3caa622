import type { KafkaAdmin, KafkaPort } from '../kafka/index.js';
import type { PartitionLag } from '../metrics/index.js';
import { ScorerError } from '../errors.js';

/** A scrape waits at most this long for the brokers; Prometheus's own scrape timeout is usually 10 s. */
const LAG_TIMEOUT_MS = 3_000;
/** Scrapes closer together than this share one read (two Prometheus replicas, or a dashboard refresh). */
const LAG_CACHE_MS = 1_000;

/**
 * Reads the consumer group's lag for the partitions this member owns: the partition's end offset minus the
 * group's committed offset (or minus its start offset when nothing is committed yet). Only owned partitions, so
 * summing over replicas counts each partition once.
 */
export class ConsumerLagReader {
  readonly #kafka: KafkaPort;
  readonly #groupId: string;
  #admin: Promise<KafkaAdmin> | undefined;
  #last: { at: number; value: Promise<PartitionLag[]> } | undefined;
  #closed = false;

  constructor(kafka: KafkaPort, groupId: string) {
    this.#kafka = kafka;
    this.#groupId = groupId;
  }

  read(assignment: ReadonlyMap<string, readonly number[]>): Promise<PartitionLag[]> {
    const now = Date.now();
    if (this.#last !== undefined && now - this.#last.at < LAG_CACHE_MS) return this.#last.value;
    const value = withTimeout(this.#read(assignment), LAG_TIMEOUT_MS);
    this.#last = { at: now, value };
    // A failed read is not cached: the next scrape tries again.
    value.catch(() => {
      if (this.#last?.value === value) this.#last = undefined;
    });
    return value;
  }

  async #read(assignment: ReadonlyMap<string, readonly number[]>): Promise<PartitionLag[]> {
    if (assignment.size === 0 || this.#closed) return [];
    const admin = await this.#connect();
    const topics = [...assignment.keys()];
    const [committed, ends] = await Promise.all([admin.committed(this.#groupId, topics), Promise.all(topics.map((topic) => admin.offsets(topic)))]);
    const lags: PartitionLag[] = [];
    topics.forEach((topic, i) => {
      const owned = new Set(assignment.get(topic));
      const committedByPartition = committed.get(topic);
      for (const end of ends[i] ?? []) {
        if (!owned.has(end.partition)) continue;
        const lag = end.high - (committedByPartition?.get(end.partition) ?? end.low);
        lags.push({ topic, partition: end.partition, lag: Number(lag > 0n ? lag : 0n) });
      }
    });
    return lags;
  }

  #connect(): Promise<KafkaAdmin> {
    this.#admin ??= this.#kafka.admin().catch((err: unknown) => {
      this.#admin = undefined;
      throw err;
    });
    return this.#admin;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const admin = this.#admin;
    this.#admin = undefined;
    await (await admin?.catch(() => undefined))?.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ScorerError('KAFKA_ADMIN_FAILED', `consumer lag read timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
