import type { RecordDecoder } from '../codec/index.js';
import { deriveEventId, type ScoredOpportunity, scoredOpportunity } from '../contract/index.js';
import type { ScoringEngine } from '../inference/index.js';
import { type Decoded, scoreDecoded } from '../pipeline/index.js';
import { readCheckpoint, removeCheckpoint, writeCheckpoint } from './checkpoint.js';
import { RejectsFile } from './rejects.js';
import { type Sink, type SinkSpec, openSink } from './sinks.js';
import { type SourceRow, type SourceSpec, readSource } from './sources.js';
import { BackfillStatistics, type BacktestReport, type CompareReport, type OutputDistributions } from './statistics.js';

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
  const sink: Sink = await openSink(options.sink, checkpoint?.outputBytes);
  const rejects = await RejectsFile.open(options.rejectsPath, checkpoint?.rejectsBytes);
  const statistics = new BackfillStatistics(options.compare);

  let rowsDone = skip;
  let rowsRead = skip;
  let scored = checkpoint?.scored ?? 0;
  let rejected = checkpoint?.rejected ?? 0;

  const processChunk = async (chunk: readonly SourceRow[]): Promise<void> => {
    const decoded = await decodeRows(chunk, options.decoder);
    const results = await scoreDecoded(decoded, {
      engine: options.engine,
      fallbackId: (i) => {
        const row = chunk[i] as SourceRow;
        return row.position ? deriveEventId(row.position.topic, row.position.partition, row.position.offset) : `row-${row.row}`;
      },
    });
    const out: ScoredOpportunity[] = [];
    for (const [i, result] of results.entries()) {
      const row = chunk[i] as SourceRow;
      if (result.kind !== 'scored') {
        rejected++;
        await rejects.write(row.row, result.kind === 'rejected' ? result.id : undefined, row.position, result.message);
        continue;
      }
      const { opportunity, outcome } = result;
      const at = options.scoredAt === 'event' ? opportunity.detectedAt : options.scoredAt;
      const s = scoredOpportunity(opportunity, outcome.scores, outcome.verdict, outcome.model, at, row.position ?? null);
      out.push(s);
      statistics.add(opportunity, s, result.record, outcome);
    }
    await sink.write(out);
    scored += out.length;
    rowsDone = chunk[chunk.length - 1]?.row ?? rowsDone;
    if (options.checkpointPath !== undefined && sink.bytes !== undefined) {
      await writeCheckpoint(options.checkpointPath, { rowsDone, outputBytes: sink.bytes, rejectsBytes: rejects.bytes, scored, rejected });
    }
    options.onProgress?.({ rowsRead, scored, rejected, elapsedSeconds: (performance.now() - started) / 1000 });
  };

  let completed = true;
  try {
    let chunk: SourceRow[] = [];
    for await (const row of readSource(options.source)) {
      if (row.row <= skip) continue;
      rowsRead = row.row;
      chunk.push(row);
      if (chunk.length >= options.chunkSize) {
        await processChunk(chunk);
        chunk = [];
        if (options.signal?.aborted === true) {
          completed = false;
          break;
        }
      }
    }
    if (completed && chunk.length > 0) await processChunk(chunk);
  } finally {
    await sink.close();
    await rejects.close();
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
  };
}

/** File rows arrive parsed (or with why they could not be read); topic rows carry bytes for the configured codec. */
async function decodeRows(chunk: readonly SourceRow[], decoder: RecordDecoder): Promise<Decoded[]> {
  if (chunk.some((r) => r.value !== undefined)) {
    const decoded = await decoder.decode(chunk.map((r) => ({ value: r.value ?? null })));
    return decoded.map((d) => (d.ok ? { ok: true, record: d.record } : { ok: false, code: d.error.code, message: d.error.message }));
  }
  return chunk.map((r): Decoded => (r.record !== undefined ? { ok: true, record: r.record } : { ok: false, code: 'DECODE_FAILED', message: r.error ?? 'unreadable row' }));
}
