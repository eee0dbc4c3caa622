import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse';
import type { Kafka } from 'kafkajs';
import type { SourcePosition } from '../contract/index.js';
import { ScorerError } from '../errors.js';
import { readRecords } from '../files/index.js';
import type { Headers } from '../pipeline/index.js';

export type FileFormat = 'jsonl' | 'json' | 'csv' | 'avro';

export type SourceSpec =
  | { readonly kind: 'file'; readonly path: string; readonly format?: FileFormat | undefined }
  | {
      readonly kind: 'topic';
      readonly kafka: Kafka;
      readonly topic: string;
      /** Epoch ms, inclusive. */
      readonly fromMs: number;
      /** Epoch ms, exclusive. */
      readonly toMs: number;
      readonly partitions?: readonly number[] | undefined;
    };

/** One input row: a record to validate, or why the row could not be read. Rows count from 1 in source order. */
export interface SourceRow {
  readonly row: number;
  readonly record?: Record<string, unknown>;
  /** Raw bytes (topics), for the record's decoding by the codec layer. */
  readonly value?: Buffer | null;
  readonly headers?: Headers;
  readonly error?: string;
  readonly position?: SourcePosition;
}

export function fileFormat(path: string, explicit?: FileFormat): FileFormat {
  if (explicit !== undefined) return explicit;
  if (/\.avro$/i.test(path)) return 'avro';
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.json$/i.test(path)) return 'json';
  return 'jsonl';
}

/** Streams the rows of a source in a fixed order (files: file order; topics: partition by partition, by offset). */
export async function* readSource(spec: SourceSpec): AsyncGenerator<SourceRow> {
  if (spec.kind === 'topic') {
    yield* readTopicRange(spec);
    return;
  }
  const format = fileFormat(spec.path, spec.format);
  if (format === 'jsonl' || format === 'avro') {
    for await (const item of readRecords(spec.path, format)) {
      yield item.ok ? { row: item.row, record: item.record } : { row: item.row, error: item.error.message };
    }
  } else if (format === 'json') {
    // A JSON array is parsed whole (use JSONL for inputs larger than memory).
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(spec.path, 'utf8'));
    } catch (cause) {
      throw new ScorerError('DECODE_FAILED', `${spec.path} is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (!Array.isArray(parsed)) throw new ScorerError('DECODE_FAILED', `${spec.path}: a .json input must hold a JSON array of events`);
    let row = 0;
    for (const item of parsed as unknown[]) {
      row++;
      yield typeof item === 'object' && item !== null && !Array.isArray(item) ? { row, record: item as Record<string, unknown> } : { row, error: 'an event must be a JSON object' };
    }
  } else {
    yield* readCsv(spec.path);
  }
}

const NUMERIC = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** CSV with a header of event field names; numbers become numbers, empty cells null, other text stays text. */
async function* readCsv(path: string): AsyncGenerator<SourceRow> {
  const parser = createReadStream(path).pipe(
    parse({
      columns: true,
      skip_empty_lines: true,
      trim: true,
      cast: (value) => (value === '' ? null : NUMERIC.test(value) ? Number(value) : value),
    }),
  );
  let row = 0;
  for await (const record of parser as AsyncIterable<Record<string, unknown>>) {
    row++;
    yield { row, record };
  }
}

/**
 * Records of a topic whose timestamps fall in [fromMs, toMs), resolved per partition with offsets-for-times, read
 * one partition after another (ascending) so the order, and hence the output, is deterministic.
 */
async function* readTopicRange(spec: Extract<SourceSpec, { kind: 'topic' }>): AsyncGenerator<SourceRow> {
  const admin = spec.kafka.admin();
  await admin.connect();
  let ranges: Array<{ partition: number; start: bigint; end: bigint }>;
  try {
    const [starts, ends, highs] = await Promise.all([
      admin.fetchTopicOffsetsByTimestamp(spec.topic, spec.fromMs),
      admin.fetchTopicOffsetsByTimestamp(spec.topic, spec.toMs),
      admin.fetchTopicOffsets(spec.topic),
    ]);
    const high = new Map(highs.map((h) => [h.partition, BigInt(h.high)]));
    const end = new Map(ends.map((e) => [e.partition, BigInt(e.offset) < 0n ? (high.get(e.partition) ?? 0n) : BigInt(e.offset)]));
    ranges = starts
      .filter((s) => spec.partitions === undefined || spec.partitions.includes(s.partition))
      .map((s) => ({ partition: s.partition, start: BigInt(s.offset) < 0n ? (high.get(s.partition) ?? 0n) : BigInt(s.offset), end: end.get(s.partition) ?? 0n }))
      .filter((r) => r.end > r.start)
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
  let row = 0;
  for (const range of ranges) {
    for await (const m of readPartition(spec.kafka, spec.topic, range.partition, range.start, range.end)) {
      row++;
      yield { row, value: m.value, headers: m.headers, position: { topic: spec.topic, partition: range.partition, offset: Number(m.offset) } };
    }
  }
}

interface RawMessage {
  readonly offset: string;
  readonly value: Buffer | null;
  readonly headers: Headers;
}

/** Offsets [start, end) of one partition, through a throw-away consumer group that commits nothing. */
async function* readPartition(kafka: Kafka, topic: string, partition: number, start: bigint, end: bigint): AsyncGenerator<RawMessage> {
  const consumer = kafka.consumer({ groupId: `opportunity-scorer-backfill-${process.pid}-${Date.now()}-${partition}`, maxWaitTimeInMs: 100 });
  const buffer: RawMessage[] = [];
  let done = false;
  let failure: ScorerError | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  // A consumer that gives up would otherwise leave the reader waiting for records forever.
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) {
      failure = new ScorerError('KAFKA_UNAVAILABLE', `reading ${topic}[${partition}] failed: ${e.payload.error.message}`, { cause: e.payload.error });
      notify();
    }
  });
  // The next offset not yet taken. kafkajs restarts a crashed consumer with a new group member that has no
  // committed offset here (autoCommit off), so every join, not only the first, pauses the other partitions and
  // seeks back to it; records fetched again below it are dropped.
  let next = start;
  const others = (await partitionsOf(kafka, topic)).filter((p) => p !== partition);
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    consumer.seek({ topic, partition, offset: next.toString() });
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== partition || done) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < next) continue;
          if (offset >= end) {
            done = true;
            break;
          }
          buffer.push({ offset: m.offset, value: m.value, headers: m.headers ?? {} });
          next = offset + 1n;
        }
        if (BigInt(batch.lastOffset()) + 1n >= end) done = true;
        notify();
        // Backpressure: hold this partition while the reader catches up.
        while (buffer.length > 10_000 && !done) await new Promise<void>((r) => setTimeout(r, 5));
      },
    });
    while (!done || buffer.length > 0) {
      if (failure !== undefined) throw failure;
      const record = buffer.shift();
      if (record !== undefined) {
        yield record;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  } finally {
    done = true;
    await consumer.disconnect();
  }
}

async function partitionsOf(kafka: Kafka, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0]?.partitions.map((p) => p.partitionId) ?? [];
  } finally {
    await admin.disconnect();
  }
}
