import type { Scores, Verdict } from '../contract/index.js';
import { DEFAULT_DECISION, type Decision } from './manifest.js';

/** The score a bundle says to rank by, and whether it reaches the bundle's threshold (never, without one). */
export function decide(decision: Decision | undefined, scores: Scores, compositeScore: number): Verdict {
  const d = decision ?? DEFAULT_DECISION;
  const rankScore = d.rankScore === 'success_probability' ? scores.successProbability : d.rankScore === 'composite_score' ? compositeScore : scores.predictedProfitPercent;
  return { rankScore, take: d.threshold !== null && rankScore >= d.threshold };
}
