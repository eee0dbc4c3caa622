import type { RecordDecoder, RecordEncoder } from '../codec/index.js';
import { deriveEventId, scoredOpportunity } from '../contract/index.js';
import { type ErrorCode, ScorerError, findScorerError } from '../errors.js';
import type { ScoringEngine } from '../inference/index.js';
import type { Metrics, Stage } from '../metrics/index.js';
import { type Decoded, type Screen, scoreDecoded } from './core.js';
import { HEADER, type OutRecord, type SourceRecord, carryHeaders, headerText } from './records.js';

export type StalePolicy = 'score' | 'dead-letter' | 'drop';

export interface ProcessorOptions {
  readonly decoder: RecordDecoder;
  readonly encoder: RecordEncoder;
  readonly engine: ScoringEngine;
  /** 0 turns the staleness check off. */
  readonly maxEventAgeMs: number;
  readonly stalePolicy: StalePolicy;
  readonly metrics?: Metrics | undefined;
  readonly now?: () => number;
  /** Stamps the output with its input position (Kafka); off for sources without one. */
  readonly includeSource?: boolean;
}

/** What a chunk of records turned into: outputs in input order, dead letters, and how many were dropped. */
export interface ProcessedChunk {
  readonly outputs: OutRecord[];
  /** Results of the shadow bundle (when one runs), for the shadow topic only. */
  readonly shadowOutputs: OutRecord[];
  readonly deadLetters: OutRecord[];
  readonly dropped: number;
  /** detectedAt and record timestamps of the scored events (for event-age metrics at publish time). */
  readonly scoredTimes: ReadonlyArray<{ readonly detectedAt: number; readonly recordTime: number }>;
}

const OWN_HEADERS = new Set<string>([HEADER.contentType, HEADER.modelBundle, HEADER.modelVersion]);

/**
 * decode → the scoring core (validate, staleness, score) → encode for a chunk of records. Bad records become dead
 * letters with their original key, value and headers plus the reason; nothing here throws on data. Only a failure
 * worth retrying for the whole chunk (the schema registry is down, the scorer is shutting down) rejects.
 */
export async function processRecords(records: readonly SourceRecord[], options: ProcessorOptions): Promise<ProcessedChunk> {
  const now = options.now ?? Date.now;
  const metrics = options.metrics;
  const timer = (stage: Stage): (() => void) => metrics?.stageDuration.startTimer({ stage }) ?? noop;

  const deadLetters: OutRecord[] = [];
  const deadLetter = (record: SourceRecord, code: ErrorCode, message: string): void => {
    metrics?.eventsDeadLettered.inc({ reason: code });
    deadLetters.push(deadLetterRecord(record, code, message, now()));
  };

  const endDecode = timer('decode');
  const decoded = await options.decoder.decode(records.map((r) => ({ value: r.value, contentType: headerText(r.headers, HEADER.contentType) })));
  endDecode();

  const { maxEventAgeMs, stalePolicy } = options;
  const screen: Screen | undefined =
    maxEventAgeMs > 0 && stalePolicy !== 'score'
      ? (op, at) => (at - op.detectedAt > maxEventAgeMs ? { code: 'STALE_EVENT', message: `event is ${at - op.detectedAt} ms old (MAX_EVENT_AGE_MS=${maxEventAgeMs})`, drop: stalePolicy === 'drop' } : undefined)
      : undefined;
  const results = await scoreDecoded(
    records.map((_, i): Decoded => decoded[i] ?? { ok: false, error: new ScorerError('INTERNAL', 'no decode outcome') }),
    {
      engine: options.engine,
      fallbackId: (i) => {
        const { topic, partition, offset } = records[i] as SourceRecord;
        return deriveEventId(topic, partition, offset);
      },
      screen,
      time: timer,
      now,
    },
  );

  const outputs: OutRecord[] = [];
  const shadowOutputs: OutRecord[] = [];
  const scoredTimes: Array<{ detectedAt: number; recordTime: number }> = [];
  let dropped = 0;
  const scoredAt = now();
  const endEncode = timer('encode');
  results.forEach((result, i) => {
    const record = records[i] as SourceRecord;
    if (result.kind === 'rejected') {
      deadLetter(record, result.code, result.message);
      return;
    }
    if (result.kind === 'dropped') {
      dropped++;
      metrics?.eventsDropped.inc({ reason: result.code });
      return;
    }
    const { opportunity, outcome } = result;
    const source = options.includeSource === false ? null : { topic: record.topic, partition: record.partition, offset: Number(record.offset) };
    let value: Buffer;
    try {
      value = options.encoder.encode(scoredOpportunity(opportunity, outcome.scores, outcome.verdict, outcome.model, scoredAt, source));
    } catch (err) {
      const error = findScorerError(err) ?? new ScorerError('ENCODE_FAILED', String(err), { cause: err });
      deadLetter(record, error.code, error.message);
      return;
    }
    const key = record.key ?? opportunity.id;
    outputs.push({ key, value, headers: { ...carryHeaders(record.headers, OWN_HEADERS), ...ownHeaders(options.encoder.contentType, outcome.model) } });
    scoredTimes.push({ detectedAt: opportunity.detectedAt, recordTime: Number(record.timestamp) });
    if (outcome.shadow !== undefined) {
      try {
        const shadow = scoredOpportunity(opportunity, outcome.shadow.scores, outcome.shadow.verdict, outcome.shadow.model, scoredAt, source);
        shadowOutputs.push({ key, value: options.encoder.encode(shadow), headers: ownHeaders(options.encoder.contentType, outcome.shadow.model) });
      } catch {
        // A shadow result that cannot be encoded is not worth failing the real one for; it is counted.
        metrics?.shadowEncodeFailures.inc();
      }
    }
  });
  endEncode();
  return { outputs, shadowOutputs, deadLetters, dropped, scoredTimes };
}

function ownHeaders(contentType: string, model: { readonly bundle: string; readonly version: string }): Record<string, string> {
  return { [HEADER.contentType]: contentType, [HEADER.modelBundle]: model.bundle, [HEADER.modelVersion]: model.version };
}

function noop(): void {}

/** The dead-letter record: original key, value and headers, plus the reason and where the event came from. */
export function deadLetterRecord(record: SourceRecord, code: ErrorCode, message: string, at: number): OutRecord {
  return {
    key: record.key,
    value: record.value ?? Buffer.alloc(0),
    headers: {
      ...carryHeaders(record.headers, new Set()),
      [HEADER.dlqReason]: code,
      [HEADER.dlqMessage]: message.length > 2000 ? `${message.slice(0, 1997)}...` : message,
      [HEADER.dlqTopic]: record.topic,
      [HEADER.dlqPartition]: String(record.partition),
      [HEADER.dlqOffset]: record.offset,
      [HEADER.dlqTime]: new Date(at).toISOString(),
    },
  };
}
