import type { Opportunity } from './opportunity.js';

export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The output record (schemas/scored-opportunity.avsc); timestamps are epoch milliseconds. */
export interface ScoredOpportunity {
  readonly id: string;
  readonly symbol: string;
  readonly longExchange: string;
  readonly shortExchange: string;
  readonly detectedAt: number;
  readonly predictedProfitPercent: number;
  readonly successProbability: number;
  readonly predictedDurationHours: number;
  readonly compositeScore: number;
  /** The score the bundle says to rank opportunities by (its `decision.rankScore`). */
  readonly rankScore: number;
  /** Whether the bundle's walk-forward-chosen threshold says to act; always false for a bundle with no threshold. */
  readonly take: boolean;
  /** The input's fundProfit8h: the heuristic's ranking score, for comparisons on realised outcomes. */
  readonly fundingDifferential: number;
  readonly modelBundle: string;
  readonly modelVersion: string;
  readonly scoredAt: number;
  readonly source: SourcePosition | null;
}

export interface Scores {
  readonly predictedProfitPercent: number;
  readonly successProbability: number;
  readonly predictedDurationHours: number;
}

/** The bundle's decision about one opportunity. */
export interface Verdict {
  readonly rankScore: number;
  readonly take: boolean;
}

/** Assembles the output record; the composite is always computed here, from the same bundle's two outputs. */
export function scoredOpportunity(
  input: Opportunity & { readonly id: string },
  scores: Scores,
  verdict: Verdict,
  model: { readonly bundle: string; readonly version: string },
  scoredAt: number,
  source: SourcePosition | null,
): ScoredOpportunity {
  return {
    id: input.id,
    symbol: input.symbol,
    longExchange: input.longExchange,
    shortExchange: input.shortExchange,
    detectedAt: input.detectedAt,
    predictedProfitPercent: scores.predictedProfitPercent,
    successProbability: scores.successProbability,
    predictedDurationHours: scores.predictedDurationHours,
    compositeScore: scores.successProbability * scores.predictedProfitPercent,
    rankScore: verdict.rankScore,
    take: verdict.take,
    fundingDifferential: input.fundProfit8h,
    modelBundle: model.bundle,
    modelVersion: model.version,
    scoredAt,
    source,
  };
}

/** The JSON form: the same fields, timestamps as ISO-8601 strings. */
export type ScoredJson = Omit<ScoredOpportunity, 'detectedAt' | 'scoredAt'> & { readonly detectedAt: string; readonly scoredAt: string };

/** A chunk's outputs share one scoredAt: its ISO form is made once, not once a record. */
let lastScoredAt = Number.NaN;
let lastScoredAtIso = '';

function scoredAtIso(ms: number): string {
  if (ms !== lastScoredAt) {
    lastScoredAtIso = new Date(ms).toISOString();
    lastScoredAt = ms;
  }
  return lastScoredAtIso;
}

/**
 * The JSON form, field by field in the order the JSON output has always had (scored-opportunity.avsc appends its
 * newer fields): a literal of one fixed shape whatever order the record's own keys are in, and no other keys.
 */
export function scoredToJson(s: ScoredOpportunity): ScoredJson {
  const source = s.source;
  const detectedAt = new Date(s.detectedAt).toISOString();
  return {
    id: s.id,
    symbol: s.symbol,
    longExchange: s.longExchange,
    shortExchange: s.shortExchange,
    detectedAt,
    predictedProfitPercent: s.predictedProfitPercent,
    successProbability: s.successProbability,
    predictedDurationHours: s.predictedDurationHours,
    compositeScore: s.compositeScore,
    rankScore: s.rankScore,
    take: s.take,
    fundingDifferential: s.fundingDifferential,
    modelBundle: s.modelBundle,
    modelVersion: s.modelVersion,
    // A backfill stamps each result with its own detectedAt (`--scored-at event`): that string is made already.
    scoredAt: s.scoredAt === s.detectedAt ? detectedAt : scoredAtIso(s.scoredAt),
    source: source === null ? null : { topic: source.topic, partition: source.partition, offset: source.offset },
  };
}
