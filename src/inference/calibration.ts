import type { Calibration } from './manifest.js';

/** Same clip as training/opportunity_training/calibration.py: 0 and 1 map to finite logits. */
const EPS = 1e-7;

/**
 * The calibrated probability of one model output, in double precision (the caller stores it as float32, as the
 * Python reference does). Mirrors calibration.py `apply` operation for operation, so parity holds to the last bit
 * in all but rare rounding ties.
 */
export function calibrate(cal: Calibration, p: number): number {
  switch (cal.method) {
    case 'none':
      return p;
    case 'platt': {
      const q = Math.min(Math.max(p, EPS), 1 - EPS);
      return 1 / (1 + Math.exp(-(cal.a * Math.log(q / (1 - q)) + cal.b)));
    }
    case 'isotonic':
      return interpolate(cal.x, cal.y, p);
  }
}

/** numpy.interp: linear between the points, the end values outside them; NaN stays NaN. */
function interpolate(xs: readonly number[], ys: readonly number[], v: number): number {
  const n = xs.length;
  if (Number.isNaN(v)) return Number.NaN;
  if (v <= (xs[0] as number)) return ys[0] as number;
  if (v >= (xs[n - 1] as number)) return ys[n - 1] as number;
  // Largest j with xs[j] <= v.
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) <= v) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo] as number;
  const y0 = ys[lo] as number;
  const slope = ((ys[lo + 1] as number) - y0) / ((xs[lo + 1] as number) - x0);
  return slope * (v - x0) + y0;
}

/** Calibrates a column of model outputs into a new float32 column. */
export function calibrateAll(cal: Calibration | undefined, p: Float32Array): Float32Array {
  if (cal === undefined || cal.method === 'none') return p;
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = calibrate(cal, p[i] as number);
  return out;
}
