import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import { ScorerError, findScorerError, isRetriable } from '../errors.js';
import { Lifecycle } from '../lifecycle/index.js';
import type { Logger } from '../logging/index.js';
import type { Metrics, PartitionLag } from '../metrics/index.js';
import type { OutRecord, ProcessedChunk, SourceRecord } from '../pipeline/index.js';
import { SendQueue, TransactionalProducers } from '../publish/index.js';
import { requireTopics } from '../kafka/index.js';
import { ConsumerLagReader } from './lag.js';

export type Delivery = 'at-least-once' | 'exactly-once';

const RESTART_INITIAL_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export interface WorkerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly inputTopics: readonly string[];
  readonly outputTopic: string;
  readonly deadLetterTopic: string;
  /** Where shadow results go (required when a shadow bundle runs). */
  readonly shadowTopic?: string | undefined;
  readonly delivery: Delivery;
  /** Records handed to the processor at a time (each chunk is published, then its offsets resolved). */
  readonly chunkSize: number;
  /** Partitions processed concurrently (their chunks meet in the shared micro-batcher). */
  readonly partitionsConsumedConcurrently: number;
  readonly fromBeginning: boolean;
  /** A member that sends no heartbeat for this long is removed from the group and its partitions reassigned. */
  readonly sessionTimeoutMs: number;
  /** At-least-once: 0 commits after every published chunk; more commits at most this often. */
  readonly commitIntervalMs?: number | undefined;
  readonly process: (records: readonly SourceRecord[]) => Promise<ProcessedChunk>;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** Called before fetching stops on drain, so queued rows are dispatched without waiting for the batch delay. */
  readonly onDrain?: () => void;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
}

export interface WorkerReadiness {
  readonly ready: boolean;
  readonly reasons: string[];
}

/**
 * The Kafka loop: consume → process (decode, validate, score, encode) → publish outputs and dead letters →
 * resolve offsets. At-least-once: offsets are committed only after the writes for them are acknowledged.
 * Exactly-once: each chunk's writes and its offsets go in one transaction of the partition's producer.
 */
export class KafkaWorker {
  readonly lifecycle = new Lifecycle();
  readonly #options: WorkerOptions;
  readonly #consumer: Consumer;
  #producer: Producer | undefined;
  #sendQueue: SendQueue | undefined;
  #producerGeneration = 0;
  #resetting: Promise<void> | undefined;
  #producersClosed = false;
  readonly #txProducers: TransactionalProducers | undefined;
  readonly #log: Logger;
  #joined = false;
  #restarting = false;
  /** The last crash kafkajs will not recover from; cleared before each run, so a run that crashed while joining shows. */
  #crash: Error | undefined;
  #restartDelayMs = RESTART_INITIAL_MS;
  #assignment: ReadonlyMap<string, readonly number[]> = new Map();
  readonly #lag: ConsumerLagReader;
  #producerConnected = false;
  #stopping: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'worker' });
    this.#lag = new ConsumerLagReader(options.kafka, options.groupId);
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs),
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 1 << 20,
      maxBytes: 10 << 20,
      readUncommitted: false,
      retry: { retries: 10 },
    });
    if (options.delivery === 'exactly-once') {
      this.#txProducers = new TransactionalProducers(options.kafka, `${options.groupId}`, this.#log);
    } else {
      this.#producer = this.#newProducer();
      this.#sendQueue = new SendQueue(this.#producer);
    }
    const { GROUP_JOIN, CRASH, STOP, REBALANCING } = this.#consumer.events;
    this.#consumer.on(GROUP_JOIN, (e) => {
      this.#joined = true;
      this.#restartDelayMs = RESTART_INITIAL_MS;
      const assignment = e.payload.memberAssignment;
      this.#assignment = new Map(Object.entries(assignment));
      this.#log.info({ assignment }, 'joined the consumer group');
      const assigned = new Set([...this.#assignment].flatMap(([topic, parts]) => parts.map((p) => `${topic}:${p}`)));
      void this.#txProducers?.retain(assigned);
    });
    this.#consumer.on(REBALANCING, () => {
      this.#joined = false;
      this.#assignment = new Map();
    });
    this.#consumer.on(STOP, () => {
      this.#joined = false;
    });
    this.#consumer.on(CRASH, (e) => {
      this.#joined = false;
      const { error, restart } = e.payload;
      this.#log.error({ err: error, restart }, 'consumer crashed');
      if (restart) {
        this.#options.metrics?.consumerRestarts.inc({ by: 'client' });
        return;
      }
      this.#crash = error;
      if (!this.lifecycle.is('running', 'starting')) return;
      // Our own non-retriable errors are bugs: restarting would repeat them. Everything else kafkajs gives up on
      // (a broker down longer than its retries, no group coordinator) is the cluster's state, which passes.
      if (this.lifecycle.is('starting') || (findScorerError(error) !== undefined && !isRetriable(error))) {
        this.lifecycle.to('failed', `consumer crashed: ${error.message}`);
        return;
      }
      void this.#restartConsumer();
    });
  }

  /**
   * The at-least-once producer. kafkajs would retry an idempotent producer's failed write forever inside one
   * call, so the worker could neither heartbeat nor back off; its own retries are bounded here (about 2 s) and the
   * worker's loop retries with backoff and heartbeats. (kafkajs warns that limited retries weaken its idempotence;
   * after a failed write this producer is replaced, and at-least-once allows the duplicates that can follow.)
   */
  #newProducer(): Producer {
    return this.#options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The Java-compatible partitioner: a key lands on the same partition whichever client wrote it.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }

  /** Replaces the at-least-once producer after a failed write (once per failure, however many callers saw it). */
  async #resetProducer(generation: number): Promise<void> {
    if (generation !== this.#producerGeneration || this.#producersClosed) return this.#resetting;
    this.#resetting = (async () => {
      this.#producerGeneration++;
      const old = this.#producer;
      this.#producerConnected = false;
      await this.#sendQueue?.close();
      await old?.disconnect().catch(() => undefined);
      const fresh = this.#newProducer();
      await fresh.connect();
      if (this.#producersClosed) {
        // The drain closed the producers meanwhile: a producer connected now would never be closed.
        await fresh.disconnect();
        return;
      }
      this.#producer = fresh;
      this.#sendQueue = new SendQueue(fresh);
      this.#producerConnected = true;
    })();
    return this.#resetting;
  }

  readiness(): WorkerReadiness {
    const reasons: string[] = [];
    if (!this.lifecycle.is('running')) reasons.push(`worker is ${this.lifecycle.state}`);
    if (!this.#joined) reasons.push('consumer has not joined its group');
    if (this.#producer !== undefined && !this.#producerConnected) reasons.push('producer is not connected');
    return { ready: reasons.length === 0, reasons };
  }

  /** Lag of the partitions this member owns, read from the brokers now (for the scrape-time lag gauge). */
  lag(): Promise<PartitionLag[]> {
    return this.#lag.read(this.#assignment);
  }

  async start(): Promise<void> {
    const admin = this.#options.kafka.admin();
    await admin.connect();
    try {
      const shadow = this.#options.shadowTopic === undefined ? [] : [this.#options.shadowTopic];
      await requireTopics(admin, [...this.#options.inputTopics, this.#options.outputTopic, this.#options.deadLetterTopic, ...shadow]);
    } finally {
      await admin.disconnect();
    }
    if (this.#producer !== undefined) {
      await this.#producer.connect();
      this.#producerConnected = true;
    }
    await this.#runConsumer();
    if (this.#crash !== undefined) {
      // At start-up a consumer that cannot join (no access to the group, say) is a deployment error: fail fast.
      throw new ScorerError('KAFKA_UNAVAILABLE', `the consumer of group ${this.#options.groupId} crashed while starting: ${this.#crash.message} (check the group's ACLs for this user, and that the brokers are reachable)`, { cause: this.#crash, retriable: false });
    }
    this.lifecycle.to('running');
    this.#log.info({ delivery: this.#options.delivery, topics: this.#options.inputTopics }, 'worker running');
  }

  /**
   * Runs the consumer again after kafkajs gave up on it, with backoff (1 s doubling to 30 s, reset when the group
   * is joined), until it runs or the worker drains. Readiness stays off meanwhile; offsets were only ever committed
   * for written work, so the new run resumes where the old one left off.
   */
  async #restartConsumer(): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    try {
      while (this.lifecycle.is('running')) {
        const delay = this.#restartDelayMs;
        this.#restartDelayMs = Math.min(RESTART_MAX_MS, delay * 2);
        this.#log.warn({ retryInMs: delay }, 'restarting the consumer');
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (!this.lifecycle.is('running')) return;
        this.#options.metrics?.consumerRestarts.inc({ by: 'worker' });
        try {
          await this.#consumer.disconnect().catch(() => undefined);
          this.#crash = undefined;
          await this.#runConsumer();
          // kafkajs reports a failed join as a crash event, not as an error of run(): that run is no success.
          if (this.#crash === undefined) return;
          this.#log.warn('the restarted consumer crashed while joining its group');
        } catch (err) {
          this.#log.warn({ err }, 'restarting the consumer failed');
        }
      }
    } finally {
      this.#restarting = false;
    }
  }

  async #runConsumer(): Promise<void> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...this.#options.inputTopics], fromBeginning: this.#options.fromBeginning });
    await this.#consumer.run({
      autoCommit: this.#options.delivery === 'at-least-once',
      // Threshold 1: every chunk's resolved offsets are committed before the next chunk (a crash repeats only
      // what was in flight). An interval trades that for fewer commit round trips.
      ...(this.#options.commitIntervalMs ? { autoCommitInterval: this.#options.commitIntervalMs } : { autoCommitThreshold: 1 }),
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  /**
   * Drains in a fixed order: readiness off (state draining) → queued rows dispatched → fetching stops, the running
   * chunk is published and its offsets committed → the group is left → producers closed. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#drain();
    return this.#stopping;
  }

  async #drain(): Promise<void> {
    if (!this.lifecycle.is('draining')) this.lifecycle.to('draining');
    this.#options.onDrain?.();
    const steps: Array<[string, () => Promise<void>]> = [
      ['stop consuming and commit', () => this.#consumer.stop()],
      ['leave the group', () => this.#consumer.disconnect()],
      ['close the lag reader', () => this.#lag.close()],
      ['close producers', async () => {
        // A chunk of a crashed consumer run can still be publishing (kafkajs does not wait for it when it gives
        // up): let its writes and any producer replacement settle first, so no connection outlives the drain.
        this.#producersClosed = true;
        await this.#resetting?.catch(() => undefined);
        await this.#sendQueue?.close();
        await this.#producer?.disconnect();
        this.#producerConnected = false;
        await this.#txProducers?.closeAll();
      }],
    ];
    let failed = false;
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        failed = true;
        this.#log.error({ err, step: name }, 'drain step failed');
      }
    }
    this.lifecycle.to(failed ? 'failed' : 'stopped');
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    const isRunning = (): boolean => payload.isRunning();
    const isStale = (): boolean => payload.isStale();
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const { chunkSize, metrics } = this.#options;
    for (let i = 0; i < messages.length; i += chunkSize) {
      if (!isRunning() || isStale()) return; // unresolved messages are fetched again
      const chunk = messages.slice(i, i + chunkSize);
      const last = chunk[chunk.length - 1] as KafkaMessage;
      metrics?.eventsConsumed.inc({ topic }, chunk.length);
      metrics?.inFlight.inc(chunk.length);
      try {
        const records = chunk.map((m) => toSourceRecord(topic, partition, m));
        const processed = await this.#retrying('process', () => this.#options.process(records), isRunning, isStale, heartbeat);
        if (processed === undefined) return;
        const published = await this.#retrying('publish', () => this.#publish(topic, partition, processed, last.offset), isRunning, isStale, heartbeat);
        if (published === undefined) return;
        payload.resolveOffset(last.offset);
        this.#observePublished(processed);
      } finally {
        metrics?.inFlight.dec(chunk.length);
      }
      await heartbeat();
      if (this.#options.delivery === 'at-least-once') {
        const end = metrics?.stageDuration.startTimer({ stage: 'commit' });
        await payload.commitOffsetsIfNecessary();
        end?.();
      }
    }
  }

  async #publish(topic: string, partition: number, processed: ProcessedChunk, lastOffset: string): Promise<true> {
    const topicMessages: TopicMessages[] = [];
    if (processed.outputs.length > 0) topicMessages.push({ topic: this.#options.outputTopic, messages: processed.outputs.map(toMessage) });
    if (processed.deadLetters.length > 0) topicMessages.push({ topic: this.#options.deadLetterTopic, messages: processed.deadLetters.map(toMessage) });
    if (processed.shadowOutputs.length > 0 && this.#options.shadowTopic !== undefined) {
      topicMessages.push({ topic: this.#options.shadowTopic, messages: processed.shadowOutputs.map(toMessage) });
    }
    const end = this.#options.metrics?.stageDuration.startTimer({ stage: 'produce' });
    try {
      if (this.#sendQueue !== undefined) {
        const generation = this.#producerGeneration;
        try {
          await this.#sendQueue.send(topicMessages);
        } catch (err) {
          await this.#resetProducer(generation).catch((resetErr: unknown) => this.#log.warn({ err: resetErr }, 'replacing the producer failed'));
          throw err;
        }
      } else if (this.#txProducers !== undefined) {
        const producer = await this.#txProducers.get(topic, partition);
        const tx = await producer.transaction();
        try {
          if (topicMessages.length > 0) await tx.sendBatch({ topicMessages, acks: -1 });
          // The committed offset is the next one to read.
          await tx.sendOffsets({
            consumerGroupId: this.#options.groupId,
            topics: [{ topic, partitions: [{ partition, offset: (BigInt(lastOffset) + 1n).toString() }] }],
          });
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => undefined);
          // A fenced or broken producer is replaced on the next attempt.
          await this.#txProducers.discard(topic, partition);
          throw err;
        }
      }
    } catch (err) {
      for (const t of topicMessages) this.#options.metrics?.produceErrors.inc({ topic: t.topic });
      throw new ScorerError('PUBLISH_FAILED', `writing ${topicMessages.map((t) => `${t.messages.length} to ${t.topic}`).join(', ')} failed`, { cause: err });
    } finally {
      end?.();
    }
    return true;
  }

  #observePublished(processed: ProcessedChunk): void {
    const metrics = this.#options.metrics;
    if (metrics === undefined) return;
    const now = Date.now();
    for (const t of processed.scoredTimes) {
      metrics.eventAge.observe({ clock: 'detected' }, Math.max(0, now - t.detectedAt) / 1000);
      if (Number.isFinite(t.recordTime)) metrics.eventAge.observe({ clock: 'kafka' }, Math.max(0, now - t.recordTime) / 1000);
    }
  }

  /**
   * Runs `op` until it succeeds, backing off between attempts and heartbeating so the group keeps the member.
   * Gives up (undefined) when the consumer stops or the partition was revoked: the chunk stays unresolved and is
   * fetched again by whoever owns the partition next. Non-retriable errors of our own (bugs) propagate.
   */
  async #retrying<T>(what: string, op: () => Promise<T>, isRunning: () => boolean, isStale: () => boolean, heartbeat: () => Promise<void>): Promise<T | undefined> {
    const { initialMs, maxMs } = this.#options.retry ?? { initialMs: 100, maxMs: 5_000 };
    let delay = initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        const ours = findScorerError(err);
        if (ours !== undefined && !isRetriable(err)) throw err;
        // One line per attempt, without stacks: an outage repeats this many times.
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
        this.#log.warn({ code: ours?.code, error: err instanceof Error ? err.message : String(err), cause, attempt, retryInMs: delay }, `${what} failed; retrying`);
        if (what === 'publish') this.#options.metrics?.produceRetries.inc();
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(maxMs, delay * 2);
        if (!isRunning() || isStale()) return undefined;
        await heartbeat();
      }
    }
  }
}

function toSourceRecord(topic: string, partition: number, m: KafkaMessage): SourceRecord {
  return { topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers ?? {} };
}

function toMessage(r: OutRecord): { key: Buffer | string | null; value: Buffer; headers: OutRecord['headers'] } {
  return { key: r.key, value: r.value, headers: r.headers };
}
