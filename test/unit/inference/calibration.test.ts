import { describe, expect, it } from 'vitest';
import { type Calibration, DEFAULT_DECISION, type Decision, calibrate, calibrateAll, decide } from '../../../src/inference/index.js';

// Float32 probes and what training/opportunity_training/calibration.py `apply` returned for them (numpy, float32).
const PROBES = [0, 1e-9, 0.001, 0.02, 0.1, 0.3333, 0.5, 0.9, 1].map((v) => Math.fround(v));
const PLATT = { method: 'platt', a: 0.6077669752715873, b: -0.8956192016565814 } as const;
const PLATT_REFERENCE = [
  2.2733109290129505e-5, 2.2733109290129505e-5, 0.0061001889407634735, 0.03693579137325287, 0.09699928760528564, 0.21132078766822815,
  0.2899515926837921, 0.6082068681716919, 0.9998636841773987,
];

describe('calibration', () => {
  it('Platt scaling matches the Python reference to the float32 bit', () => {
    expect(Array.from(calibrateAll(PLATT, Float32Array.from(PROBES)))).toEqual(PLATT_REFERENCE);
  });

  it('isotonic interpolates linearly between thresholds and holds the end values outside them (numpy.interp)', () => {
    const iso: Calibration = { method: 'isotonic', x: [0.1, 0.2, 0.4], y: [0.05, 0.1, 0.3] };
    expect(calibrate(iso, 0)).toBe(0.05);
    expect(calibrate(iso, 0.1)).toBe(0.05);
    expect(calibrate(iso, 0.15)).toBeCloseTo(0.075, 15);
    expect(calibrate(iso, 0.3)).toBeCloseTo(0.2, 15);
    expect(calibrate(iso, 0.4)).toBe(0.3);
    expect(calibrate(iso, 0.99)).toBe(0.3);
    expect(calibrate(iso, Number.NaN)).toBeNaN();
  });

  it('leaves outputs alone without a calibration or with method none', () => {
    const raw = Float32Array.from([0.1, 0.7]);
    expect(calibrateAll(undefined, raw)).toBe(raw);
    expect(calibrateAll({ method: 'none' }, raw)).toBe(raw);
  });
});

describe('the take decision', () => {
  const scores = { predictedProfitPercent: -0.05, successProbability: 0.2, predictedDurationHours: 30 };
  const composite = 0.2 * -0.05;
  const decision = (over: Partial<Decision>): Decision => ({ ...DEFAULT_DECISION, ...over });

  it('ranks by the score the bundle names and takes at or above its threshold', () => {
    expect(decide(decision({ rankScore: 'success_probability', threshold: 0.2 }), scores, composite)).toEqual({ rankScore: 0.2, take: true });
    expect(decide(decision({ rankScore: 'success_probability', threshold: 0.21 }), scores, composite)).toEqual({ rankScore: 0.2, take: false });
    expect(decide(decision({ rankScore: 'composite_score', threshold: -1 }), scores, composite)).toEqual({ rankScore: 0.2 * -0.05, take: true });
  });

  it('never takes without a threshold, and a bundle without a decision ranks by predicted profit', () => {
    expect(decide(decision({ rankScore: 'success_probability', threshold: null }), scores, composite)).toEqual({ rankScore: 0.2, take: false });
    expect(decide(undefined, scores, composite)).toEqual({ rankScore: -0.05, take: false });
  });
});
