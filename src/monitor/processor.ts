import type { DecodeOutcome, RecordDecoder } from '../codec/index.js';
import { JSON_CONTENT_TYPE } from '../codec/index.js';
import { ScorerError } from '../errors.js';
import type { KafkaAdmin, KafkaPort } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';
import { HEADER, type OutRecord, type ProcessedChunk, type SourceRecord, deadLetterRecord, headerText } from '../pipeline/index.js';
import { type EvaluatedPair, decodeEvaluated, encodeEvaluated } from './evaluated.js';
import { type ApplyResult, type Mode, OutcomeJoin } from './join.js';
import { type Read, readOutcome, readPrediction } from './records.js';
import type { JoinStore } from './store.js';

export interface MonitorTopics {
  readonly scored: string;
  readonly outcomes: string;
  readonly evaluated: string;
}

export interface MonitorProcessorOptions {
  readonly kafka: KafkaPort;
  readonly store: JoinStore;
  readonly topics: MonitorTopics;
  readonly groupId: string;
  /** Decoders of the scored topic (scored-opportunity.avsc) and the outcomes topic (outcome.avsc). */
  readonly scoredDecoder: RecordDecoder;
  readonly outcomeDecoder: RecordDecoder;
  readonly outcomeWindowMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly observe?: MonitorObserver;
  /**
   * Claims a partition's transactional ids (both input topics) before it is rebuilt, so a former owner's transaction
   * cannot complete after the evaluated topic was read (exactly-once; nothing to do otherwise).
   */
  readonly fence?: (partition: number) => Promise<void>;
}

/** What the processor reports as it goes (the composition root turns it into metrics). */
export interface MonitorObserver {
  readonly applied?: (side: 'scored' | 'outcomes', n: number) => void;
  readonly duplicates?: (side: 'scored' | 'outcomes', n: number) => void;
  readonly deadLettered?: (side: 'scored' | 'outcomes', reason: string) => void;
  readonly pairs?: (n: number) => void;
  readonly rebuilt?: (topic: string, records: number) => void;
}

/**
 * The monitor's chunk processing, run by the same Kafka loop as the scorer (one partition's records at a time,
 * outputs and offsets settled by its delivery mode): scored records and outcomes go into the join store, completed
 * pairs come out for the evaluated topic, unreadable records go to the dead-letter topic.
 *
 * Before the first chunk of a partition after a (re)join, the store catches up with what other members (or an
 * earlier store) did: the partition's pairs in the evaluated topic, then its scored records and outcomes in the
 * window that this store has not applied and that are already committed.
 */
export class MonitorProcessor {
  readonly #o: MonitorProcessorOptions;
  readonly #join: OutcomeJoin;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Partitions ("topic:partition") whose store is known current since the last group join. */
  readonly #current = new Set<string>();
  readonly #catchingUp = new Map<number, Promise<void>>();
  #admin: Promise<KafkaAdmin> | undefined;

  constructor(options: MonitorProcessorOptions) {
    this.#o = options;
    this.#join = new OutcomeJoin(options.store);
    this.#log = options.logger.child({ component: 'monitor' });
    this.#now = options.now ?? Date.now;
  }

  /** A group (re)join: partitions may have moved, so each is checked again before its next chunk. */
  rejoined(): void {
    this.#current.clear();
  }

  async process(records: readonly SourceRecord[]): Promise<ProcessedChunk> {
    const first = records[0];
    if (first === undefined) return { outputs: [], shadowOutputs: [], deadLetters: [], dropped: 0, scoredTimes: [] };
    const { topic, partition } = first;
    const side = this.#side(topic);
    const tag = recordTag(side, first);
    await this.#catchUp(topic, partition, Number(first.offset), tag);

    const decoder = side === 'scored' ? this.#o.scoredDecoder : this.#o.outcomeDecoder;
    const decoded = await decoder.decode(records.map((r) => ({ value: r.value, contentType: headerText(r.headers, HEADER.contentType) })));
    const deadLetters: OutRecord[] = [];
    const pairs: EvaluatedPair[] = [];
    let applied = 0;
    let duplicates = 0;
    const now = this.#now();
    this.#o.store.transaction(() => {
      records.forEach((record, i) => {
        const mode: Mode = { kind: 'live', tag: recordTag(side, record) };
        const d = decoded[i] ?? { ok: false, format: undefined, error: new ScorerError('INTERNAL', 'no decode outcome') };
        const result = this.#apply(side, d, record, partition, mode);
        if (!result.ok) {
          this.#o.observe?.deadLettered?.(side, result.code);
          deadLetters.push(deadLetterRecord(record, result.code, result.message, now));
          return;
        }
        applied++;
        if (result.duplicate) duplicates++;
        pairs.push(...result.pairs);
      });
      this.#o.store.advance(topic, partition, Number(records[records.length - 1]?.offset) + 1);
    });
    this.#o.observe?.applied?.(side, applied);
    if (duplicates > 0) this.#o.observe?.duplicates?.(side, duplicates);
    this.#o.observe?.pairs?.(pairs.length);
    const outputs = pairs.map((pair) => this.#output(pair, now));
    return { outputs, shadowOutputs: [], deadLetters, dropped: 0, scoredTimes: [] };
  }

  #output(pair: EvaluatedPair, now: number): OutRecord {
    const { scored, outcomes } = this.#o.topics;
    return {
      key: pair.id,
      value: encodeEvaluated(pair, scored, outcomes, now),
      headers: { [HEADER.contentType]: JSON_CONTENT_TYPE, [HEADER.modelBundle]: pair.prediction.bundle, [HEADER.modelVersion]: pair.prediction.version },
    };
  }

  #side(topic: string): 'scored' | 'outcomes' {
    if (topic === this.#o.topics.scored) return 'scored';
    if (topic === this.#o.topics.outcomes) return 'outcomes';
    throw new ScorerError('INTERNAL', `the monitor was handed a record of ${topic}`);
  }

  async #catchUp(topic: string, partition: number, first: number, tag: string): Promise<void> {
    const key = `${topic}:${partition}`;
    if (this.#current.has(key)) return;
    const stored = this.#o.store.position(topic, partition);
    if (stored !== undefined && stored >= first) {
      this.#current.add(key);
      return;
    }
    // One catch-up per partition at a time: the scored and outcomes chunks of a partition may arrive together.
    const running = this.#catchingUp.get(partition);
    if (running !== undefined) {
      await running;
      return this.#catchUp(topic, partition, first, tag);
    }
    const work = this.#rebuild(topic, partition, first, tag);
    this.#catchingUp.set(partition, work);
    try {
      await work;
      this.#current.add(key);
    } finally {
      this.#catchingUp.delete(partition);
    }
  }

  /**
   * Brings partition `partition` of the store up to date: pairs published to the evaluated topic (by anyone), then
   * `topic` up to `first` (where this member resumes) and the other input topic up to the group's committed offset.
   * Everything read here is committed, so its pairs were published when it was processed; a pair found complete
   * that the evaluated topic lacks is published now, by the live record `tag`. The partition's transactional ids are
   * claimed first: a former owner's transaction that passed its offset commit before the rebalance ends before the
   * evaluated topic is read, so its pairs are seen here and not published again.
   */
  async #rebuild(topic: string, partition: number, first: number, tag: string): Promise<void> {
    const { store, topics, groupId, kafka } = this.#o;
    const started = this.#now();
    await this.#o.fence?.(partition);
    const admin = await (this.#admin ??= kafka.admin());
    const since = started - this.#o.outcomeWindowMs;
    const startOf = async (t: string): Promise<number> => {
      const at = (await admin.offsetsAt(t, since)).find((p) => p.partition === partition)?.offset ?? 0n;
      return Math.max(Number(at), store.position(t, partition) ?? 0);
    };
    const other = topic === topics.scored ? topics.outcomes : topics.scored;
    const committed = (await admin.committed(groupId, [other])).get(other)?.get(partition);
    const evaluatedEnd = Number((await admin.offsets(topics.evaluated)).find((p) => p.partition === partition)?.high ?? 0n);
    const ranges: Array<[string, number, number]> = [
      [topics.evaluated, await startOf(topics.evaluated), evaluatedEnd],
      [topic, await startOf(topic), first],
      [other, await startOf(other), committed === undefined ? 0 : Number(committed)],
    ];
    for (const [t, start, end] of ranges) {
      if (end <= start) continue;
      const records: SourceRecord[] = [];
      for await (const r of kafka.readRange(t, partition, BigInt(start), BigInt(end))) records.push(r);
      await this.#applyRebuilt(t, partition, records, tag);
      store.advance(t, partition, end);
      this.#o.observe?.rebuilt?.(t, records.length);
    }
    this.#log.info({ topic, partition, ranges: ranges.map(([t, s, e]) => ({ topic: t, start: s, end: e })), ms: this.#now() - started }, 'join store caught up');
  }

  async #applyRebuilt(topic: string, partition: number, records: readonly SourceRecord[], tag: string): Promise<void> {
    const { store, topics } = this.#o;
    if (topic === topics.evaluated) {
      store.transaction(() => {
        for (const r of records) {
          const pair = decodeEvaluated(r.value, partition);
          if (pair !== undefined) this.#join.applyEvaluated(pair);
        }
      });
      return;
    }
    const side = this.#side(topic);
    const decoded = await (side === 'scored' ? this.#o.scoredDecoder : this.#o.outcomeDecoder).decode(records.map((r) => ({ value: r.value, contentType: headerText(r.headers, HEADER.contentType) })));
    const mode: Mode = { kind: 'rebuild', tag };
    store.transaction(() => {
      records.forEach((r, i) => {
        const d = decoded[i];
        if (d === undefined) return;
        // Unreadable records were dead-lettered when they were first processed.
        this.#apply(side, d, r, partition, mode);
      });
    });
  }

  #apply(side: 'scored' | 'outcomes', decoded: DecodeOutcome, record: SourceRecord, partition: number, mode: Mode): (ApplyResult & { readonly ok: true }) | Extract<Read<unknown>, { ok: false }> {
    const offset = Number(record.offset);
    if (side === 'scored') {
      const read = readPrediction(decoded, offset);
      return read.ok ? { ok: true, ...this.#join.applyPrediction(read.id, partition, read.value, mode) } : read;
    }
    const read = readOutcome(decoded, offset, Number(record.timestamp));
    return read.ok ? { ok: true, ...this.#join.applyOutcome(read.id, partition, read.value, mode) } : read;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await (await admin).close();
  }
}

/** Names a record in the store: side, partition and offset (offsets repeat across partitions). */
function recordTag(side: 'scored' | 'outcomes', record: SourceRecord): string {
  return `${side === 'scored' ? 's' : 'o'}:${record.partition}:${record.offset}`;
}
