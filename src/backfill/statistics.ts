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
} from '../evaluation/index.js';

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
 * The numbers the statistics read of each scored row, packed per chunk (a scoring thread sends one array, not
 * objects): the four outputs, the rank score and `take`, the funding differential (the baseline's ranking), the
 * labels (NaN when the input has none) and the shadow's four outputs (NaN without a shadow).
 */
export interface StatChunk {
  readonly numbers: Float64Array;
  readonly count: number;
  readonly model: string;
  readonly shadowModel: string | undefined;
}

const F = { profit: 0, success: 1, duration: 2, composite: 3, rank: 4, take: 5, differential: 6, labelSuccess: 7, labelProfit: 8, labelDuration: 9, shadowProfit: 10, shadowSuccess: 11, shadowDuration: 12, shadowComposite: 13 } as const;
const WIDTH = 14;

/** Packs a chunk's scored rows for BackfillStatistics. */
export class StatPacker {
  #numbers: Float64Array;
  #count = 0;
  #model = '';
  #shadowModel: string | undefined;

  constructor(capacity: number) {
    this.#numbers = new Float64Array(Math.max(1, capacity) * WIDTH);
  }

  push(scored: ScoredOpportunity, opportunity: Opportunity, record: Readonly<Record<string, unknown>>, outcome: Scored): void {
    const at = this.#count++ * WIDTH;
    const n = this.#numbers;
    this.#model = `${scored.modelBundle}@${scored.modelVersion}`;
    n[at + F.profit] = scored.predictedProfitPercent;
    n[at + F.success] = scored.successProbability;
    n[at + F.duration] = scored.predictedDurationHours;
    n[at + F.composite] = scored.compositeScore;
    n[at + F.rank] = scored.rankScore;
    n[at + F.take] = scored.take ? 1 : 0;
    n[at + F.differential] = opportunity.fundProfit8h;
    const { labelSuccess, labelProfitPercent, labelDurationHours } = record;
    const labelled = typeof labelSuccess === 'number' && typeof labelProfitPercent === 'number' && typeof labelDurationHours === 'number';
    n[at + F.labelSuccess] = labelled ? labelSuccess : Number.NaN;
    n[at + F.labelProfit] = labelled ? labelProfitPercent : Number.NaN;
    n[at + F.labelDuration] = labelled ? labelDurationHours : Number.NaN;
    const shadow = outcome.shadow;
    if (shadow !== undefined) this.#shadowModel = `${shadow.model.bundle}@${shadow.model.version}`;
    n[at + F.shadowProfit] = shadow?.scores.predictedProfitPercent ?? Number.NaN;
    n[at + F.shadowSuccess] = shadow?.scores.successProbability ?? Number.NaN;
    n[at + F.shadowDuration] = shadow?.scores.predictedDurationHours ?? Number.NaN;
    n[at + F.shadowComposite] = shadow?.compositeScore ?? Number.NaN;
  }

  finish(): StatChunk {
    return { numbers: this.#numbers.subarray(0, this.#count * WIDTH), count: this.#count, model: this.#model, shadowModel: this.#shadowModel };
  }
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

  add(chunk: StatChunk): void {
    if (chunk.count === 0) return;
    this.#model = chunk.model;
    const n = chunk.numbers;
    const l = this.#labels;
    for (let at = 0; at < chunk.count * WIDTH; at += WIDTH) {
      const v = (field: number): number => n[at + field] as number;
      this.#outputs.predictedProfitPercent.push(v(F.profit));
      this.#outputs.successProbability.push(v(F.success));
      this.#outputs.predictedDurationHours.push(v(F.duration));
      this.#outputs.compositeScore.push(v(F.composite));
      if (!Number.isNaN(v(F.labelSuccess))) {
        l.success.push(v(F.labelSuccess));
        l.profit.push(v(F.labelProfit));
        l.duration.push(v(F.labelDuration));
        l.differential.push(v(F.differential));
        l.predSuccess.push(v(F.success));
        l.predProfit.push(v(F.profit));
        l.predDuration.push(v(F.duration));
        l.rank.push(v(F.rank));
        l.take.push(v(F.take));
      }
      if (chunk.shadowModel !== undefined && this.#compare !== undefined && !Number.isNaN(v(F.shadowComposite))) {
        this.#shadowModel = chunk.shadowModel;
        this.#shadow.predictedProfitPercent.push(v(F.shadowProfit));
        this.#shadow.successProbability.push(v(F.shadowSuccess));
        this.#shadow.predictedDurationHours.push(v(F.shadowDuration));
        this.#shadow.compositeScore.push(v(F.shadowComposite));
        if (v(F.composite) >= this.#compare.threshold !== v(F.shadowComposite) >= this.#compare.threshold) this.#disagreements++;
      }
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
