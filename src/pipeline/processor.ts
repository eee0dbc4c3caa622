import type { RecordDecoder, RecordEncoder } from '../codec/index.js';
import { type Opportunity, type Problem, deriveEventId, scoredOpportunity, validateOpportunity } from '../contract/index.js';
import { type ErrorCode, ScorerError, findScorerError } from '../errors.js';
import type { ScoringEngine } from '../inference/index.js';
import type { Metrics, Stage } from '../metrics/index.js';
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
 * decode → validate → staleness → engine → encode for a chunk of records. Bad records become dead letters with
 * their original key, value and headers plus the reason; nothing here throws on data. Only a failure worth retrying
 * for the whole chunk (the schema registry is down, the scorer is shutting down) rejects.
 */
export async function processRecords(records: readonly SourceRecord[], options: ProcessorOptions): Promise<ProcessedChunk> {
  const now = options.now ?? Date.now;
  const metrics = options.metrics;
  const time = <T>(stage: Stage, work: () => T): T => {
    const end = metrics?.stageDuration.startTimer({ stage });
    try {
      return work();
    } finally {
      end?.();
    }
  };

  const deadLetters: OutRecord[] = [];
  const deadLetter = (record: SourceRecord, code: ErrorCode, message: string): void => {
    metrics?.eventsDeadLettered.inc({ reason: code });
    deadLetters.push(deadLetterRecord(record, code, message, now()));
  };

  const endDecode = metrics?.stageDuration.startTimer({ stage: 'decode' });
  const decoded = await options.decoder.decode(records.map((r) => ({ value: r.value, contentType: headerText(r.headers, HEADER.contentType) })));
  endDecode?.();

  const candidates: Array<{ record: SourceRecord; opportunity: Opportunity & { id: string } }> = [];
  let dropped = 0;
  const startedAt = now();
  time('validate', () => {
    records.forEach((record, i) => {
      const outcome = decoded[i];
      if (outcome === undefined || !outcome.ok) {
        const error = outcome?.error ?? new ScorerError('INTERNAL', 'no decode outcome');
        deadLetter(record, error.code, error.message);
        return;
      }
      const result = validateOpportunity(outcome.record);
      if (!result.ok) {
        deadLetter(record, 'VALIDATION_FAILED', describeProblems(result.problems));
        return;
      }
      const op = result.value;
      if (options.maxEventAgeMs > 0 && startedAt - op.detectedAt > options.maxEventAgeMs && options.stalePolicy !== 'score') {
        const message = `event is ${startedAt - op.detectedAt} ms old (MAX_EVENT_AGE_MS=${options.maxEventAgeMs})`;
        if (options.stalePolicy === 'dead-letter') deadLetter(record, 'STALE_EVENT', message);
        else {
          dropped++;
          metrics?.eventsDropped.inc({ reason: 'STALE_EVENT' });
        }
        return;
      }
      candidates.push({ record, opportunity: { ...op, id: op.id ?? deriveEventId(record.topic, record.partition, record.offset) } });
    });
  });

  const endInference = metrics?.stageDuration.startTimer({ stage: 'inference' });
  const outcomes = candidates.length === 0 ? [] : await options.engine.score(candidates.map((c) => c.opportunity));
  endInference?.();

  const outputs: OutRecord[] = [];
  const shadowOutputs: OutRecord[] = [];
  const scoredTimes: Array<{ detectedAt: number; recordTime: number }> = [];
  const scoredAt = now();
  time('encode', () => {
    candidates.forEach(({ record, opportunity }, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined || !outcome.ok) {
        const error = outcome?.error ?? new ScorerError('INTERNAL', 'no score outcome');
        deadLetter(record, error.code, error.message);
        return;
      }
      const source = options.includeSource === false ? null : { topic: record.topic, partition: record.partition, offset: Number(record.offset) };
      const scored = scoredOpportunity(opportunity, outcome.scores, outcome.verdict, outcome.model, scoredAt, source);
      let value: Buffer;
      try {
        value = options.encoder.encode(scored);
      } catch (err) {
        const error = findScorerError(err) ?? new ScorerError('ENCODE_FAILED', String(err));
        deadLetter(record, error.code, error.message);
        return;
      }
      outputs.push({
        key: record.key ?? opportunity.id,
        value,
        headers: {
          ...carryHeaders(record.headers, OWN_HEADERS),
          [HEADER.contentType]: options.encoder.contentType,
          [HEADER.modelBundle]: outcome.model.bundle,
          [HEADER.modelVersion]: outcome.model.version,
        },
      });
      scoredTimes.push({ detectedAt: opportunity.detectedAt, recordTime: Number(record.timestamp) });
      if (outcome.shadow !== undefined) {
        try {
          const shadow = scoredOpportunity(opportunity, outcome.shadow.scores, outcome.shadow.verdict, outcome.shadow.model, scoredAt, source);
          shadowOutputs.push({
            key: record.key ?? opportunity.id,
            value: options.encoder.encode(shadow),
            headers: {
              [HEADER.contentType]: options.encoder.contentType,
              [HEADER.modelBundle]: outcome.shadow.model.bundle,
              [HEADER.modelVersion]: outcome.shadow.model.version,
            },
          });
        } catch {
          // A shadow result that cannot be encoded is not worth failing the real one for.
        }
      }
    });
  });
  return { outputs, shadowOutputs, deadLetters, dropped, scoredTimes };
}

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

export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path.join('.') || '(event)'}: ${p.code}: ${p.message}`).join('; ');
}
