import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import avro from 'avsc';
import { stringify } from 'csv-stringify/sync';
import { type ScoredOpportunity, scoredOpportunityType, scoredToJson } from '../contract/index.js';
import { scoredJson } from '../codec/index.js';
import { ScorerError } from '../errors.js';
import type { KafkaPort } from '../kafka/index.js';

export type SinkFormat = 'jsonl' | 'csv' | 'avro';

export type SinkSpec =
  | { readonly kind: 'file'; readonly path: string; readonly format?: SinkFormat | undefined }
  | { readonly kind: 'topic'; readonly kafka: KafkaPort; readonly topic: string };

export interface Sink {
  /** Writes one chunk of results, in order; resolves when they are handed to the OS (files) or acknowledged (topics). */
  write(records: readonly ScoredOpportunity[]): Promise<void>;
  /** JSONL files: writes a chunk already encoded by jsonlText (by a scoring thread). */
  writeEncoded?(bytes: Uint8Array): Promise<void>;
  /** Bytes written so far (files), for resuming; undefined where resuming by bytes does not apply. */
  readonly bytes: number | undefined;
  close(): Promise<void>;
}

/** A chunk of results as JSONL text: what a JSONL sink writes, wherever it is encoded. */
export function jsonlText(records: readonly ScoredOpportunity[]): string {
  return records.map((r) => `${scoredJson(r)}\n`).join('');
}

export function sinkFormat(path: string, explicit?: SinkFormat): SinkFormat {
  if (explicit !== undefined) return explicit;
  if (/\.avro$/i.test(path)) return 'avro';
  if (/\.csv$/i.test(path)) return 'csv';
  return 'jsonl';
}

const CSV_COLUMNS = [
  'id',
  'symbol',
  'longExchange',
  'shortExchange',
  'detectedAt',
  'predictedProfitPercent',
  'successProbability',
  'predictedDurationHours',
  'compositeScore',
  'rankScore',
  'take',
  'modelBundle',
  'modelVersion',
  'scoredAt',
  'sourceTopic',
  'sourcePartition',
  'sourceOffset',
] as const;

/** Avro container files start with a random sync marker; a fixed one keeps the same input's output byte-identical. */
const AVRO_SYNC_MARKER = createHash('sha256').update('opportunity-scorer/backfill/v1').digest().subarray(0, 16);

/**
 * Opens a sink. `resumeAtBytes` (JSONL and CSV) truncates a partial file to the end of its last complete chunk and
 * appends from there.
 */
export async function openSink(spec: SinkSpec, resumeAtBytes?: number): Promise<Sink> {
  if (spec.kind === 'topic') return topicSink(spec.kafka, spec.topic);
  const format = sinkFormat(spec.path, spec.format);
  if (resumeAtBytes !== undefined && format === 'avro') {
    throw new ScorerError('CONFIG_INVALID', 'resuming an Avro output is not supported (write JSONL or CSV, or start over)');
  }
  if (format === 'avro') return avroSink(spec.path);
  if (resumeAtBytes !== undefined) await truncate(spec.path, resumeAtBytes);
  const out = createWriteStream(spec.path, { flags: resumeAtBytes === undefined ? 'w' : 'a' });
  let bytes = resumeAtBytes ?? 0;
  let headerDone = resumeAtBytes !== undefined && resumeAtBytes > 0;
  const put = async (data: string | Uint8Array): Promise<void> => {
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (!out.write(data)) await once(out, 'drain');
  };
  return {
    get bytes() {
      return bytes;
    },
    ...(format === 'jsonl' ? { writeEncoded: put } : {}),
    async write(records) {
      if (format === 'jsonl') {
        await put(jsonlText(records));
        return;
      }
      const rows = records.map((r) => {
        const json: Readonly<Record<string, unknown>> = scoredToJson(r);
        return [...CSV_COLUMNS.slice(0, CSV_COLUMNS.indexOf('sourceTopic')).map((c) => json[c]), r.source?.topic ?? '', r.source?.partition ?? '', r.source?.offset ?? ''];
      });
      await put(stringify(rows, { header: !headerDone, columns: [...CSV_COLUMNS] }));
      headerDone = true;
    },
    close: () => endStream(out),
  };
}

function avroSink(path: string): Sink {
  const out = createWriteStream(path);
  const encoder = new avro.streams.BlockEncoder(scoredOpportunityType, { syncMarker: AVRO_SYNC_MARKER, codec: 'null', writeHeader: true });
  encoder.pipe(out);
  return {
    bytes: undefined,
    async write(records) {
      for (const r of records) if (!encoder.write(r)) await once(encoder, 'drain');
    },
    async close() {
      encoder.end();
      await finished(out);
    },
  };
}

async function topicSink(kafka: KafkaPort, topic: string): Promise<Sink> {
  const producer = await kafka.producer();
  return {
    bytes: undefined,
    async write(records) {
      if (records.length === 0) return;
      // Keyed by opportunity id: a re-run overwrites rather than duplicates in a compacted topic.
      await producer.send(records.map((r) => ({ topic, key: r.id, value: Buffer.from(scoredJson(r)), headers: { 'content-type': 'application/json', 'model-bundle': r.modelBundle, 'model-version': r.modelVersion } })));
    },
    close: () => producer.close(),
  };
}

async function endStream(stream: WriteStream): Promise<void> {
  stream.end();
  await finished(stream);
}
