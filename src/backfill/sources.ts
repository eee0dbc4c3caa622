import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse';
import type { SourcePosition } from '../contract/index.js';
import { ScorerError } from '../errors.js';
import { readRecords } from '../files/index.js';
import type { KafkaPort } from '../kafka/index.js';
import type { Headers } from '../pipeline/index.js';

export type FileFormat = 'jsonl' | 'json' | 'csv' | 'avro';

export type SourceSpec =
  | { readonly kind: 'file'; readonly path: string; readonly format?: FileFormat | undefined }
  | {
      readonly kind: 'topic';
      readonly kafka: KafkaPort;
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
  const admin = await spec.kafka.admin();
  let ranges: Array<{ partition: number; start: bigint; end: bigint }>;
  try {
    const [starts, ends] = await Promise.all([admin.offsetsAt(spec.topic, spec.fromMs), admin.offsetsAt(spec.topic, spec.toMs)]);
    const end = new Map(ends.map((e) => [e.partition, e.offset]));
    ranges = starts
      .filter((s) => spec.partitions === undefined || spec.partitions.includes(s.partition))
      .map((s) => ({ partition: s.partition, start: s.offset, end: end.get(s.partition) ?? 0n }))
      .filter((r) => r.end > r.start);
  } finally {
    await admin.close();
  }
  let row = 0;
  for (const range of ranges) {
    for await (const m of spec.kafka.readRange(spec.topic, range.partition, range.start, range.end)) {
      row++;
      yield { row, value: m.value, headers: m.headers, position: { topic: spec.topic, partition: range.partition, offset: Number(m.offset) } };
    }
  }
}
