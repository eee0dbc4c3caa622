import type { KafkaPort, TransactionalProducer } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';

/**
 * One transactional producer per input partition, with a stable transactional id derived from the group, topic
 * and partition. kafkajs has no KIP-447 (group-aware fencing), so this is how a zombie is fenced with either client:
 * when a partition moves to another worker, that worker's producer initialises the same transactional id and the
 * old one's next commit fails (kafkajs docs/Transactions.md).
 */
export class TransactionalProducers {
  readonly #kafka: KafkaPort;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #producers = new Map<string, Promise<TransactionalProducer>>();

  constructor(kafka: KafkaPort, transactionalIdPrefix: string, logger: Logger) {
    this.#kafka = kafka;
    this.#prefix = transactionalIdPrefix;
    this.#logger = logger;
  }

  get(topic: string, partition: number): Promise<TransactionalProducer> {
    const key = `${topic}:${partition}`;
    let producer = this.#producers.get(key);
    if (producer === undefined) {
      producer = this.#kafka.transactionalProducer(`${this.#prefix}.${topic}.${partition}`);
      this.#producers.set(key, producer);
      producer.catch(() => this.#producers.delete(key));
    }
    return producer;
  }

  /** Drops (and closes) the producer of a partition, e.g. after it was fenced or revoked. */
  async discard(topic: string, partition: number): Promise<void> {
    const key = `${topic}:${partition}`;
    const producer = this.#producers.get(key);
    this.#producers.delete(key);
    await producer?.then((p) => p.close()).catch((err: unknown) => this.#logger.warn({ err, topic, partition }, 'closing a transactional producer failed'));
  }

  /** Keeps the producers of `assigned` partitions ("topic:partition") and closes the rest. */
  async retain(assigned: ReadonlySet<string>): Promise<void> {
    await Promise.all(
      [...this.#producers.keys()].filter((k) => !assigned.has(k)).map(async (k) => {
        const [topic, partition] = [k.slice(0, k.lastIndexOf(':')), Number(k.slice(k.lastIndexOf(':') + 1))];
        await this.discard(topic, partition);
      }),
    );
  }

  get connected(): number {
    return this.#producers.size;
  }

  async closeAll(): Promise<void> {
    await this.retain(new Set());
  }
}
