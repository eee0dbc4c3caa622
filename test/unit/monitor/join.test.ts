import { describe, expect, it } from 'vitest';
import { JoinStore, OutcomeJoin, type OutcomeSide, type PredictionSide } from '../../../src/monitor/index.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

const prediction = (offset: number, over: Partial<PredictionSide> = {}): PredictionSide => ({
  offset,
  scoredAt: T0,
  detectedAt: T0,
  bundle: 'b',
  version: '1',
  successProbability: 0.3,
  predictedProfitPercent: 0.1,
  predictedDurationHours: 10,
  rankScore: 0.3,
  take: false,
  fundingDifferential: 0.02,
  ...over,
});
const outcome = (offset: number, over: Partial<OutcomeSide> = {}): OutcomeSide => ({
  offset,
  recordTime: T0 + HOUR,
  closedAt: T0 + 10 * HOUR,
  realisedProfitPercent: 0.05,
  holdHours: 10,
  success: true,
  modelVersion: null,
  ...over,
});
const live = (tag: string) => ({ kind: 'live', tag }) as const;

function setup(): { store: JoinStore; join: OutcomeJoin } {
  const store = new JoinStore(':memory:');
  return { store, join: new OutcomeJoin(store) };
}

describe('outcome join', () => {
  it('publishes a pair once, from the record that completes it, in either order', () => {
    const { join } = setup();
    expect(join.applyPrediction('a', 0, prediction(1), live('s:1')).pairs).toEqual([]);
    const pairs = join.applyOutcome('a', 0, outcome(5), live('o:5')).pairs;
    expect(pairs.map((p) => p.id)).toEqual(['a']);
    expect(pairs[0]?.holdHours).toBe(10);
    expect(join.applyOutcome('b', 0, outcome(6), live('o:6')).pairs).toEqual([]);
    expect(join.applyPrediction('b', 0, prediction(2), live('s:2')).pairs.map((p) => p.id)).toEqual(['b']);
  });

  it('a record fetched again after a crash publishes its pair again; the other side, fetched again, does not', () => {
    const { join } = setup();
    join.applyPrediction('a', 0, prediction(1), live('s:1'));
    expect(join.applyOutcome('a', 0, outcome(5), live('o:5')).pairs).toHaveLength(1);
    // Offsets never committed: both come again, in the other order.
    expect(join.applyOutcome('a', 0, outcome(5), live('o:5')).pairs).toHaveLength(1);
    expect(join.applyPrediction('a', 0, prediction(1), live('s:1')).pairs).toEqual([]);
  });

  it('a second outcome for an id is a duplicate (counted), not a second pair; a second prediction is ignored', () => {
    const { join, store } = setup();
    join.applyPrediction('a', 0, prediction(1), live('s:1'));
    join.applyOutcome('a', 0, outcome(5), live('o:5'));
    const again = join.applyOutcome('a', 0, outcome(9, { realisedProfitPercent: -1 }), live('o:9'));
    expect(again).toEqual({ pairs: [], duplicate: true });
    expect(join.applyPrediction('a', 0, prediction(3), live('s:3')).duplicate).toBe(true);
    expect(store.counts([0], T0, HOUR).unmatched.duplicate_outcome).toBe(1);
    expect(store.get('a')?.outcome?.realisedProfitPercent).toBe(0.05);
  });

  it('a rebuilt pair the evaluated topic lacks is published by the live record that triggered the rebuild, and again if that record comes back', () => {
    const { join } = setup();
    join.applyEvaluated({ id: 'done', partition: 0, prediction: prediction(1), outcome: outcome(1), holdHours: 10 });
    const rebuild = { kind: 'rebuild', tag: 's:10' } as const;
    expect(join.applyPrediction('done', 0, prediction(1), rebuild).pairs).toEqual([]);
    expect(join.applyPrediction('lost', 0, prediction(2), rebuild).pairs).toEqual([]);
    expect(join.applyOutcome('lost', 0, outcome(2), rebuild).pairs.map((p) => p.id)).toEqual(['lost']);
    // The live record s:10 carries it (its own id has no outcome yet).
    expect(join.applyPrediction('new', 0, prediction(10), live('s:10')).pairs.map((p) => p.id)).toEqual(['lost']);
    expect(join.applyPrediction('new', 0, prediction(10), live('s:10')).pairs.map((p) => p.id)).toEqual(['lost']);
    expect(join.applyOutcome('done', 0, outcome(1), live('o:1')).pairs).toEqual([]);
  });

  it('outcomes without a prediction wait, then count as no_prediction; an expired prediction gives prediction_expired', () => {
    const { join, store } = setup();
    join.applyOutcome('early', 0, outcome(1, { recordTime: T0 }), live('o:1'));
    expect(store.counts([0], T0 + 1000, HOUR)).toMatchObject({ waiting: 1, unmatched: { no_prediction: 0 } });
    expect(store.counts([0], T0 + 2 * HOUR, HOUR)).toMatchObject({ waiting: 0, unmatched: { no_prediction: 1 } });
    expect(store.unmatched([0], T0 + 2 * HOUR, HOUR, 10)).toEqual([{ id: 'early', reason: 'no_prediction' }]);
    // Other partitions are not this one's business.
    expect(store.counts([1], T0 + 2 * HOUR, HOUR).unmatched.no_prediction).toBe(0);

    join.applyPrediction('old', 0, prediction(2, { scoredAt: T0 - 10 * 24 * HOUR }), live('s:2'));
    store.expire(T0 - 8 * 24 * HOUR, T0 - 16 * 24 * HOUR);
    expect(join.applyOutcome('old', 0, outcome(3), live('o:3')).pairs).toEqual([]);
    expect(store.counts([0], T0, HOUR).unmatched.prediction_expired).toBe(1);
  });

  it('keeps at most the configured number of waiting outcomes per partition, counting the dropped ones', () => {
    const { join, store } = setup();
    for (let i = 0; i < 5; i++) join.applyOutcome(`w${i}`, 0, outcome(i, { recordTime: T0 + i }), live(`o:${i}`));
    expect(store.boundWaiting(0, 3)).toBe(2);
    expect(store.counts([0], T0, HOUR)).toMatchObject({ waiting: 3, unmatched: { pending_overflow: 2 } });
    expect(store.get('w0')).toBeUndefined();
    expect(store.get('w4')).toBeDefined();
  });

  it('remembers positions and rolls a failed transaction back', () => {
    const { store } = setup();
    store.advance('t', 0, 10);
    store.advance('t', 0, 5);
    expect(store.position('t', 0)).toBe(10);
    expect(() =>
      store.transaction(() => {
        store.advance('t', 1, 3);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.position('t', 1)).toBeUndefined();
  });
});

describe('outcome join across partitions', () => {
  it('records of different partitions with the same offset are different records', () => {
    const { join } = setup();
    const rebuild = { kind: 'rebuild', tag: 's:0:7' } as const;
    join.applyPrediction('x', 0, prediction(3), rebuild);
    expect(join.applyOutcome('x', 0, outcome(3), rebuild).pairs).toHaveLength(1);
    // Offset 7 of partition 1 is not the record the rebuild tagged.
    expect(join.applyPrediction('y', 1, prediction(7), live('s:1:7')).pairs).toEqual([]);
    expect(join.applyPrediction('z', 0, prediction(7), live('s:0:7')).pairs.map((p) => p.id)).toEqual(['x']);
  });
});
