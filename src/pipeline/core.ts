import { type Opportunity, type Problem, validateOpportunity } from '../contract/index.js';
import { type ErrorCode, ScorerError } from '../errors.js';
import type { ScoreOutcome, ScoringEngine } from '../inference/index.js';

/** What an event's bytes or row decoded to, or why it could not be read (a codec's DecodeOutcome is one). */
export type Decoded = { readonly ok: true; readonly record: unknown } | { readonly ok: false; readonly error: ScorerError };

/** A check of a valid event before it is scored (staleness): undefined scores it; otherwise reject or drop it. */
export type Screen = (opportunity: Opportunity, now: number) => { readonly code: ErrorCode; readonly message: string; readonly drop: boolean } | undefined;

/** Starts timing a stage of the core; the returned function ends it. */
export type StageTimer = (stage: 'validate' | 'inference') => () => void;

export interface CoreOptions {
  readonly engine: ScoringEngine;
  /** The id of the event at `index` when it carries none (derived from where it came from: stable on a replay). */
  readonly fallbackId: (index: number) => string;
  readonly screen?: Screen | undefined;
  readonly time?: StageTimer | undefined;
  readonly now?: () => number;
}

export type Scored = Extract<ScoreOutcome, { ok: true }>;

/** What became of one event, at its input index. */
export type CoreResult =
  | { readonly kind: 'scored'; readonly opportunity: Opportunity & { readonly id: string }; readonly record: Readonly<Record<string, unknown>>; readonly outcome: Scored }
  /** Not scoreable: `id` is the event's own id where it could be read (for reject files). */
  | { readonly kind: 'rejected'; readonly code: ErrorCode; readonly message: string; readonly id: unknown }
  | { readonly kind: 'dropped'; readonly code: ErrorCode; readonly message: string };

/**
 * The one scoring core of the worker and of backfill (HTTP routes score through the same engine with their own
 * shapes): decoded → validated → screened → id → scored, one result per input in input order. Bad events become
 * results, never exceptions; only a failure of the whole call worth retrying (the engine shutting down) rejects.
 */
export async function scoreDecoded(decoded: readonly Decoded[], options: CoreOptions): Promise<CoreResult[]> {
  const now = options.now ?? Date.now;
  const results = new Array<CoreResult>(decoded.length);
  const candidates: Array<{ index: number; opportunity: Opportunity & { id: string }; record: Readonly<Record<string, unknown>> }> = [];
  const endValidate = options.time?.('validate');
  const startedAt = now();
  decoded.forEach((d, index) => {
    if (!d.ok) {
      results[index] = { kind: 'rejected', code: d.error.code, message: d.error.message, id: undefined };
      return;
    }
    const record = d.record;
    const result = validateOpportunity(record);
    if (!result.ok) {
      results[index] = { kind: 'rejected', code: 'VALIDATION_FAILED', message: describeProblems(result.problems), id: idOf(record) };
      return;
    }
    const screened = options.screen?.(result.value, startedAt);
    if (screened !== undefined) {
      results[index] = screened.drop ? { kind: 'dropped', code: screened.code, message: screened.message } : { kind: 'rejected', code: screened.code, message: screened.message, id: result.value.id };
      return;
    }
    candidates.push({ index, opportunity: { ...result.value, id: result.value.id ?? options.fallbackId(index) }, record: record as Readonly<Record<string, unknown>> });
  });
  endValidate?.();

  const endInference = options.time?.('inference');
  const outcomes = candidates.length === 0 ? [] : await options.engine.score(candidates.map((c) => c.opportunity));
  endInference?.();
  candidates.forEach(({ index, opportunity, record }, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined || !outcome.ok) {
      const error = outcome?.error ?? new ScorerError('INTERNAL', 'no score outcome');
      results[index] = { kind: 'rejected', code: error.code, message: error.message, id: opportunity.id };
      return;
    }
    results[index] = { kind: 'scored', opportunity, record, outcome };
  });
  return results;
}

export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path.join('.') || '(event)'}: ${p.code}: ${p.message}`).join('; ');
}

function idOf(record: unknown): unknown {
  return typeof record === 'object' && record !== null && 'id' in record ? record.id : undefined;
}
