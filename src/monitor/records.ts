import { type Outcome, validateOutcome } from '../contract/index.js';
import type { DecodeOutcome } from '../codec/index.js';
import { describeProblems } from '../pipeline/index.js';
import type { OutcomeSide, PredictionSide } from './store.js';

export type Read<T> = { readonly ok: true; readonly id: string; readonly value: T } | { readonly ok: false; readonly code: 'DECODE_FAILED' | 'VALIDATION_FAILED'; readonly message: string };

const time = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** A scored record (JSON form or Avro) read as the prediction side of a join. */
export function readPrediction(decoded: DecodeOutcome, offset: number): Read<PredictionSide> {
  if (!decoded.ok) return { ok: false, code: 'DECODE_FAILED', message: decoded.error.message };
  const r = decoded.record as Record<string, unknown>;
  const id = r['id'];
  const value: PredictionSide = {
    offset,
    scoredAt: time(r['scoredAt']),
    detectedAt: time(r['detectedAt']),
    bundle: typeof r['modelBundle'] === 'string' ? r['modelBundle'] : '',
    version: typeof r['modelVersion'] === 'string' ? r['modelVersion'] : '',
    successProbability: num(r['successProbability']),
    predictedProfitPercent: num(r['predictedProfitPercent']),
    predictedDurationHours: num(r['predictedDurationHours']),
    // Records from before schema version 2 have no rank score: 1.x bundles ranked by profit.
    rankScore: typeof r['rankScore'] === 'number' ? r['rankScore'] : num(r['predictedProfitPercent']),
    take: r['take'] === true,
    fundingDifferential: typeof r['fundingDifferential'] === 'number' ? r['fundingDifferential'] : null,
  };
  const bad = Object.entries(value).filter(([, v]) => typeof v === 'number' && !Number.isFinite(v)).map(([k]) => k);
  if (typeof id !== 'string' || id === '' || value.bundle === '' || value.version === '') bad.push('id/modelBundle/modelVersion');
  if (bad.length > 0) return { ok: false, code: 'VALIDATION_FAILED', message: `not a scored opportunity: ${bad.join(', ')} missing or not finite` };
  return { ok: true, id: id as string, value };
}

/** An outcome event (any input codec) read as the outcome side; `recordTime` is its Kafka timestamp. */
export function readOutcome(decoded: DecodeOutcome, offset: number, recordTime: number): Read<OutcomeSide> {
  if (!decoded.ok) return { ok: false, code: 'DECODE_FAILED', message: decoded.error.message };
  const v = validateOutcome(decoded.record, { allowUnknownHold: true });
  if (!v.ok) return { ok: false, code: 'VALIDATION_FAILED', message: describeProblems(v.problems) };
  return { ok: true, id: v.value.id, value: outcomeSide(v.value, offset, recordTime) };
}

export function outcomeSide(o: Outcome, offset: number, recordTime: number): OutcomeSide {
  return { offset, recordTime, closedAt: o.closedAt, realisedProfitPercent: o.realisedProfitPercent, holdHours: o.holdHours, success: o.success, modelVersion: o.modelVersion };
}
