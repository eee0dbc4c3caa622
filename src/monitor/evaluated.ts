import type { OutcomeSide, PredictionSide } from './store.js';

/** One joined pair, as published to the evaluated topic. */
export interface EvaluatedPair {
  readonly id: string;
  readonly partition: number;
  readonly prediction: PredictionSide;
  readonly outcome: OutcomeSide;
  /** The outcome's hold, else closedAt − the prediction's detectedAt. */
  readonly holdHours: number;
}

export function evaluatedPair(id: string, partition: number, prediction: PredictionSide, outcome: OutcomeSide): EvaluatedPair {
  return { id, partition, prediction, outcome, holdHours: outcome.holdHours ?? Math.max(0, (outcome.closedAt - prediction.detectedAt) / 3_600_000) };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The evaluated record (JSON): the versions that scored, the prediction and the outcome with where each was read.
 * Times are ISO-8601 strings, as in the scored topic's JSON form.
 */
export function encodeEvaluated(pair: EvaluatedPair, scoredTopic: string, outcomesTopic: string, evaluatedAt: number): Buffer {
  const { prediction: p, outcome: o } = pair;
  return Buffer.from(
    JSON.stringify({
      id: pair.id,
      modelBundle: p.bundle,
      modelVersion: p.version,
      prediction: {
        detectedAt: iso(p.detectedAt),
        scoredAt: iso(p.scoredAt),
        predictedProfitPercent: p.predictedProfitPercent,
        successProbability: p.successProbability,
        predictedDurationHours: p.predictedDurationHours,
        rankScore: p.rankScore,
        take: p.take,
        fundingDifferential: p.fundingDifferential,
        source: { topic: scoredTopic, partition: pair.partition, offset: p.offset },
      },
      outcome: {
        closedAt: iso(o.closedAt),
        realisedProfitPercent: o.realisedProfitPercent,
        holdHours: pair.holdHours,
        reportedHoldHours: o.holdHours,
        success: o.success,
        modelVersion: o.modelVersion,
        receivedAt: iso(o.recordTime),
        source: { topic: outcomesTopic, partition: pair.partition, offset: o.offset },
      },
      evaluatedAt: iso(evaluatedAt),
    }),
    'utf8',
  );
}

/** Reads an evaluated record back (the monitor's own output); undefined for anything that is not one. */
export function decodeEvaluated(value: Buffer | null, partition: number): EvaluatedPair | undefined {
  try {
    type Json = Record<string, unknown>;
    const r = JSON.parse(value?.toString('utf8') ?? '') as Json;
    const p = (r['prediction'] ?? {}) as Json;
    const o = (r['outcome'] ?? {}) as Json;
    if (typeof r['id'] !== 'string') return undefined;
    const offsetOf = (side: Json): number => Number((side['source'] as Json | undefined)?.['offset']);
    const time = (v: unknown): number => Date.parse(String(v));
    const pair: EvaluatedPair = {
      id: r['id'],
      partition,
      prediction: {
        offset: offsetOf(p),
        scoredAt: time(p['scoredAt']),
        detectedAt: time(p['detectedAt']),
        bundle: String(r['modelBundle']),
        version: String(r['modelVersion']),
        successProbability: Number(p['successProbability']),
        predictedProfitPercent: Number(p['predictedProfitPercent']),
        predictedDurationHours: Number(p['predictedDurationHours']),
        rankScore: Number(p['rankScore']),
        take: p['take'] === true,
        fundingDifferential: typeof p['fundingDifferential'] === 'number' ? p['fundingDifferential'] : null,
      },
      outcome: {
        offset: offsetOf(o),
        recordTime: time(o['receivedAt']),
        closedAt: time(o['closedAt']),
        realisedProfitPercent: Number(o['realisedProfitPercent']),
        holdHours: typeof o['reportedHoldHours'] === 'number' ? o['reportedHoldHours'] : null,
        success: o['success'] === true,
        modelVersion: typeof o['modelVersion'] === 'string' ? o['modelVersion'] : null,
      },
      holdHours: Number(o['holdHours']),
    };
    const numbers = [pair.prediction.offset, pair.prediction.scoredAt, pair.prediction.successProbability, pair.outcome.offset, pair.outcome.closedAt, pair.outcome.realisedProfitPercent, pair.holdHours];
    return numbers.every(Number.isFinite) ? pair : undefined;
  } catch {
    return undefined;
  }
}
