/** Statistics for backfill summaries, backtests and version comparisons (pure functions, no I/O). */

import quickselect from 'quickselect';

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
}

/** The values in ascending order, as a new array (a native numeric sort with no comparator call per pair; NaN last). */
function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** First position in ascending `sorted` whose value is not below `v` (`sorted.length` when every value is). */
export function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function distribution(values: ArrayLike<number>): Distribution {
  const n = values.length;
  if (n === 0) return { count: 0, mean: Number.NaN, min: Number.NaN, p10: Number.NaN, p50: Number.NaN, p90: Number.NaN, max: Number.NaN };
  // Three order statistics are all a distribution reads, so they are selected in linear time rather than sorted for
  // (at a million values, ~30 ms against ~110): NaN goes to the end first, where a sort would put it.
  const copy = Float64Array.from(values);
  let numbers = n;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < numbers; ) {
    const v = copy[i] as number;
    if (Number.isNaN(v)) {
      copy[i] = copy[--numbers] as number;
      copy[numbers] = v;
      continue;
    }
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    i++;
  }
  const [p10 = Number.NaN, p50 = Number.NaN, p90 = Number.NaN] = selectAscending(copy, numbers, [0.1, 0.5, 0.9].map((q) => Math.min(n - 1, Math.floor(q * n))));
  const anyNaN = numbers < n;
  return { count: n, mean: anyNaN ? Number.NaN : sum / n, min: numbers === 0 ? Number.NaN : min, p10, p50, p90, max: anyNaN ? Number.NaN : max };
}

/**
 * The values at ascending sorted `positions` (in increasing order) of `data`'s first `numbers` entries; a position
 * at or past `numbers` reads NaN (what a sort puts there). Reorders `data`: each selection narrows the next one's range.
 */
function selectAscending(data: Float64Array, numbers: number, positions: readonly number[]): number[] {
  const list = data as unknown as number[];
  let left = 0;
  return positions.map((k) => {
    if (k >= numbers) return Number.NaN;
    quickselect(list, k, left, numbers - 1);
    left = k;
    return data[k] as number;
  });
}

/**
 * Average ranks (ties share their mean rank), 1-based. A value's ties fill sorted positions first..last, so its rank
 * is their mean; found by binary search in a natively sorted copy, which at a million rows is several times faster
 * than sorting an index array with a comparator.
 */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const sorted = sortedCopy(values);
  // Where each run of equal values ends, stored at the run's first position.
  const runEnd = new Int32Array(n);
  for (let i = n - 1; i >= 0; i--) runEnd[i] = i + 1 < n && sorted[i + 1] === sorted[i] ? (runEnd[i + 1] as number) : i + 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) out[i] = Number.NaN;
    else {
      const first = lowerBound(sorted, v);
      out[i] = (first + (runEnd[first] as number) - 1) / 2 + 1;
    }
  }
  return out;
}

/**
 * ROC-AUC: the chance a positive outscores a negative, ties counting half (the Mann–Whitney rank-sum statistic, equal
 * to it exactly: both are sums of halves). Counted by walking the sorted scores of each class side by side; NaN when
 * only one class is present.
 */
export function rocAuc(scores: ArrayLike<number>, positives: ArrayLike<number>): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) ((positives[i] ?? 0) > 0 ? pos : neg).push(scores[i] as number);
  if (pos.length === 0 || neg.length === 0) return Number.NaN;
  const p = sortedCopy(pos);
  const q = sortedCopy(neg);
  let below = 0;
  let through = 0;
  let wins = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i] as number;
    while (below < q.length && (q[below] as number) < v) below++;
    if (through < below) through = below;
    while (through < q.length && (q[through] as number) <= v) through++;
    wins += below + (through - below) / 2;
  }
  return wins / (pos.length * neg.length);
}

export function brier(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < probabilities.length; i++) s += ((probabilities[i] ?? 0) - (outcomes[i] ?? 0)) ** 2;
  return s / probabilities.length;
}

export function meanAbsoluteError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < predicted.length; i++) s += Math.abs((predicted[i] ?? 0) - (actual[i] ?? 0));
  return s / predicted.length;
}

/** A score as top k orders it: NaN below every number. */
const rankKey = (v: number): number => (Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v);

/** Indices of the k highest scores in index order, ties at the cut by position; NaN ranks lowest. */
function topRows(scores: ArrayLike<number>, k: number): number[] {
  const n = scores.length;
  const take = Math.max(0, Math.min(n, Math.floor(k)));
  if (take === 0) return [];
  // A plain copy, then the NaN fix-up: a mapping Float64Array.from is several times slower at a million rows.
  const keys = Float64Array.from(scores);
  for (let i = 0; i < n; i++) keys[i] = rankKey(keys[i] as number);
  // The cut is one order statistic: selected in a copy (keys stay in row order), not sorted for.
  const [cut = Number.NaN] = selectAscending(Float64Array.from(keys), n, [n - take]);
  let above = 0;
  for (let i = 0; i < n; i++) if ((keys[i] as number) > cut) above++;
  const top: number[] = [];
  let ties = take - above;
  for (let i = 0; i < n; i++) {
    const v = keys[i] as number;
    if (v > cut) top.push(i);
    else if (v === cut && ties > 0) {
      top.push(i);
      ties--;
    }
  }
  return top;
}

/** Indices of the k highest scores, highest first, ties by position (so the result is deterministic); NaN lowest. */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  return topRows(scores, k).sort((a, b) => rankKey(scores[b] as number) - rankKey(scores[a] as number) || a - b);
}

/** Share of positives among the k highest-scored rows. */
export function precisionAtK(scores: ArrayLike<number>, positives: ArrayLike<number>, k: number): number {
  const top = topRows(scores, k);
  return top.length === 0 ? Number.NaN : top.filter((i) => (positives[i] ?? 0) > 0).length / top.length;
}

/**
 * Expected calibration error over `bins` equal-count bins of the predicted probability (rows sorted by it, ties by
 * position; the first n mod bins bins take one row more, as numpy.array_split does): the row-weighted mean of
 * |mean predicted − realised rate| per bin. training/opportunity_training/walkforward.py computes the same.
 */
export function calibrationError(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>, bins = 10): number {
  const n = probabilities.length;
  if (n === 0) return Number.NaN;
  return equalCountBins(probabilities, outcomes, bins).reduce((total, b) => total + Math.abs(b.pSum - b.ySum), 0) / n;
}

/**
 * Rows sorted by predicted probability (ties by position), split into `bins` bins as numpy.array_split does. A row
 * whose value lies strictly inside one bin's range belongs to that bin, found among the bins' last values; only the
 * values at a bin's edge (whose ties may straddle two bins) and NaN are placed by sorted position (where their ties
 * start, plus how many came before), so there is no binary search of the whole sorted copy a row. Each bin's
 * predicted sum adds its sorted values in order; its outcome sum adds its rows' outcomes in row order, which for
 * 0/1 outcomes is the same number.
 */
function equalCountBins(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>, bins: number): Array<{ count: number; pSum: number; ySum: number }> {
  const n = probabilities.length;
  const sorted = sortedCopy(probabilities);
  const base = Math.floor(n / bins);
  const extra = n % bins;
  // Bin b holds sorted positions [starts[b], starts[b + 1]); empty bins (more bins than rows) are left out.
  const starts: number[] = [0];
  for (let b = 0; b < bins; b++) starts.push((starts[b] as number) + base + (b < extra ? 1 : 0));
  const used = starts.slice(1).filter((end, b) => end > (starts[b] as number)).length;
  const last = Array.from({ length: used }, (_, b) => sorted[(starts[b + 1] as number) - 1] as number);
  const binOfPosition = (pos: number): number => {
    let b = 0;
    while ((starts[b + 1] as number) <= pos) b++;
    return b;
  };
  // A native sort puts NaN last: NaN rows take those positions, in row order.
  let nanFrom = n;
  while (nanFrom > 0 && Number.isNaN(sorted[nanFrom - 1])) nanFrom--;
  const edges = new Map<number, number>();
  for (let b = 0; b < used; b++) {
    for (const v of [sorted[starts[b] as number] as number, last[b] as number]) if (!Number.isNaN(v)) edges.set(v, lowerBound(sorted, v));
  }
  let nextNaN = nanFrom;
  const ySums = new Float64Array(used);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] as number;
    let bin: number;
    if (Number.isNaN(p)) bin = binOfPosition(nextNaN++);
    else {
      const edge = edges.get(p);
      if (edge !== undefined) {
        bin = binOfPosition(edge);
        edges.set(p, edge + 1);
      } else {
        // Strictly inside a bin: the first bin whose last value is not below p.
        let lo = 0;
        let hi = used - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if ((last[mid] as number) < p) lo = mid + 1;
          else hi = mid;
        }
        bin = lo;
      }
    }
    ySums[bin] = (ySums[bin] as number) + (outcomes[i] ?? 0);
  }
  const out: Array<{ count: number; pSum: number; ySum: number }> = [];
  for (let b = 0; b < used; b++) {
    let pSum = 0;
    for (let k = starts[b] as number; k < (starts[b + 1] as number); k++) pSum += sorted[k] as number;
    out.push({ count: (starts[b + 1] as number) - (starts[b] as number), pSum, ySum: ySums[b] as number });
  }
  return out;
}

/** Mean of `values` over the rows with the highest `share` of `scores` (at least one row). */
export function meanAtTop(scores: ArrayLike<number>, values: ArrayLike<number>, share: number): number {
  const top = topRows(scores, Math.max(1, Math.floor(scores.length * share)));
  return top.length === 0 ? Number.NaN : top.reduce((sum, i) => sum + (values[i] ?? 0), 0) / top.length;
}

/** Spearman's rank correlation. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += ra[i] ?? 0;
    mb += rb[i] ?? 0;
  }
  ma /= n;
  mb /= n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = (ra[i] ?? 0) - ma;
    const db = (rb[i] ?? 0) - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va === 0 || vb === 0 ? Number.NaN : cov / Math.sqrt(va * vb);
}

/** A growable Float64Array, so a million values cost 8 MB rather than an array of boxed numbers. */
export class Column {
  #data = new Float64Array(1024);
  #length = 0;

  push(v: number): void {
    if (this.#length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = v;
  }

  get values(): Float64Array {
    return this.#data.subarray(0, this.#length);
  }
}

/** Mean negative log-likelihood of the outcomes, probabilities clipped to [1e-15, 1 − 1e-15] as scikit-learn does. */
export function logLoss(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  const n = probabilities.length;
  if (n === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, probabilities[i] ?? 0));
    s -= (outcomes[i] ?? 0) > 0 ? Math.log(p) : Math.log(1 - p);
  }
  return s / n;
}

export interface ReliabilityBin {
  readonly count: number;
  readonly meanPredicted: number;
  readonly observedRate: number;
}

/**
 * The reliability table behind calibrationError: the same `bins` equal-count bins of the predicted probability,
 * each with its mean prediction and realised rate, so the row-weighted mean gap of this table is that error.
 */
export function reliabilityTable(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  return equalCountBins(probabilities, outcomes, bins).map((b) => ({ count: b.count, meanPredicted: b.pSum / b.count, observedRate: b.ySum / b.count }));
}
