import { type ReliabilityBin, brier, calibrationError, logLoss, meanAbsoluteError, precisionAtK, reliabilityTable, rocAuc } from '../evaluation/index.js';
import type { EvaluatedPair } from './evaluated.js';

export interface WindowBounds {
  /** Most pairs per version (the latest by closedAt, then id). */
  readonly count: number;
  /** Pairs closed within this long of the version's newest closedAt. */
  readonly ms: number;
}

/** Live figures of one model version over its window: the model beside the funding-differential heuristic. */
export interface LiveFigures {
  readonly bundle: string;
  readonly version: string;
  readonly pairs: number;
  readonly firstClosedAt: string | null;
  readonly lastClosedAt: string | null;
  readonly successRate: number;
  readonly meanProbability: number;
  readonly brier: number;
  readonly logLoss: number;
  readonly calibrationError: number;
  readonly reliability: readonly ReliabilityBin[];
  readonly rocAuc: number;
  /** Share of successes among the top tenth by the bundle's rank score. */
  readonly precisionAtTopDecile: number;
  readonly profitMae: number;
  readonly durationMae: number;
  readonly take: { readonly count: number; readonly meanRealisedProfitPercent: number; readonly totalRealisedProfitPercent: number };
  /** Ranking by the funding differential (fundProfit8h) on the same pairs (those that carry it). */
  readonly heuristic: { readonly pairs: number; readonly rocAuc: number; readonly precisionAtTopDecile: number };
}

interface Entry {
  readonly id: string;
  readonly closedAt: number;
  readonly p: number;
  readonly y: number;
  readonly rank: number;
  readonly profitPred: number;
  readonly profit: number;
  readonly durationPred: number;
  readonly duration: number;
  readonly take: boolean;
  readonly differential: number | null;
}

const byClose = (a: Entry, b: Entry): number => a.closedAt - b.closedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const NaN_ = Number.NaN;

/**
 * The rolling window of joined pairs per bundle and version, fed from the evaluated topic (all partitions, so every
 * monitor replica reports the same figures). A pair seen twice (at-least-once repeats) counts once. Which pairs are
 * in the window depends only on their closedAt and id, never on arrival order, so a restart or a rebalance that
 * reads the topic again gives the same figures.
 */
export class LiveWindow {
  readonly #bounds: WindowBounds;
  readonly #versions = new Map<string, { bundle: string; version: string; entries: Map<string, Entry>; figures: LiveFigures | undefined; stale: boolean; computedAt: number }>();
  #added = 0;

  constructor(bounds: WindowBounds) {
    this.#bounds = bounds;
  }

  /** Pairs taken in (repeats not counted). */
  get added(): number {
    return this.#added;
  }

  add(pair: EvaluatedPair): void {
    const { prediction: p, outcome: o } = pair;
    const key = `${p.bundle}\u0000${p.version}`;
    let v = this.#versions.get(key);
    if (v === undefined) {
      v = { bundle: p.bundle, version: p.version, entries: new Map(), figures: undefined, stale: true, computedAt: 0 };
      this.#versions.set(key, v);
    }
    if (v.entries.has(pair.id)) return;
    this.#added++;
    v.entries.set(pair.id, {
      id: pair.id,
      closedAt: o.closedAt,
      p: p.successProbability,
      y: o.success ? 1 : 0,
      rank: p.rankScore,
      profitPred: p.predictedProfitPercent,
      profit: o.realisedProfitPercent,
      durationPred: p.predictedDurationHours,
      duration: pair.holdHours,
      take: p.take,
      differential: p.fundingDifferential,
    });
    v.stale = true;
    // Trim now and then, not on every add: a quarter over the bound before sorting again.
    if (v.entries.size > this.#bounds.count * 1.25 + 100) v.entries = new Map(this.#inWindow([...v.entries.values()]).map((e) => [e.id, e]));
  }

  versions(): Array<{ bundle: string; version: string }> {
    return [...this.#versions.values()].map(({ bundle, version }) => ({ bundle, version })).sort((a, b) => a.bundle.localeCompare(b.bundle) || a.version.localeCompare(b.version));
  }

  /**
   * The version's figures over its window. Computing them sorts the window (tens of ms for 50,000 pairs), so they
   * are kept until pairs arrive, and with `maxAgeMs` (scrapes: every gauge reads them) for that long even then.
   */
  figures(bundle: string, version: string, maxAgeMs = 0): LiveFigures | undefined {
    const v = this.#versions.get(`${bundle}\u0000${version}`);
    if (v === undefined) return undefined;
    const now = performance.now();
    if (v.figures === undefined || (v.stale && now - v.computedAt >= maxAgeMs)) {
      v.figures = liveFigures(bundle, version, this.#inWindow([...v.entries.values()]));
      v.stale = false;
      v.computedAt = now;
    }
    return v.figures;
  }

  #inWindow(entries: Entry[]): Entry[] {
    entries.sort(byClose);
    const newest = entries[entries.length - 1]?.closedAt ?? 0;
    const first = entries.findIndex((e) => e.closedAt >= newest - this.#bounds.ms);
    const kept = first < 0 ? [] : entries.slice(first);
    return kept.slice(Math.max(0, kept.length - this.#bounds.count));
  }
}

/** The figures of pairs in window order (closedAt, then id). */
function liveFigures(bundle: string, version: string, entries: readonly Entry[]): LiveFigures {
  const n = entries.length;
  const col = (f: (e: Entry) => number): Float64Array => Float64Array.from(entries, f);
  const p = col((e) => e.p);
  const y = col((e) => e.y);
  const rank = col((e) => e.rank);
  const decile = Math.max(1, Math.floor(n / 10));
  const taken = entries.filter((e) => e.take);
  const totalTake = taken.reduce((s, e) => s + e.profit, 0);
  const withDiff = entries.filter((e) => e.differential !== null);
  const dY = Float64Array.from(withDiff, (e) => e.y);
  const dScore = Float64Array.from(withDiff, (e) => e.differential as number);
  const mean = (a: Float64Array): number => (a.length === 0 ? NaN_ : a.reduce((s, v) => s + v, 0) / a.length);
  return {
    bundle,
    version,
    pairs: n,
    firstClosedAt: n === 0 ? null : new Date((entries[0] as Entry).closedAt).toISOString(),
    lastClosedAt: n === 0 ? null : new Date((entries[n - 1] as Entry).closedAt).toISOString(),
    successRate: mean(y),
    meanProbability: mean(p),
    brier: n === 0 ? NaN_ : brier(p, y),
    logLoss: logLoss(p, y),
    calibrationError: calibrationError(p, y, 10),
    reliability: reliabilityTable(p, y, 10),
    rocAuc: rocAuc(p, y),
    precisionAtTopDecile: n === 0 ? NaN_ : precisionAtK(rank, y, decile),
    profitMae: n === 0 ? NaN_ : meanAbsoluteError(col((e) => e.profitPred), col((e) => e.profit)),
    durationMae: n === 0 ? NaN_ : meanAbsoluteError(col((e) => e.durationPred), col((e) => e.duration)),
    take: { count: taken.length, meanRealisedProfitPercent: taken.length === 0 ? NaN_ : totalTake / taken.length, totalRealisedProfitPercent: totalTake },
    heuristic: {
      pairs: withDiff.length,
      rocAuc: rocAuc(dScore, dY),
      precisionAtTopDecile: withDiff.length === 0 ? NaN_ : precisionAtK(dScore, dY, Math.max(1, Math.floor(withDiff.length / 10))),
    },
  };
}
