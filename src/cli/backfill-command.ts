import { writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { type BackfillSummary, type Progress, type SinkSpec, type SourceSpec, autoThreads, runBackfill } from '../backfill/index.js';
import { confluentSchemaRegistry, createDecoder } from '../codec/index.js';
import type { AppConfig } from '../config/index.js';
import { ScorerError } from '../errors.js';
import { ScoringEngine } from '../inference/index.js';
import type { Logger } from '../logging/index.js';
import { loadReadyBundle, modelSource } from '../registry/index.js';
import { INTERRUPTED_EXIT_CODE } from '../lifecycle/index.js';

export interface BackfillCommandOptions {
  readonly input?: string;
  readonly inputFormat?: 'jsonl' | 'json' | 'csv' | 'avro';
  readonly topic?: string;
  readonly from?: string;
  readonly to?: string;
  readonly partitions?: string;
  readonly output?: string;
  readonly outputTopic?: string;
  readonly format?: 'jsonl' | 'csv' | 'avro';
  readonly model?: string;
  readonly compare?: string[];
  readonly threshold?: string;
  readonly topK?: string;
  readonly rejects?: string;
  readonly maxRejectRatio: string;
  readonly resume?: boolean;
  readonly chunkSize: string;
  readonly threads: string;
  readonly scoredAt: string;
  readonly report?: string;
  readonly progress: 'auto' | 'bar' | 'json' | 'none';
}

/**
 * Exit codes: 0 done, 1 operational failure (thrown), 2 bad options, 3 too many rejects, 130 interrupted (`signal`
 * aborted: stopped after the current chunk, resumable).
 */
export async function backfillCommand(opts: BackfillCommandOptions, config: AppConfig, logger: Logger, isTty: boolean, signal: AbortSignal): Promise<number> {
  const time = (v: string | undefined, name: string): number => {
    const ms = v === undefined ? Number.NaN : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(ms)) throw new ScorerError('CONFIG_INVALID', `--${name} must be an ISO-8601 time or epoch milliseconds, got ${String(v)}`);
    return ms;
  };
  if ((opts.input === undefined) === (opts.topic === undefined)) throw new ScorerError('CONFIG_INVALID', 'give exactly one of --input <file> or --topic <name>');
  if ((opts.output === undefined) === (opts.outputTopic === undefined)) throw new ScorerError('CONFIG_INVALID', 'give exactly one of --output <file> or --output-topic <name>');
  if (opts.compare !== undefined && opts.compare.length !== 2) throw new ScorerError('CONFIG_INVALID', '--compare takes two model refs');
  const numbers = parseNumbers(opts, config.model.shadowDecisionThreshold);
  const needsKafka = opts.topic !== undefined || opts.outputTopic !== undefined;
  // The Kafka clients load only for topic runs: a file backfill starts without them.
  const kafka = needsKafka ? (await import('../kafka/index.js')).createKafkaPort(config.kafka, logger) : undefined;
  const source: SourceSpec =
    opts.input !== undefined
      ? { kind: 'file', path: opts.input, format: opts.inputFormat }
      : {
          kind: 'topic',
          kafka: kafka as NonNullable<typeof kafka>,
          topic: opts.topic as string,
          fromMs: time(opts.from, 'from'),
          toMs: time(opts.to, 'to'),
          partitions: opts.partitions?.split(',').map((p) => Number.parseInt(p, 10)),
        };
  const sink: SinkSpec = opts.output !== undefined ? { kind: 'file', path: opts.output, format: opts.format } : { kind: 'topic', kafka: kafka as NonNullable<typeof kafka>, topic: opts.outputTopic as string };
  const rejectsPath = opts.rejects ?? `${opts.output ?? `backfill-${opts.outputTopic ?? 'out'}`}.rejects.jsonl`;

  // The model is pinned for the whole run: resolved once, never reloaded.
  const [refA, refB] = opts.compare ?? [opts.model ?? config.model.ref, undefined];
  const models = modelSource(config, logger);
  const primaryDir = (await models.resolve(refA as string)).dir;
  const shadowDir = refB === undefined ? undefined : (await models.resolve(refB)).dir;
  const primary = await loadReadyBundle(primaryDir);
  const shadow = shadowDir === undefined ? undefined : await loadReadyBundle(shadowDir);
  const { chunkSize, topK, threshold, maxRejectRatio } = numbers;
  const engine = new ScoringEngine({ primary, shadow }, { maxSize: chunkSize, maxDelayMs: 0, queueMax: chunkSize * 4 });
  const registry = config.codec.schemaRegistryUrl === undefined ? undefined : confluentSchemaRegistry({ url: config.codec.schemaRegistryUrl });

  const onAbort = (): void => void process.stderr.write('\nstopping after the current chunk (a second signal quits at once)\n');
  signal.addEventListener('abort', onAbort, { once: true });
  const mode = opts.progress === 'auto' ? (isTty ? 'bar' : 'json') : opts.progress;
  const bar = mode === 'bar' ? new SingleBar({ format: 'backfill {bar} {value} rows | {rate} rows/s | rejects {rejected} | elapsed {duration}s', hideCursor: true }) : undefined;
  bar?.start(0, 0, { rate: 0, rejected: 0 });
  let lastLog = 0;
  const onProgress = (p: Progress): void => {
    const rate = Math.round(p.rowsRead / Math.max(p.elapsedSeconds, 1e-3));
    if (bar !== undefined) {
      bar.setTotal(p.rowsRead);
      bar.update(p.rowsRead, { rate, rejected: p.rejected });
    } else if (mode === 'json' && p.elapsedSeconds - lastLog >= 5) {
      lastLog = p.elapsedSeconds;
      logger.info({ rowsRead: p.rowsRead, scored: p.scored, rejected: p.rejected, rowsPerSecond: rate }, 'backfill progress');
    }
  };

  let summary: BackfillSummary;
  try {
    summary = await runBackfill({
      source,
      sink,
      rejectsPath,
      checkpointPath: opts.output === undefined ? undefined : `${opts.output}.checkpoint.json`,
      resume: opts.resume === true,
      engine,
      decoder: createDecoder(config.codec.input, registry),
      chunkSize,
      scoredAt: opts.scoredAt === 'now' ? Date.now() : 'event',
      signal,
      onProgress,
      compare: refB === undefined ? undefined : { threshold, topK },
      backtestTopK: topK,
      threads: { count: numbers.threads, primaryDir, shadowDir },
    });
  } finally {
    bar?.stop();
    signal.removeEventListener('abort', onAbort);
    await engine.close();
    await primary.close();
    await shadow?.close();
  }
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  if (opts.report !== undefined) await writeFile(opts.report, text);
  process.stdout.write(text);
  if (!summary.completed) {
    process.stderr.write(`stopped after input row ${summary.rowsDone}; the output holds every result up to it. Run again with --resume to continue.\n`);
    return INTERRUPTED_EXIT_CODE;
  }
  const limit = maxRejectRatio;
  if (summary.rejectRatio > limit) {
    process.stderr.write(`rejects ${summary.rejected}/${summary.rowsDone} (${(summary.rejectRatio * 100).toFixed(2)} %) exceed --max-reject-ratio ${limit}; see ${rejectsPath}\n`);
    return 3;
  }
  return 0;
}

/** The numeric options, checked together: every bad one is named (NaN never reaches the batcher). */
function parseNumbers(opts: BackfillCommandOptions, defaultThreshold: number): { chunkSize: number; topK: number; threshold: number; maxRejectRatio: number; threads: number } {
  const problems: string[] = [];
  const integer = (name: string, text: string, min: number, max: number): number => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const real = (name: string, text: string, min: number, max: number): number => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < min || n > max) problems.push(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const parsed = {
    chunkSize: integer('chunk-size', opts.chunkSize, 1, 65_536),
    topK: integer('top-k', opts.topK ?? '100', 1, 10_000_000),
    threshold: opts.threshold === undefined ? defaultThreshold : real('threshold', opts.threshold, -1e9, 1e9),
    maxRejectRatio: real('max-reject-ratio', opts.maxRejectRatio, 0, 1),
    threads: opts.threads === 'auto' ? autoThreads() : integer('threads', opts.threads, 1, 64),
  };
  if (problems.length > 0) throw new ScorerError('CONFIG_INVALID', `invalid backfill options:\n  - ${problems.join('\n  - ')}`);
  return parsed;
}
