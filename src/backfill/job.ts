import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { RecordDecoder } from '../codec/index.js';
import { type Opportunity, type ScoredOpportunity, deriveEventId, scoredOpportunity, validateOpportunity } from '../contract/index.js';
import type { ScoringEngine } from '../inference/index.js';
import { describeProblems } from '../pipeline/index.js';
import {
  Column,
  type Distribution,
  brier,
  distribution,
  meanAbsoluteError,
  precisionAtK,
  rocAuc,
  spearman,
  topK,
  calibrationError,
  meanAtTop,
} from './evaluation.js';
import { type Sink, type SinkSpec, openSink } from './sinks.js';
import { type SourceRow, type SourceSpec, readSource } from './sources.js';

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

interface Checkpoint {
  readonly rowsDone: number;
  readonly outputBytes: number;
  readonly rejectsBytes: number;
  readonly scored: number;
  readonly rejected: number;
}

export interface OutputDistributions {
  readonly predictedProfitPercent: Distribution;
  readonly successProbability: Distribution;
  readonly predictedDurationHours: Distribution;
  readonly compositeScore: Distribution;
}

export interface BacktestReport {
  readonly rows: number;
  readonly successRate: number;
  readonly model: {
    readonly rocAuc: number;
    readonly brier: number;
    /** Expected calibration error of successProbability, 10 equal-count bins. */
    readonly calibrationError: number;
    readonly precisionAtK: number;
    readonly profitMae: number;
    readonly durationMae: number;
    /** Mean realised profit (%) of the top decile by rankScore. */
    readonly topDecileProfitByRankScore: number;
  };
  readonly baseline: {
    readonly description: string;
    readonly rocAuc: number;
    readonly precisionAtK: number;
    readonly profitMae: number;
    readonly durationMae: number;
    readonly topDecileProfit: number;
  };
  /** The events with take = true: how many, and what they realised. */
  readonly take: { readonly count: number; readonly meanProfitPercent: number; readonly successRate: number };
  readonly k: number;
}

export interface CompareReport {
  readonly rows: number;
  readonly a: string;
  readonly b: string;
  readonly outputs: Readonly<Record<string, { readonly meanAbsDelta: number; readonly maxAbsDelta: number; readonly rankCorrelation: number }>>;
  readonly topK: { readonly k: number; readonly overlap: number };
  readonly decision: { readonly threshold: number; readonly disagreement: number };
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

const OUTPUTS = ['predictedProfitPercent', 'successProbability', 'predictedDurationHours', 'compositeScore'] as const;

/** The backfill: a run-until-done mode of the same engine and batcher the worker uses. */
export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const started = performance.now();
  const checkpoint = options.resume === true ? await readCheckpoint(options.checkpointPath) : undefined;
  const skip = checkpoint?.rowsDone ?? 0;
  const sink: Sink = await openSink(options.sink, checkpoint?.outputBytes);
  if (checkpoint !== undefined) await truncate(options.rejectsPath, checkpoint.rejectsBytes);
  const rejects = createWriteStream(options.rejectsPath, { flags: checkpoint === undefined ? 'w' : 'a' });
  let rejectsBytes = checkpoint?.rejectsBytes ?? 0;

  let rowsDone = skip;
  let rowsRead = skip;
  let scored = checkpoint?.scored ?? 0;
  let rejected = checkpoint?.rejected ?? 0;
  const cols = Object.fromEntries(OUTPUTS.map((o) => [o, new Column()])) as Record<(typeof OUTPUTS)[number], Column>;
  const labels = { success: new Column(), profit: new Column(), duration: new Column(), differential: new Column(), predSuccess: new Column(), predProfit: new Column(), predDuration: new Column(), rank: new Column(), take: new Column() };
  const shadowCols = Object.fromEntries(OUTPUTS.map((o) => [o, new Column()])) as Record<(typeof OUTPUTS)[number], Column>;
  let disagreements = 0;
  let modelName = '';
  let shadowName = '';

  const reject = async (row: SourceRow, id: unknown, reason: string): Promise<void> => {
    rejected++;
    const line = `${JSON.stringify({ row: row.row, id: typeof id === 'string' ? id : null, ...(row.position ? { position: row.position } : {}), reason })}\n`;
    rejectsBytes += Buffer.byteLength(line);
    if (!rejects.write(line)) await once(rejects, 'drain');
  };

  const processChunk = async (chunk: readonly SourceRow[]): Promise<void> => {
    let records: Array<Record<string, unknown> | string> = chunk.map((r) => r.record ?? r.error ?? '');
    // Topic rows carry raw bytes: decode them with the configured codec (file rows arrive parsed).
    if (chunk.some((r) => r.value !== undefined)) {
      const decoded = await options.decoder.decode(chunk.map((r) => ({ value: r.value ?? null })));
      records = decoded.map((d) => (d.ok ? (d.record as Record<string, unknown>) : d.error.message));
    }
    const valid: Array<{ row: SourceRow; record: Record<string, unknown>; op: Opportunity & { id: string } }> = [];
    for (const [i, row] of chunk.entries()) {
      const record = records[i];
      if (typeof record === 'string' || record === undefined) {
        await reject(row, undefined, record ?? 'unreadable row');
        continue;
      }
      const result = validateOpportunity(record);
      if (!result.ok) {
        await reject(row, record.id, describeProblems(result.problems));
        continue;
      }
      const id = result.value.id ?? (row.position ? deriveEventId(row.position.topic, row.position.partition, row.position.offset) : `row-${row.row}`);
      valid.push({ row, record, op: { ...result.value, id } });
    }
    const outcomes = valid.length === 0 ? [] : await options.engine.score(valid.map((v) => v.op));
    const out: ScoredOpportunity[] = [];
    for (const [i, v] of valid.entries()) {
      const o = outcomes[i];
      if (o === undefined || !o.ok) {
        await reject(v.row, v.op.id, o?.error.message ?? 'not scored');
        continue;
      }
      const at = options.scoredAt === 'event' ? v.op.detectedAt : options.scoredAt;
      const s = scoredOpportunity(v.op, o.scores, o.verdict, o.model, at, v.row.position ?? null);
      out.push(s);
      modelName = `${o.model.bundle}@${o.model.version}`;
      for (const k of OUTPUTS) cols[k].push(s[k]);
      const { labelSuccess, labelProfitPercent, labelDurationHours } = v.record;
      if (typeof labelSuccess === 'number' && typeof labelProfitPercent === 'number' && typeof labelDurationHours === 'number') {
        labels.success.push(labelSuccess);
        labels.profit.push(labelProfitPercent);
        labels.duration.push(labelDurationHours);
        labels.differential.push(v.op.fundProfit8h);
        labels.predSuccess.push(s.successProbability);
        labels.predProfit.push(s.predictedProfitPercent);
        labels.predDuration.push(s.predictedDurationHours);
        labels.rank.push(s.rankScore);
        labels.take.push(s.take ? 1 : 0);
      }
      if (o.shadow !== undefined && options.compare !== undefined) {
        shadowName = `${o.shadow.model.bundle}@${o.shadow.model.version}`;
        shadowCols.predictedProfitPercent.push(o.shadow.scores.predictedProfitPercent);
        shadowCols.successProbability.push(o.shadow.scores.successProbability);
        shadowCols.predictedDurationHours.push(o.shadow.scores.predictedDurationHours);
        shadowCols.compositeScore.push(o.shadow.compositeScore);
        if (o.compositeScore >= options.compare.threshold !== o.shadow.compositeScore >= options.compare.threshold) disagreements++;
      }
    }
    await sink.write(out);
    scored += out.length;
    rowsDone = chunk[chunk.length - 1]?.row ?? rowsDone;
    if (options.checkpointPath !== undefined && sink.bytes !== undefined) {
      await writeCheckpoint(options.checkpointPath, { rowsDone, outputBytes: sink.bytes, rejectsBytes, scored, rejected });
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
    rejects.end();
    await finished(rejects);
  }
  if (completed && options.checkpointPath !== undefined) await rm(options.checkpointPath, { force: true });

  const durationSeconds = (performance.now() - started) / 1000;
  const thisRun = rowsDone - skip;
  const k = options.backtestTopK ?? 100;
  const summary: BackfillSummary = {
    completed,
    rowsDone,
    resumedFrom: skip,
    rowsRead,
    scored,
    rejected,
    rejectRatio: rowsDone === 0 ? 0 : rejected / rowsDone,
    durationSeconds: Number(durationSeconds.toFixed(3)),
    rowsPerSecond: Math.round(thisRun / durationSeconds),
    model: modelName,
    outputs: {
      predictedProfitPercent: distribution(cols.predictedProfitPercent.values),
      successProbability: distribution(cols.successProbability.values),
      predictedDurationHours: distribution(cols.predictedDurationHours.values),
      compositeScore: distribution(cols.compositeScore.values),
    },
  };
  const n = labels.success.values.length;
  const backtest: BacktestReport | undefined =
    n === 0
      ? undefined
      : {
          rows: n,
          successRate: distribution(labels.success.values).mean,
          k,
          model: {
            rocAuc: rocAuc(labels.predSuccess.values, labels.success.values),
            brier: brier(labels.predSuccess.values, labels.success.values),
            calibrationError: calibrationError(labels.predSuccess.values, labels.success.values),
            precisionAtK: precisionAtK(labels.predSuccess.values, labels.success.values, k),
            profitMae: meanAbsoluteError(labels.predProfit.values, labels.profit.values),
            durationMae: meanAbsoluteError(labels.predDuration.values, labels.duration.values),
            topDecileProfitByRankScore: meanAtTop(labels.rank.values, labels.profit.values, 0.1),
          },
          baseline: {
            description: 'rank by the current funding differential (fundProfit8h); profit = differential x realised hold / 8 h - 0.2 % fees; duration = median realised hold',
            rocAuc: rocAuc(labels.differential.values, labels.success.values),
            precisionAtK: precisionAtK(labels.differential.values, labels.success.values, k),
            profitMae: meanAbsoluteError(
              labels.differential.values.map((d, i) => (d * (labels.duration.values[i] ?? 0)) / 8 - 0.2),
              labels.profit.values,
            ),
            durationMae: meanAbsoluteError(new Float64Array(n).fill(distribution(labels.duration.values).p50), labels.duration.values),
            topDecileProfit: meanAtTop(labels.differential.values, labels.profit.values, 0.1),
          },
          take: takeReport(labels.take.values, labels.profit.values),
        };
  let compare: CompareReport | undefined;
  if (options.compare !== undefined && shadowCols.compositeScore.values.length > 0) {
    const outputs: Record<string, { meanAbsDelta: number; maxAbsDelta: number; rankCorrelation: number }> = {};
    for (const key of OUTPUTS) {
      const a = cols[key].values;
      const b = shadowCols[key].values;
      const deltas = a.map((v, i) => Math.abs(v - (b[i] ?? 0)));
      outputs[key] = { meanAbsDelta: distribution(deltas).mean, maxAbsDelta: distribution(deltas).max, rankCorrelation: spearman(a, b) };
    }
    const kk = Math.min(options.compare.topK, cols.compositeScore.values.length);
    const topA = new Set(topK(cols.compositeScore.values, kk));
    const overlap = topK(shadowCols.compositeScore.values, kk).filter((i) => topA.has(i)).length / Math.max(1, kk);
    compare = {
      rows: shadowCols.compositeScore.values.length,
      a: modelName,
      b: shadowName,
      outputs,
      topK: { k: kk, overlap },
      decision: { threshold: options.compare.threshold, disagreement: disagreements / shadowCols.compositeScore.values.length },
    };
  }
  return { ...summary, ...(backtest === undefined ? {} : { backtest }), ...(compare === undefined ? {} : { compare }) };
}

async function readCheckpoint(path: string | undefined): Promise<Checkpoint | undefined> {
  if (path === undefined) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

async function writeCheckpoint(path: string, c: Checkpoint): Promise<void> {
  const temp = `${path}.tmp`;
  await writeFile(temp, JSON.stringify(c));
  await rename(temp, path);
}

function takeReport(take: Float64Array, profit: Float64Array): BacktestReport['take'] {
  let count = 0;
  let sum = 0;
  let wins = 0;
  for (let i = 0; i < take.length; i++) {
    if (take[i] !== 1) continue;
    count++;
    sum += profit[i] ?? 0;
    if ((profit[i] ?? 0) > 0) wins++;
  }
  return { count, meanProfitPercent: count === 0 ? Number.NaN : sum / count, successRate: count === 0 ? Number.NaN : wins / count };
}
