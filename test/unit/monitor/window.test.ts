import { describe, expect, it } from 'vitest';
import { brier, calibrationError, rocAuc } from '../../../src/evaluation/index.js';
import { type EvaluatedPair, LiveWindow, cardFigures, decodeEvaluated, encodeEvaluated, evaluatedPair } from '../../../src/monitor/index.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

function pair(i: number, over: { version?: string; closedAt?: number } = {}): EvaluatedPair {
  // A fixed pseudo-random probability and outcome per i.
  const p = ((i * 7919) % 1000) / 1000;
  const success = (i * 104729) % 1000 < p * 1000;
  return evaluatedPair(
    `id-${i}`,
    i % 4,
    { offset: i, scoredAt: T0, detectedAt: T0, bundle: 'b', version: over.version ?? '1', successProbability: p, predictedProfitPercent: p - 0.5, predictedDurationHours: 12, rankScore: p, take: p > 0.8, fundingDifferential: (i % 17) / 17 },
    { offset: i, recordTime: T0, closedAt: over.closedAt ?? T0 + i * 1000, realisedProfitPercent: success ? 0.2 : -0.1, holdHours: null, success, modelVersion: null },
  );
}

describe('live window', () => {
  it('computes the figures of the pairs it holds, once per id, per version', () => {
    const w = new LiveWindow({ count: 10_000, ms: 30 * 24 * HOUR });
    const pairs = Array.from({ length: 500 }, (_, i) => pair(i));
    for (const p of pairs) w.add(p);
    for (const p of pairs.slice(0, 50)) w.add(p);
    w.add(pair(1, { version: '2' }));
    expect(w.added).toBe(501);
    expect(w.versions()).toEqual([{ bundle: 'b', version: '1' }, { bundle: 'b', version: '2' }]);
    const f = w.figures('b', '1');
    const p = pairs.map((x) => x.prediction.successProbability);
    const y = pairs.map((x) => (x.outcome.success ? 1 : 0));
    expect(f?.pairs).toBe(500);
    expect(f?.brier).toBeCloseTo(brier(p, y), 12);
    expect(f?.calibrationError).toBeCloseTo(calibrationError(p, y), 12);
    expect(f?.rocAuc).toBeCloseTo(rocAuc(p, y), 12);
    expect(f?.reliability).toHaveLength(10);
    expect(f?.reliability.reduce((s, b) => s + b.count, 0)).toBe(500);
    // The hold comes from closedAt − detectedAt when the outcome has none.
    expect(f?.durationMae).toBeGreaterThan(0);
    expect(w.figures('b', 'nope')).toBeUndefined();
  });

  it('keeps the latest pairs by closedAt within its count and time bounds, whatever the arrival order', () => {
    const pairs = Array.from({ length: 400 }, (_, i) => pair(i, { closedAt: T0 + i * HOUR }));
    const a = new LiveWindow({ count: 100, ms: 1000 * HOUR });
    const b = new LiveWindow({ count: 100, ms: 1000 * HOUR });
    for (const p of pairs) a.add(p);
    for (const p of [...pairs].reverse()) b.add(p);
    expect(a.figures('b', '1')).toEqual(b.figures('b', '1'));
    expect(a.figures('b', '1')?.pairs).toBe(100);
    expect(a.figures('b', '1')?.firstClosedAt).toBe(new Date(T0 + 300 * HOUR).toISOString());
    const byTime = new LiveWindow({ count: 1000, ms: 49 * HOUR });
    for (const p of pairs) byTime.add(p);
    expect(byTime.figures('b', '1')?.pairs).toBe(50);
  });

  it('round-trips the evaluated record', () => {
    const p = pair(3);
    const back = decodeEvaluated(encodeEvaluated(p, 'scored', 'outcomes', T0), p.partition);
    expect(back).toEqual(p);
    expect(decodeEvaluated(Buffer.from('{"id":1}'), 0)).toBeUndefined();
    expect(decodeEvaluated(Buffer.from('nope'), 0)).toBeUndefined();
  });

  it("reads a 2.x card's chosen calibration and a 1.x card's test-period AUC", () => {
    expect(cardFigures({ walk_forward: { choice: { calibration: 'platt' }, average: { model: { platt: { ece: 0.02, roc_auc: 0.7 } } } } })).toEqual({ calibrationError: 0.02, rocAuc: 0.7 });
    expect(cardFigures({ success: { model: { roc_auc: 0.71 } } })).toEqual({ rocAuc: 0.71 });
    expect(cardFigures(null)).toEqual({});
  });
});
