import type { Opportunity, ScoredOpportunity } from '../contract/index.js';
import type { Scored } from '../pipeline/index.js';
import {
  Column,
  type Distribution,
  brier,
  calibrationError,
  distribution,
  meanAbsoluteError,
  meanAtTop,
  precisionAtK,
  rocAuc,
  spearman,
  topK,
} from './evaluation.js';

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

/**
 * What the statistics need of a scored row beyond its output (plain numbers, so a scoring thread can send them): the
 * funding differential (the baseline's ranking), the labels where the input has them, and the shadow's scores.
 */
export interface RowFacts {
  readonly differential: number;
  readonly labels?: { readonly success: number; readonly profit: number; readonly duration: number } | undefined;
  readonly shadow?: { readonly model: string; readonly predictedProfitPercent: number; readonly successProbability: number; readonly predictedDurationHours: number; readonly compositeScore: number } | undefined;
}

export function rowFacts(opportunity: Opportunity, record: Readonly<Record<string, unknown>>, outcome: Scored): RowFacts {
  const { labelSuccess, labelProfitPercent, labelDurationHours } = record;
  const labelled = typeof labelSuccess === 'number' && typeof labelProfitPercent === 'number' && typeof labelDurationHours === 'number';
  const shadow = outcome.shadow;
  return {
    differential: opportunity.fundProfit8h,
    labels: labelled ? { success: labelSuccess, profit: labelProfitPercent, duration: labelDurationHours } : undefined,
    shadow: shadow === undefined ? undefined : { model: `${shadow.model.bundle}@${shadow.model.version}`, ...shadow.scores, compositeScore: shadow.compositeScore },
  };
}

const OUTPUTS = ['predictedProfitPercent', 'successProbability', 'predictedDurationHours', 'compositeScore'] as const;
type Output = (typeof OUTPUTS)[number];

const columns = (): Record<Output, Column> => Object.fromEntries(OUTPUTS.map((o) => [o, new Column()])) as Record<Output, Column>;

/**
 * What a backfill learns from its results as they stream past: the output distributions, a backtest against the
 * labels where the input has them (beside the funding-differential baseline), and with a shadow bundle a compare.
 */
export class BackfillStatistics {
  readonly #outputs = columns();
  readonly #shadow = columns();
  readonly #labels = { success: new Column(), profit: new Column(), duration: new Column(), differential: new Column(), predSuccess: new Column(), predProfit: new Column(), predDuration: new Column(), rank: new Column(), take: new Column() };
  readonly #compare: { readonly threshold: number; readonly topK: number } | undefined;
  #disagreements = 0;
  #model = '';
  #shadowModel = '';

  constructor(compare: { readonly threshold: number; readonly topK: number } | undefined) {
    this.#compare = compare;
  }

  /** The serving model of the run (bundle@version), once a result was seen. */
  get model(): string {
    return this.#model;
  }

  add(scored: ScoredOpportunity, facts: RowFacts): void {
    this.#model = `${scored.modelBundle}@${scored.modelVersion}`;
    for (const k of OUTPUTS) this.#outputs[k].push(scored[k]);
    if (facts.labels !== undefined) {
      const l = this.#labels;
      l.success.push(facts.labels.success);
      l.profit.push(facts.labels.profit);
      l.duration.push(facts.labels.duration);
      l.differential.push(facts.differential);
      l.predSuccess.push(scored.successProbability);
      l.predProfit.push(scored.predictedProfitPercent);
      l.predDuration.push(scored.predictedDurationHours);
      l.rank.push(scored.rankScore);
      l.take.push(scored.take ? 1 : 0);
    }
    const shadow = facts.shadow;
    if (shadow !== undefined && this.#compare !== undefined) {
      this.#shadowModel = shadow.model;
      this.#shadow.predictedProfitPercent.push(shadow.predictedProfitPercent);
      this.#shadow.successProbability.push(shadow.successProbability);
      this.#shadow.predictedDurationHours.push(shadow.predictedDurationHours);
      this.#shadow.compositeScore.push(shadow.compositeScore);
      if (scored.compositeScore >= this.#compare.threshold !== shadow.compositeScore >= this.#compare.threshold) this.#disagreements++;
    }
  }

  outputs(): OutputDistributions {
    const c = this.#outputs;
    return {
      predictedProfitPercent: distribution(c.predictedProfitPercent.values),
      successProbability: distribution(c.successProbability.values),
      predictedDurationHours: distribution(c.predictedDurationHours.values),
      compositeScore: distribution(c.compositeScore.values),
    };
  }

  /** The backtest at precision cut `k`, when any result had labels. */
  backtest(k: number): BacktestReport | undefined {
    const l = this.#labels;
    const n = l.success.values.length;
    if (n === 0) return undefined;
    return {
      rows: n,
      successRate: distribution(l.success.values).mean,
      k,
      model: {
        rocAuc: rocAuc(l.predSuccess.values, l.success.values),
        brier: brier(l.predSuccess.values, l.success.values),
        calibrationError: calibrationError(l.predSuccess.values, l.success.values),
        precisionAtK: precisionAtK(l.predSuccess.values, l.success.values, k),
        profitMae: meanAbsoluteError(l.predProfit.values, l.profit.values),
        durationMae: meanAbsoluteError(l.predDuration.values, l.duration.values),
        topDecileProfitByRankScore: meanAtTop(l.rank.values, l.profit.values, 0.1),
      },
      baseline: {
        description: 'rank by the current funding differential (fundProfit8h); profit = differential x realised hold / 8 h - 0.2 % fees; duration = median realised hold',
        rocAuc: rocAuc(l.differential.values, l.success.values),
        precisionAtK: precisionAtK(l.differential.values, l.success.values, k),
        profitMae: meanAbsoluteError(
          l.differential.values.map((d, i) => (d * (l.duration.values[i] ?? 0)) / 8 - 0.2),
          l.profit.values,
        ),
        durationMae: meanAbsoluteError(new Float64Array(n).fill(distribution(l.duration.values).p50), l.duration.values),
        topDecileProfit: meanAtTop(l.differential.values, l.profit.values, 0.1),
      },
      take: takeReport(l.take.values, l.profit.values),
    };
  }

  /** The serving vs shadow comparison, when a shadow scored anything. */
  compare(): CompareReport | undefined {
    const options = this.#compare;
    const rows = this.#shadow.compositeScore.values.length;
    if (options === undefined || rows === 0) return undefined;
    const outputs: Record<string, { meanAbsDelta: number; maxAbsDelta: number; rankCorrelation: number }> = {};
    for (const key of OUTPUTS) {
      const a = this.#outputs[key].values;
      const b = this.#shadow[key].values;
      const deltas = a.map((v, i) => Math.abs(v - (b[i] ?? 0)));
      const d = distribution(deltas);
      outputs[key] = { meanAbsDelta: d.mean, maxAbsDelta: d.max, rankCorrelation: spearman(a, b) };
    }
    const kk = Math.min(options.topK, this.#outputs.compositeScore.values.length);
    const topA = new Set(topK(this.#outputs.compositeScore.values, kk));
    const overlap = topK(this.#shadow.compositeScore.values, kk).filter((i) => topA.has(i)).length / Math.max(1, kk);
    return {
      rows,
      a: this.#model,
      b: this.#shadowModel,
      outputs,
      topK: { k: kk, overlap },
      decision: { threshold: options.threshold, disagreement: this.#disagreements / rows },
    };
  }
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
