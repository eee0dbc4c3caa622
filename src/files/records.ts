import avro from 'avsc';
import { opportunitySchema } from '../contract/index.js';
import { decodeJsonText } from '../codec/json.js';
import type { ScorerError } from '../errors.js';
import { chunkRows, readLineChunks } from './lines.js';

/** One record read from a file, or why that row could not be read. `row` counts from 1. */
export type FileRecord =
  | { readonly ok: true; readonly row: number; readonly record: Record<string, unknown> }
  | { readonly ok: false; readonly row: number; readonly error: ScorerError };

export type RecordFileFormat = 'jsonl' | 'avro';

export function recordFileFormat(path: string): RecordFileFormat {
  return /\.avro$/i.test(path) ? 'avro' : 'jsonl';
}

/**
 * Streams opportunity records from a JSONL file (one JSON object per line; blank lines skipped) or an Avro object
 * container file (read through our schema, so older or newer compatible writer schemas resolve).
 */
export async function* readRecords(path: string, format: RecordFileFormat = recordFileFormat(path)): AsyncGenerator<FileRecord> {
  if (format === 'avro') {
    yield* readAvroContainer(path);
    return;
  }
  for await (const { row, line } of readJsonlLines(path)) yield parseJsonlLine(row, line);
}

/** The non-blank lines of a JSONL file with their row numbers (blank lines count as rows but are skipped). */
export async function* readJsonlLines(path: string): AsyncGenerator<{ readonly row: number; readonly line: string }> {
  for await (const chunk of readLineChunks(path, { linesPerChunk: 1024 })) yield* chunkRows(chunk);
}

/**
 * One JSONL line as a record, or why it is not one (what readRecords yields for it). The reader decoded the file's
 * bytes already, replacing invalid UTF-8 as it went, so only the JSON is checked here.
 */
export function parseJsonlLine(row: number, line: string): FileRecord {
  const outcome = decodeJsonText(line);
  return outcome.ok ? { ok: true, row, record: outcome.record as Record<string, unknown> } : { ok: false, row, error: outcome.error };
}

async function* readAvroContainer(path: string): AsyncGenerator<FileRecord> {
  const decoder = avro.createFileDecoder(path, { readerSchema: opportunitySchema });
  let row = 0;
  for await (const record of decoder as AsyncIterable<Record<string, unknown>>) {
    row++;
    yield { ok: true, row, record };
  }
}

/** Whether a file-system error says the path does not exist (the one case that means "none yet"). */
export function isMissingFile(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}
