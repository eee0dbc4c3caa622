import type { RecordDecoder } from '../codec/index.js';
import { readLineChunks } from '../files/index.js';
import type { ScoringEngine } from '../inference/index.js';
import { ScorerError } from '../errors.js';
import type { Decoded } from '../pipeline/index.js';
import { readCheckpoint, removeCheckpoint, writeCheckpoint } from './checkpoint.js';
import { RejectsFile } from './rejects.js';
import { type RowInput, type ScoredRows, scoreRows } from './score-rows.js';
import { type Sink, type SinkSpec, openSink, sinkFormat } from './sinks.js';
import { type SourceRow, type SourceSpec, fileFormat, readSource } from './sources.js';
import { BackfillStatistics, type BacktestReport, type CompareReport, type OutputDistributions } from './statistics.js';
import { ScoringThreads } from './threads.js';

export interface BackfillOptions {
  readonly source: SourceSpec;
  readonly sink: SinkSpec;
  readonly rejectsPath: string;
  /** Where progress is recorded after every chunk (file sinks); enables --resume. */
  readonly checkpointPath?: string | undefined;
  readonly resume?: boolean;
  readonly engine: ScoringEngine;
  /** Decodes raw bytes of topic sources. */
  readonly decoder: RecordDecoder;
  readonly chunkSize: number;
  /** `event`: scoredAt = detectedAt, so the same input gives the same bytes; or a fixed epoch ms. */
  readonly scoredAt: 'event' | number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** With a shadow bundle in the engine's routing: compare the two. */
  readonly compare?: { readonly threshold: number; readonly topK: number } | undefined;
  /** Backtest ranking cut (precision@k). */
  readonly backtestTopK?: number;
  /** Score JSONL file inputs on this many threads, each loading these bundles (the engine's, pinned). */
  readonly threads?: ThreadsOption | undefined;
}

export interface ThreadsOption {
  readonly count: number;
  readonly primaryDir: string;
  readonly shadowDir?: string | undefined;
}

export interface Progress {
  readonly rowsRead: number;
  readonly scored: number;
  readonly rejected: number;
  readonly elapsedSeconds: number;
}

export interface BackfillSummary {
  readonly completed: boolean;
  /** The last input row whose result is written (a complete prefix), for --resume. */
  readonly rowsDone: number;
  readonly resumedFrom: number;
  readonly rowsRead: number;
  readonly scored: number;
  readonly rejected: number;
  readonly rejectRatio: number;
  readonly durationSeconds: number;
  readonly rowsPerSecond: number;
  readonly model: string;
  readonly outputs: OutputDistributions;
  readonly backtest?: BacktestReport;
  readonly compare?: CompareReport;
  /** Threads that scored (1: the main thread). */
  readonly threads: number;
}

/**
 * The backfill: a run-until-done mode of the scoring core the worker uses. After every chunk its results are written
 * and (file sinks) a checkpoint records the complete prefix, so an abort (`signal`) stops after the current chunk
 * with a resumable output.
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const started = performance.now();
  const checkpoint = options.resume === true && options.checkpointPath !== undefined ? await readCheckpoint(options.checkpointPath) : undefined;
  const skip = checkpoint?.rowsDone ?? 0;
  // JSONL file outputs are encoded in the scoring threads: the main thread then only writes their bytes.
  const encodeJsonl = options.sink.kind === 'file' && sinkFormat(options.sink.path, options.sink.format) === 'jsonl';
  const threads = parallelInput(options)
    ? await ScoringThreads.start(options.threads?.count ?? 1, { ...(options.threads as ThreadsOption), chunkSize: options.chunkSize, scoredAt: options.scoredAt, encodeJsonl })
    : undefined;
  let sink: Sink | undefined;
  let rejects: RejectsFile | undefined;
  const statistics = new BackfillStatistics(options.compare);

  let rowsDone = skip;
  let rowsRead = skip;
  let scored = checkpoint?.scored ?? 0;
  let rejected = checkpoint?.rejected ?? 0;

  /** Writes one chunk's results (chunks in input order), then records the complete prefix. */
  const write = async (result: ScoredRows): Promise<void> => {
    const out = sink as Sink;
    const rejectFile = rejects as RejectsFile;
    for (const r of result.rejects) await rejectFile.write(r.row, r.id, r.position, r.reason);
    rejected += result.rejects.length;
    if (result.encoded !== undefined && out.writeEncoded !== undefined) await out.writeEncoded(result.encoded);
    else await out.write(result.scored);
    statistics.add(result.stats);
    scored += result.stats.count;
    // A chunk of blank lines only has no last row of its own.
    rowsDone = Math.max(rowsDone, result.lastRow);
    if (options.checkpointPath !== undefined && out.bytes !== undefined) {
      await writeCheckpoint(options.checkpointPath, { rowsDone, outputBytes: out.bytes, rejectsBytes: rejectFile.bytes, scored, rejected });
    }
    options.onProgress?.({ rowsRead, scored, rejected, elapsedSeconds: (performance.now() - started) / 1000 });
  };

  let completed = true;
  try {
    sink = await openSink(options.sink, checkpoint?.outputBytes);
    rejects = await RejectsFile.open(options.rejectsPath, checkpoint?.rejectsBytes);
    // One loop for both paths: chunks are scored (here, or by the scoring threads, a bounded number in flight) and
    // written in input order; an interrupt writes what was handed out, so the checkpoint stays a complete prefix.
    const scoreInOrder = async <C>(chunks: AsyncIterable<C>, score: (chunk: C) => Promise<ScoredRows>, lastRow: (chunk: C) => number, maxInFlight: number): Promise<void> => {
      const inFlight: Array<Promise<ScoredRows>> = [];
      for await (const chunk of chunks) {
        rowsRead = lastRow(chunk);
        const scoring = score(chunk);
        scoring.catch(() => undefined); // awaited in order below; a later chunk failing first must not go unhandled
        inFlight.push(scoring);
        if (inFlight.length >= maxInFlight) await write(await (inFlight.shift() as Promise<ScoredRows>));
        if (options.signal?.aborted === true) {
          completed = false;
          break;
        }
      }
      while (inFlight.length > 0) await write(await (inFlight.shift() as Promise<ScoredRows>));
    };
    if (threads === undefined) {
      const chunks = rowChunks(readSource(options.source), options.chunkSize, skip);
      await scoreInOrder(chunks, async (chunk) => scoreRows(await decodeRows(chunk, options.decoder), options.engine, options.scoredAt), (chunk) => (chunk.at(-1) as SourceRow).row, 1);
    } else {
      // The main thread only cuts the file's bytes into chunks of lines; the threads decode, score and encode them.
      const path = (options.source as Extract<SourceSpec, { kind: 'file' }>).path;
      const chunks = readLineChunks(path, { linesPerChunk: options.chunkSize, skipLines: skip });
      await scoreInOrder(chunks, (chunk) => threads.score(chunk), (chunk) => chunk.firstRow + chunk.lines - 1, 2 * threads.size);
    }
  } finally {
    await threads?.close();
    await sink?.close();
    await rejects?.close();
  }
  if (completed && options.checkpointPath !== undefined) await removeCheckpoint(options.checkpointPath);

  const durationSeconds = (performance.now() - started) / 1000;
  const backtest = statistics.backtest(options.backtestTopK ?? 100);
  const compare = statistics.compare();
  return {
    completed,
    rowsDone,
    resumedFrom: skip,
    rowsRead,
    scored,
    rejected,
    rejectRatio: rowsDone === 0 ? 0 : rejected / rowsDone,
    durationSeconds: Number(durationSeconds.toFixed(3)),
    rowsPerSecond: Math.round((rowsDone - skip) / durationSeconds),
    model: statistics.model,
    outputs: statistics.outputs(),
    ...(backtest === undefined ? {} : { backtest }),
    ...(compare === undefined ? {} : { compare }),
    threads: threads === undefined ? 1 : (options.threads?.count ?? 1),
  };
}

/** Scoring threads apply to JSONL files (read as lines; other formats and topics are parsed on the main thread). */
function parallelInput(options: BackfillOptions): boolean {
  return options.threads !== undefined && options.threads.count > 1 && options.source.kind === 'file' && fileFormat(options.source.path, options.source.format) === 'jsonl';
}

/** Rows after the first `skip`, in chunks of `size`. */
async function* rowChunks(rows: AsyncIterable<SourceRow>, size: number, skip: number): AsyncGenerator<SourceRow[]> {
  let chunk: SourceRow[] = [];
  for await (const row of rows) {
    if (row.row <= skip) continue;
    chunk.push(row);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** File rows arrive parsed (or with why they could not be read); topic rows carry bytes for the configured codec. */
async function decodeRows(chunk: readonly SourceRow[], decoder: RecordDecoder): Promise<RowInput[]> {
  const decoded: Decoded[] = chunk.some((r) => r.value !== undefined)
    ? await decoder.decode(chunk.map((r) => ({ value: r.value ?? null })))
    : chunk.map((r): Decoded => (r.record !== undefined ? { ok: true, record: r.record } : { ok: false, error: new ScorerError('DECODE_FAILED', r.error ?? 'unreadable row') }));
  return chunk.map((r, i) => ({ row: r.row, decoded: decoded[i] as Decoded, position: r.position }));
}
