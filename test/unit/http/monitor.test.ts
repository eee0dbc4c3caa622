import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../../src/contract/index.js';
import { buildMonitorApp } from '../../../src/http/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { createMetrics } from '../../../src/metrics/index.js';

const NOW = Date.UTC(2026, 11, 1, 12);

function app(): { app: ReturnType<typeof buildMonitorApp>; published: Outcome[] } {
  const published: Outcome[] = [];
  const a = buildMonitorApp({
    logger: createLogger({ level: 'silent', pretty: false }),
    metrics: createMetrics(new Registry(), { defaultMetrics: false }),
    version: 'test',
    readiness: () => ({ ready: true, reasons: [] }),
    limits: { bodyLimitBytes: 1 << 20, jsonMaxDepth: 32, batchMaxItems: 3 },
    publishOutcomes: (os) => {
      published.push(...os);
      return Promise.resolve();
    },
    versions: () => [{ bundle: 'b', version: '2' }],
    performance: (bundle, version) => (bundle === 'b' && version === '2' ? { pairs: 7 } : undefined),
    card: () => Promise.resolve({ calibrationError: 0.02 }),
    unmatched: (limit) => ({ limit }),
    now: () => NOW,
  });
  return { app: a, published };
}

const post = (a: ReturnType<typeof buildMonitorApp>, url: string, payload: unknown) => a.inject({ method: 'POST', url, payload: payload as object, headers: { 'content-type': 'application/json' } });

describe('monitor HTTP API', () => {
  it('POST /outcomes takes one outcome or an array, answers 202 once written', async () => {
    const { app: a, published } = app();
    const one = await post(a, '/outcomes', { id: 'x', closedAt: '2026-11-30T10:00:00Z', realisedProfitPercent: -0.2, holdHours: 12 });
    expect(one.statusCode).toBe(202);
    expect(one.json()).toEqual({ accepted: 1, ids: ['x'] });
    expect(published[0]).toEqual({ id: 'x', closedAt: Date.parse('2026-11-30T10:00:00Z'), realisedProfitPercent: -0.2, holdHours: 12, success: false, modelVersion: null });
    const many = await post(a, '/outcomes', [
      { id: 'y', closedAt: NOW, realisedProfitPercent: 0.1, holdHours: 1, success: false, modelVersion: '2' },
      { id: 'z', closedAt: NOW, realisedProfitPercent: 0.1, holdHours: 1 },
    ]);
    expect(many.statusCode).toBe(202);
    expect(published.map((o) => [o.id, o.success])).toEqual([['x', false], ['y', false], ['z', true]]);
  });

  it('POST /outcomes answers 422 naming every bad field of every item, and writes none of them', async () => {
    const { app: a, published } = app();
    const r = await post(a, '/outcomes', [{ id: 'ok', closedAt: NOW, realisedProfitPercent: 0.1, holdHours: 1 }, { closedAt: 'yesterday', realisedProfitPercent: 'a lot', holdHours: -1, success: 'yes' }]);
    expect(r.statusCode).toBe(422);
    const locs = r.json<{ detail: Array<{ loc: Array<string | number> }> }>().detail.map((d) => d.loc.join('.'));
    expect(locs).toEqual(['body.1.id', 'body.1.closedAt', 'body.1.realisedProfitPercent', 'body.1.success', 'body.1.holdHours']);
    expect(published).toEqual([]);
    const hold = await post(a, '/outcomes', { id: 'h', closedAt: NOW, realisedProfitPercent: 0.1 });
    expect(hold.json<{ detail: Array<{ loc: string[] }> }>().detail.map((d) => d.loc.join('.'))).toEqual(['body.holdHours']);
    expect((await post(a, '/outcomes', [1, 2, 3, 4])).statusCode).toBe(413);
    expect((await post(a, '/outcomes', [])).statusCode).toBe(422);
  });

  it('the seed-003 tracking route maps its shape onto an outcome (actual_value = realised profit %)', async () => {
    const { app: a, published } = app();
    const r = await post(a, '/api/ml/performance/track', { model_id: 'b', prediction_id: 'p-1', predicted_value: 0.3, actual_value: 0.25 });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ success: true, model_id: 'b', prediction_id: 'p-1', tracked: true });
    expect(published).toEqual([{ id: 'p-1', closedAt: NOW, realisedProfitPercent: 0.25, holdHours: null, success: true, modelVersion: null }]);
    const bad = await post(a, '/api/ml/performance/track', { predicted_value: 'x', actual_value: null });
    expect(bad.statusCode).toBe(422);
    expect(bad.json<{ detail: Array<{ loc: string[] }> }>().detail.map((d) => d.loc.join('.')).sort()).toEqual(['body.actual_value', 'body.model_id', 'body.predicted_value', 'body.prediction_id']);
  });

  it('serves live figures per version, the seed-003 view, and 404 for versions without pairs', async () => {
    const { app: a } = app();
    expect((await a.inject('/models/b/2/performance')).json()).toEqual({ live: { pairs: 7 }, card: { calibrationError: 0.02 } });
    expect((await a.inject('/models/b/9/performance')).statusCode).toBe(404);
    expect((await a.inject('/api/ml/performance/b')).json()).toEqual({ model_id: 'b', versions: [{ pairs: 7 }] });
    expect((await a.inject('/api/ml/performance/nope')).statusCode).toBe(404);
    expect((await a.inject('/models')).json()).toEqual({ models: [{ bundle: 'b', version: '2', live: { pairs: 7 }, card: { calibrationError: 0.02 } }] });
    expect((await a.inject('/outcomes/unmatched?limit=5')).json()).toEqual({ limit: 5 });
    expect((await a.inject('/outcomes/unmatched?limit=-1')).statusCode).toBe(422);
  });
});
