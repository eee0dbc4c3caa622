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

export function distribution(values: ArrayLike<number>): Distribution {
  const n = values.length;
  if (n === 0) return { count: 0, mean: Number.NaN, min: Number.NaN, p10: Number.NaN, p50: Number.NaN, p90: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] ?? 0;
  return { count: n, mean: sum / n, min: sorted[0] ?? Number.NaN, p10: at(0.1), p50: at(0.5), p90: at(0.9), max: sorted[n - 1] ?? Number.NaN };
}

/** Average ranks (ties share their mean rank), 1-based. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0));
  const out = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k] as number] = rank;
    i = j + 1;
  }
  return out;
}

/** ROC-AUC by the rank-sum (Mann–Whitney) formula; NaN when only one class is present. */
export function rocAuc(scores: ArrayLike<number>, positives: ArrayLike<number>): number {
  const r = ranks(scores);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if ((positives[i] ?? 0) > 0) {
      pos++;
      rankSum += r[i] ?? 0;
    }
  }
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
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

/** Indices of the k highest scores (ties broken by position, so the result is deterministic). */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b)
    .slice(0, k);
}

/** Share of positives among the k highest-scored rows. */
export function precisionAtK(scores: ArrayLike<number>, positives: ArrayLike<number>, k: number): number {
  const top = topK(scores, k);
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

/** Rows sorted by predicted probability (ties by position), split into `bins` bins as numpy.array_split does. */
function equalCountBins(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>, bins: number): Array<{ count: number; pSum: number; ySum: number }> {
  const n = probabilities.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (probabilities[a] ?? 0) - (probabilities[b] ?? 0) || a - b);
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
      const i = order[k] as number;
      pSum += probabilities[i] ?? 0;
      ySum += outcomes[i] ?? 0;
    }
    out.push({ count: size, pSum, ySum });
    start += size;
  }
  return out;
}

/** Mean of `values` over the rows with the highest `share` of `scores` (at least one row). */
export function meanAtTop(scores: ArrayLike<number>, values: ArrayLike<number>, share: number): number {
  const top = topK(scores, Math.max(1, Math.floor(scores.length * share)));
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
