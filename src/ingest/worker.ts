import { ScorerError, findScorerError, isRetriable } from '../errors.js';
import { Lifecycle, type LifecycleView, runSteps } from '../lifecycle/index.js';
import type { Logger } from '../logging/index.js';
import type { Metrics, PartitionLag } from '../metrics/index.js';
import type { OutRecord, ProcessedChunk, SourceRecord } from '../pipeline/index.js';
import { createPublisher, type Delivery, type Publisher } from '../publish/index.js';
import { type FetchedBatch, type GroupConsumer, type KafkaPort, type OutMessage, requireTopics } from '../kafka/index.js';
import { ConsumerLagReader } from './lag.js';

export type { Delivery };

const RESTART_INITIAL_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export interface WorkerOptions {
  readonly kafka: KafkaPort;
  readonly groupId: string;
  readonly inputTopics: readonly string[];
  readonly outputTopic: string;
  readonly deadLetterTopic: string;
  /** Where shadow results go (required when a shadow bundle runs). */
  readonly shadowTopic?: string | undefined;
  readonly delivery: Delivery;
  /**
   * Records handed to the processor at a time (each chunk is published, then its offsets resolved); a publisher that
   * covers more records per publish (exactly-once transactions) gets chunks of up to that many.
   */
  readonly chunkSize: number;
  /** Partitions processed concurrently (their chunks meet in the shared micro-batcher). */
  readonly partitionsConsumedConcurrently: number;
  readonly fromBeginning: boolean;
  /** A member that sends no heartbeat for this long is removed from the group and its partitions reassigned. */
  readonly sessionTimeoutMs: number;
  /** At-least-once: 0 commits after every published chunk; more commits at most this often. */
  readonly commitIntervalMs?: number | undefined;
  /** Exactly-once: input records one transaction covers at most (default: one chunk). */
  readonly transactionMaxRecords?: number | undefined;
  readonly process: (records: readonly SourceRecord[]) => Promise<ProcessedChunk>;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** Called before fetching stops on drain, so queued rows are dispatched without waiting for the batch delay. */
  readonly onDrain?: () => void;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** Partition i of every input topic to one member (for the monitor's join of topics keyed alike). */
  readonly copartitioned?: boolean;
  /** Called on every group join, before the first batch of the new assignment. */
  readonly onJoined?: (assignment: ReadonlyMap<string, readonly number[]>) => void;
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
  readonly #lifecycle: Lifecycle;
  readonly #options: WorkerOptions;
  readonly #consumer: GroupConsumer;
  readonly #publisher: Publisher;
  readonly #log: Logger;
  #joined = false;
  #restarting = false;
  /** The last crash the client will not recover from; cleared before each run, so a run that crashed while joining shows. */
  #crash: Error | undefined;
  #restartDelayMs = RESTART_INITIAL_MS;
  #assignment: ReadonlyMap<string, readonly number[]> = new Map();
  readonly #lag: ConsumerLagReader;
  /** Per partition ("topic:partition") since the last join: the committed offset found by settling it. */
  readonly #settled = new Map<string, bigint>();
  #stopping: Promise<void> | undefined;
  #started = false;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'worker' });
    this.#lifecycle = new Lifecycle(this.#log);
    this.#lag = new ConsumerLagReader(options.kafka, options.groupId);
    this.#publisher = createPublisher(options.delivery, options.kafka, options.groupId, this.#log, { transactionMaxRecords: options.transactionMaxRecords });
    this.#consumer = options.kafka.groupConsumer(
      {
        groupId: options.groupId,
        topics: options.inputTopics,
        fromBeginning: options.fromBeginning,
        sessionTimeoutMs: options.sessionTimeoutMs,
        rebalanceTimeoutMs: Math.max(60_000, options.sessionTimeoutMs),
        heartbeatIntervalMs: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
        maxWaitMs: 100,
        maxBytesPerPartition: 1 << 20,
        maxBytes: 10 << 20,
        concurrency: options.partitionsConsumedConcurrently,
        commits: this.#publisher.consumerCommits ? { intervalMs: options.commitIntervalMs ?? 0 } : false,
        copartitioned: options.copartitioned === true,
      },
      {
        joined: (assignment) => {
          this.#joined = true;
          this.#restartDelayMs = RESTART_INITIAL_MS;
          this.#assignment = assignment;
          this.#settled.clear();
          this.#log.info({ assignment: Object.fromEntries(assignment) }, 'joined the consumer group');
          this.#publisher.assigned(new Set([...assignment].flatMap(([topic, parts]) => parts.map((p) => `${topic}:${p}`))));
          options.onJoined?.(assignment);
        },
        rebalancing: () => {
          this.#joined = false;
          this.#assignment = new Map();
          this.#settled.clear();
        },
        stopped: () => {
          this.#joined = false;
        },
        crashed: (error, restart) => this.#onCrash(error, restart),
      },
    );
  }

  /** The worker's state, read-only: only the worker moves it. */
  get lifecycle(): LifecycleView {
    return this.#lifecycle.view;
  }

  #onCrash(error: Error, restart: boolean): void {
    this.#joined = false;
    this.#log.error({ err: error, restart }, 'consumer crashed');
    if (restart) {
      this.#options.metrics?.consumerRestarts.inc({ by: 'client' });
      return;
    }
    this.#crash = error;
    if (!this.#lifecycle.is('running', 'starting')) return;
    // Our own non-retriable errors are bugs: restarting would repeat them. Everything else the client gives up on
    // (a broker down longer than its retries, no group coordinator) is the cluster's state, which passes.
    if (this.#lifecycle.is('starting') || (findScorerError(error) !== undefined && !isRetriable(error))) {
      this.#lifecycle.to('failed', `consumer crashed: ${error.message}`);
      return;
    }
    void this.#restartConsumer();
  }

  readiness(): WorkerReadiness {
    const reasons: string[] = [];
    if (!this.#lifecycle.is('running')) reasons.push(`worker is ${this.#lifecycle.state}`);
    if (!this.#joined) reasons.push('consumer has not joined its group');
    reasons.push(...this.#publisher.notReady());
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Exactly-once: claims the transactional id of `topic`/`partition` now (see Publisher.fence), for callers that read
   * what an earlier owner published before they process (the monitor's rebuild). Retriable on failure.
   */
  fence(topic: string, partition: number): Promise<void> {
    return this.#publisher.fence(topic, partition);
  }

  /** The partitions this member owns now (empty while rebalancing). */
  get assignment(): ReadonlyMap<string, readonly number[]> {
    return this.#assignment;
  }

  /** Lag of the partitions this member owns, read from the brokers now (for the scrape-time lag gauge). */
  lag(): Promise<PartitionLag[]> {
    return this.#lag.read(this.#assignment);
  }

  /** Starts once; a second call is a bug. A failed start leaves what it opened for `stop()` to close. */
  async start(): Promise<void> {
    if (this.#started) throw new ScorerError('INTERNAL', `worker.start() called twice (state ${this.#lifecycle.state})`);
    this.#started = true;
    const admin = await this.#options.kafka.admin();
    try {
      const shadow = this.#options.shadowTopic === undefined ? [] : [this.#options.shadowTopic];
      await requireTopics(admin, [...this.#options.inputTopics, this.#options.outputTopic, this.#options.deadLetterTopic, ...shadow]);
    } finally {
      await admin.close();
    }
    await this.#publisher.start();
    // kafkajs reports a failed join as a crash event, @platformatic/kafka as an error of run(): the same failure.
    await this.#runConsumer().catch((err: unknown) => {
      this.#crash = err instanceof Error ? err : new Error(String(err));
    });
    if (this.#crash !== undefined) {
      // At start-up a consumer that cannot join (no access to the group, say) is a deployment error: fail fast.
      throw new ScorerError('KAFKA_UNAVAILABLE', `the consumer of group ${this.#options.groupId} crashed while starting: ${this.#crash.message} (check the group's ACLs for this user, and that the brokers are reachable)`, { cause: this.#crash, retriable: false });
    }
    this.#lifecycle.to('running');
    this.#log.info({ delivery: this.#options.delivery, topics: this.#options.inputTopics }, 'worker running');
  }

  /**
   * Runs the consumer again after the client gave up on it, with backoff (1 s doubling to 30 s, reset when the group
   * is joined), until it runs or the worker drains. Readiness stays off meanwhile; offsets were only ever committed
   * for written work, so the new run resumes where the old one left off.
   */
  async #restartConsumer(): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    try {
      while (this.#lifecycle.is('running')) {
        const delay = this.#restartDelayMs;
        this.#restartDelayMs = Math.min(RESTART_MAX_MS, delay * 2);
        this.#log.warn({ retryInMs: delay }, 'restarting the consumer');
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (!this.#lifecycle.is('running')) return;
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
    await this.#consumer.run((batch) => this.#eachBatch(batch));
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
    if (!this.#lifecycle.is('draining')) this.#lifecycle.to('draining');
    this.#options.onDrain?.();
    const failed = await runSteps(
      [
        ['stop consuming and commit', () => this.#consumer.stop()],
        ['leave the group', () => this.#consumer.disconnect()],
        ['close the lag reader', () => this.#lag.close()],
        ['close producers', () => this.#publisher.close()],
      ],
      this.#log,
      'drain',
    );
    this.#lifecycle.to(failed ? 'failed' : 'stopped');
  }

  async #eachBatch(batch: FetchedBatch): Promise<void> {
    const { topic, records } = batch;
    const isRunning = (): boolean => batch.isRunning();
    const isStale = (): boolean => batch.isStale();
    const heartbeat = (): Promise<void> => batch.heartbeat();
    const { metrics } = this.#options;
    const chunkSize = Math.max(this.#options.chunkSize, this.#publisher.recordsPerPublish ?? 0);
    if (!this.#settled.has(partitionKey(batch))) {
      if ((await this.#retrying('settle', () => this.#settle(batch), isRunning, isStale, heartbeat)) === undefined) return;
    }
    for (let i = 0; i < records.length; i += chunkSize) {
      if (!isRunning() || isStale() || this.#lifecycle.is('failed')) return; // unresolved records are fetched again
      const chunk = this.#unwritten(batch, records.slice(i, i + chunkSize));
      const last = chunk[chunk.length - 1];
      if (last === undefined) continue;
      metrics?.eventsConsumed.inc({ topic }, chunk.length);
      metrics?.inFlight.inc(chunk.length);
      try {
        const processed = await this.#retrying('process', () => this.#options.process(chunk), isRunning, isStale, heartbeat).catch((err: unknown) => this.#failOn(err));
        if (processed === undefined) return;
        let attempts = 0;
        const published = await this.#retrying(
          'publish',
          async () => {
            // A commit that failed may have reached the coordinator (a timeout after EndTxn, say): before trying
            // again, learn where the partition stands, and write nothing its committed offset covers.
            if (attempts++ > 0 && (await this.#settle(batch)) > BigInt(last.offset)) return true;
            try {
              return await this.#publish(batch, processed, last.offset);
            } catch (err) {
              // The attempt may have committed. However this handler goes on (a retry, or a heartbeat that throws
              // and kafkajs fetching the chunk again without a rejoin), the partition is settled again before
              // anything more of it is written.
              this.#settled.delete(partitionKey(batch));
              throw err;
            }
          },
          isRunning,
          isStale,
          heartbeat,
        );
        if (published === undefined) return;
        batch.resolve(last.offset);
        this.#observePublished(processed);
      } finally {
        metrics?.inFlight.dec(chunk.length);
      }
      await heartbeat();
      if (this.#publisher.consumerCommits) {
        const end = metrics?.stageDuration.startTimer({ stage: 'commit' });
        await batch.commitIfNecessary();
        end?.();
      }
    }
  }

  /**
   * Exactly-once: where the partition stands now (Publisher.settle). Done before its first batch after each join,
   * since the starting offset the consumer fetched may predate a commit that was still completing (a former owner's,
   * or this member's own just before a rejoin), and again before a failed publish is tried again. Records below the
   * result are skipped (#unwritten).
   */
  async #settle(batch: FetchedBatch): Promise<bigint> {
    const committed = await this.#publisher.settle(batch.topic, batch.partition);
    this.#settled.set(partitionKey(batch), committed);
    return committed;
  }

  /** The records of `chunk` that no committed transaction covers; those before them are resolved as done. */
  #unwritten(batch: FetchedBatch, chunk: readonly SourceRecord[]): readonly SourceRecord[] {
    const { topic, partition } = batch;
    const from = this.#settled.get(partitionKey(batch)) ?? 0n;
    const first = chunk[0];
    if (first === undefined || BigInt(first.offset) >= from) return chunk;
    const unwritten = chunk.filter((r) => BigInt(r.offset) >= from);
    const written = chunk.length - unwritten.length;
    this.#log.info({ topic, partition, from: first.offset, committed: from.toString(), skipped: written }, 'skipping records a committed transaction of this partition covers');
    batch.resolve((chunk[written - 1] as SourceRecord).offset);
    return unwritten;
  }

  /**
   * An error retrying cannot fix, in processing: the worker fails (readiness off, the service drains and exits
   * non-zero) and the restart policy above it decides. The chunk stays uncommitted, so nothing is lost.
   */
  #failOn(err: unknown): undefined {
    const code = findScorerError(err)?.code ?? 'unknown error (a bug)';
    this.#log.error({ err }, `processing failed with ${code}; retrying cannot fix it, the worker stops`);
    if (this.#lifecycle.is('running', 'starting')) this.#lifecycle.to('failed', `processing failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }

  async #publish(batch: FetchedBatch, processed: ProcessedChunk, lastOffset: string): Promise<true> {
    const { outputTopic, deadLetterTopic, shadowTopic } = this.#options;
    const messages: OutMessage[] = [
      ...processed.outputs.map((r) => toMessage(outputTopic, r)),
      ...processed.deadLetters.map((r) => toMessage(deadLetterTopic, r)),
      ...(shadowTopic === undefined ? [] : processed.shadowOutputs.map((r) => toMessage(shadowTopic, r))),
    ];
    const end = this.#options.metrics?.stageDuration.startTimer({ stage: 'produce' });
    try {
      await this.#publisher.publish(messages, batch, lastOffset);
    } catch (err) {
      const counts = new Map<string, number>();
      for (const m of messages) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
      for (const t of counts.keys()) this.#options.metrics?.produceErrors.inc({ topic: t });
      throw new ScorerError('PUBLISH_FAILED', `writing ${[...counts].map(([t, n]) => `${n} to ${t}`).join(', ')} failed`, { cause: err });
    } finally {
      end?.();
    }
    return true;
  }

  #observePublished(processed: ProcessedChunk): void {
    const metrics = this.#options.metrics;
    if (metrics === undefined) return;
    const now = Date.now();
    const sinceDetected = metrics.eventAge.labels({ clock: 'detected' });
    const sinceRecord = metrics.eventAge.labels({ clock: 'kafka' });
    for (const t of processed.scoredTimes) {
      sinceDetected.observe(Math.max(0, now - t.detectedAt) / 1000);
      if (Number.isFinite(t.recordTime)) sinceRecord.observe(Math.max(0, now - t.recordTime) / 1000);
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
        // Only errors of our own that say so are retried; anything else (a TypeError, say) is a bug to fail on.
        if (!isRetriable(err)) throw err;
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

function partitionKey(batch: Pick<FetchedBatch, 'topic' | 'partition'>): string {
  return `${batch.topic}:${batch.partition}`;
}

function toMessage(topic: string, r: OutRecord): OutMessage {
  return { topic, key: r.key, value: r.value, headers: r.headers };
}
