import { describe, expect, it } from 'vitest';
import { calibrationError, distribution, meanAtTop, precisionAtK, reliabilityTable, rocAuc, spearman, topK } from '../../../src/evaluation/index.js';

// The definitions the fast versions must equal: argsort with a comparator, ties by position.
const argsort = (v: readonly number[], dir: 1 | -1): number[] => v.map((_, i) => i).sort((a, b) => dir * ((v[a] as number) - (v[b] as number)) || a - b);
function referenceRanks(v: readonly number[]): number[] {
  const order = argsort(v, 1);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j + 1 < v.length && v[order[j + 1] as number] === v[order[i] as number]) j++;
    for (let k = i; k <= j; k++) out[order[k] as number] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}
function referenceBins(p: readonly number[], y: readonly number[], bins: number): Array<{ count: number; meanPredicted: number; observedRate: number }> {
  const order = argsort(p, 1);
  const out = [];
  for (let b = 0, start = 0; b < bins; b++) {
    const size = Math.floor(p.length / bins) + (b < p.length % bins ? 1 : 0);
    if (size === 0) continue;
    let ps = 0;
    let ys = 0;
    for (let k = start; k < start + size; k++) {
      ps += p[order[k] as number] as number;
      ys += y[order[k] as number] as number;
    }
    out.push({ count: size, meanPredicted: ps / size, observedRate: ys / size });
    start += size;
  }
  return out;
}
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('backtest statistics', () => {
  it('calibration error weighs |mean predicted − realised| of equal-count bins by their rows', () => {
    // 4 rows, 2 bins: {0.1, 0.2} realised 0/2 -> |0.15 − 0|; {0.6, 0.9} realised 1/2 -> |0.75 − 0.5|.
    expect(calibrationError([0.9, 0.1, 0.6, 0.2], [1, 0, 0, 0], 2)).toBeCloseTo((2 * 0.15 + 2 * 0.25) / 4, 12);
    // 5 rows in 2 bins: the first bin takes the extra row, as numpy.array_split does.
    expect(calibrationError([0.1, 0.2, 0.3, 0.4, 0.5], [0, 0, 0, 1, 1], 2)).toBeCloseTo((3 * 0.2 + 2 * 0.55) / 5, 12);
    // More bins than rows: one row a bin, so each row's own error counts.
    expect(calibrationError([0.5, 0.5], [1, 0], 10)).toBe(0.5);
    expect(calibrationError([], [], 10)).toBeNaN();
  });

  it('meanAtTop averages the values of the highest-scored share, at least one row', () => {
    expect(meanAtTop([3, 1, 2, 4], [10, 20, 30, 40], 0.5)).toBe(25);
    expect(meanAtTop([3, 1], [10, 20], 0.1)).toBe(10);
  });

  it('ranks, top k and equal-count bins equal their comparator-sort definitions exactly, ties included', () => {
    const random = seeded(7);
    for (const [n, levels] of [[1, 3], [2, 1], [97, 5], [1000, 40], [5000, 1e6]] as const) {
      // Few levels make long runs of ties that straddle bin edges and the top-k cut.
      const p = Array.from({ length: n }, () => Math.floor(random() * levels) / levels);
      const y = Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
      const q = Array.from({ length: n }, () => Math.floor(random() * levels) - levels / 2);
      expect(reliabilityTable(p, y, 10)).toEqual(referenceBins(p, y, 10));
      for (const k of [0, 1, Math.floor(n / 10), n, n + 5]) expect(topK(q, k)).toEqual(argsort(q, -1).slice(0, k));
      const pos = y.reduce<number>((a, b) => a + b, 0);
      const rankSum = referenceRanks(p).reduce((sum, r, i) => sum + (y[i] === 1 ? r : 0), 0);
      const auc = pos === 0 || pos === n ? Number.NaN : (rankSum - (pos * (pos + 1)) / 2) / (pos * (n - pos));
      expect(rocAuc(p, y)).toBe(auc);
      if (n > 2) expect(spearman(p, q)).toBeCloseTo(spearman(referenceRanks(p), referenceRanks(q)), 12);
    }
  });

  it('distribution reads the same positions a sorted copy would, NaN last', () => {
    // The definition: a native sort (NaN last), quantile q at floor(q·n), the mean of every value.
    const reference = (v: readonly number[]): Record<string, number> => {
      const sorted = Float64Array.from(v).sort();
      const at = (q: number): number => sorted[Math.min(v.length - 1, Math.floor(q * v.length))] as number;
      return { count: v.length, mean: v.reduce((a, b) => a + b, 0) / v.length, min: sorted[0] as number, p10: at(0.1), p50: at(0.5), p90: at(0.9), max: sorted[v.length - 1] as number };
    };
    const random = seeded(11);
    for (const [n, levels] of [[1, 3], [2, 1], [9, 4], [97, 5], [1000, 40], [5000, 1e6]] as const) {
      const v = Array.from({ length: n }, () => Math.floor(random() * levels) - levels / 3);
      const d = distribution(v);
      const r = reference(v);
      expect({ ...d, mean: 0 }).toEqual({ ...r, mean: 0 });
      expect(d.mean).toBeCloseTo(r.mean as number, 9);
      // NaN sorts last: the upper quantiles and the max read it, the mean is NaN.
      const withNaN = [...v, ...Array.from({ length: Math.ceil(n / 5) }, () => Number.NaN)].sort(() => random() - 0.5);
      const dn = distribution(withNaN);
      const rn = reference(withNaN);
      for (const key of ['count', 'min', 'p10', 'p50', 'p90', 'max', 'mean'] as const) expect(dn[key]).toEqual(rn[key]);
      // The top k read off a selected cut: the same rows as sorting for it.
      const labels = v.map(() => (random() < 0.3 ? 1 : 0));
      const k = Math.max(1, Math.floor(n / 7));
      const top = argsort(v, -1).slice(0, k);
      expect(precisionAtK(v, labels, k)).toBe(top.filter((i) => labels[i] === 1).length / top.length);
    }
    expect(distribution([Number.NaN, Number.NaN]).min).toBeNaN();
    expect(distribution([]).count).toBe(0);
  });

  it('NaN scores rank last in top k and fill the last calibration bin', () => {
    expect(topK([0.2, Number.NaN, 0.9, 0.1], 3)).toEqual([2, 0, 3]);
    expect(topK([Number.NaN, 0.5, Number.NaN], 3)).toEqual([1, 0, 2]);
    const table = reliabilityTable([Number.NaN, 0.1, 0.2, 0.3], [1, 0, 0, 1], 2);
    expect(table[0]).toEqual({ count: 2, meanPredicted: 0.15000000000000002, observedRate: 0 });
    expect(table[1]?.count).toBe(2);
    expect(table[1]?.meanPredicted).toBeNaN();
    expect(table[1]?.observedRate).toBe(1);
  });
});
