/** Statistics for backfill summaries, backtests and version comparisons (pure functions, no I/O). */

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
  const sorted = sortedCopy(values);
  const at = (q: number): number => sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] ?? 0;
  return { count: n, mean: sum / n, min: sorted[0] ?? Number.NaN, p10: at(0.1), p50: at(0.5), p90: at(0.9), max: sorted[n - 1] ?? Number.NaN };
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

/**
 * Indices of the k highest scores in index order, ties at the cut by position. The k-th highest value is read off a
 * natively sorted copy, so no comparator runs; NaN ranks lowest.
 */
function topRows(scores: ArrayLike<number>, k: number): number[] {
  const n = scores.length;
  const take = Math.max(0, Math.min(n, Math.floor(k)));
  if (take === 0) return [];
  // A plain copy, then the NaN fix-up: a mapping Float64Array.from is several times slower at a million rows.
  const keys = Float64Array.from(scores);
  for (let i = 0; i < n; i++) keys[i] = rankKey(keys[i] as number);
  const cut = sortedCopy(keys)[n - take] as number;
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
 * Rows sorted by predicted probability (ties by position), split into `bins` bins as numpy.array_split does. A row's
 * sorted position is where its value's ties start plus how many of its ties came before it, so no index array is
 * sorted; each bin's sums add the same numbers in the same order as walking the sorted rows would.
 */
function equalCountBins(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>, bins: number): Array<{ count: number; pSum: number; ySum: number }> {
  const n = probabilities.length;
  const sorted = sortedCopy(probabilities);
  const tiesPlaced = new Int32Array(n);
  const outcomeAt = new Float64Array(n);
  // A native sort puts NaN last: NaN rows take those positions, in their order.
  let nanFrom = n;
  while (nanFrom > 0 && Number.isNaN(sorted[nanFrom - 1])) nanFrom--;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] as number;
    const first = Number.isNaN(p) ? nanFrom : lowerBound(sorted, p);
    outcomeAt[first + (tiesPlaced[first] as number)++] = outcomes[i] ?? 0;
  }
  const base = Math.floor(n / bins);
  const extra = n % bins;
  const out: Array<{ count: number; pSum: number; ySum: number }> = [];
  let start = 0;
  for (let b = 0; b < bins; b++) {
    const size = base + (b < extra ? 1 : 0);
    if (size === 0) continue;
    let pSum = 0;
    let ySum = 0;
    for (let k = start; k < start + size; k++) {
      pSum += sorted[k] as number;
      ySum += outcomeAt[k] as number;
    }
    out.push({ count: size, pSum, ySum });
    start += size;
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
