import { describe, expect, it } from 'vitest';
import { validateOpportunity } from '../../../src/contract/index.js';
import { FEATURE_COUNT, FEATURE_NAMES, writeFeatures } from '../../../src/features/index.js';
import { referenceRequest as reference } from '../../fixtures/reference-request.js';
import { testHttp } from '../../helpers/http.js';

/** The reference opportunity's 57 features in docs/features.md order; null where a feature is missing. */
function features(body: Record<string, unknown> = reference): Array<number | null> {
  const r = validateOpportunity(body);
  if (!r.ok) throw new Error('invalid fixture');
  const row = new Float32Array(FEATURE_COUNT);
  writeFeatures(r.value, row, 0);
  return Array.from(row, (v) => (Number.isNaN(v) ? null : v));
}
const named = (rows: Array<Array<number | null>>): Record<string, Array<number | null>> => Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, rows.map((r) => r[i] ?? null)]));
const close = (a: unknown, b: unknown): void => expect(Math.abs((a as number) - (b as number))).toBeLessThanOrEqual(1e-6);

describe('the replaced servers’ request shapes (001, 004, 002), through the one engine', () => {
  it('001: the cURL example as written, with real feature values, on /predict and /api/ml/predict', async () => {
    const { app } = await testHttp();
    const flask = (await app.inject({ method: 'POST', url: '/predict', payload: reference })).json<Record<string, number | boolean>>();
    for (const url of ['/predict', '/api/ml/predict']) {
      const res = await app.inject({ method: 'POST', url, payload: { symbol: 'BTCUSDT', features: features(), model_version: 'latest' } });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ symbol: string; prediction: { direction: string; confidence: number; expected_return: number }; model_name: string; model_version: string; latency_ms: number }>();
      expect(body).toMatchObject({ symbol: 'BTCUSDT', model_name: 'opportunity-scorer', model_version: '2.0.0' });
      expect(body.prediction.direction).toBe(flask.take ? 'BUY' : 'HOLD');
      close(body.prediction.confidence, flask.success_probability);
      close(body.prediction.expected_return, (flask.predicted_profit_percent as number) / 100);
      expect(typeof body.latency_ms).toBe('number');
    }
  });

  it('001: a wrong feature count or a non-number is 422 naming it', async () => {
    const { app } = await testHttp();
    const short = await app.inject({ method: 'POST', url: '/api/ml/predict', payload: { symbol: 'BTCUSDT', features: features().slice(0, 56) } });
    expect(short.statusCode).toBe(422);
    const count = short.json<{ detail: Array<{ loc: unknown[]; msg: string; type: string }> }>().detail[0];
    expect(count).toMatchObject({ loc: ['body', 'features'], type: 'wrong_count' });
    expect(count?.msg).toMatch(/got 56 features; the bundle takes 57 features in this order: long_rate_bp, short_rate_bp/);
    const wrong = features();
    wrong[7] = 'high' as unknown as number;
    const typed = await app.inject({ method: 'POST', url: '/predict', payload: { features: wrong } });
    expect(typed.statusCode).toBe(422);
    const typedDetail = typed.json<{ detail: Array<{ loc: unknown[]; msg: string }> }>().detail[0];
    expect(typedDetail?.loc).toEqual(['body', 'features', 7]);
    expect(typedDetail?.msg).toMatch(/^carry_8h_bp: /);
  });

  it('004: named feature columns of several rows, the batch form, and every unknown or missing name named', async () => {
    const { app } = await testHttp();
    const rows = [features(), features({ ...reference, longFundingRate: 0.0001, shortFundingRate: 0.0009 })];
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { model_name: 'opportunity-scorer', features: named(rows), correlation_id: 'test-123' } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ prediction: number[]; confidence: number[]; probabilities: { class_0: number[]; class_1: number[] }; correlation_id: string; model_version: string; latency_ms: number; success_probability: number[] }>();
    expect(body).toMatchObject({ correlation_id: 'test-123', model_version: 'opportunity-scorer@2.0.0' });
    expect(body.prediction).toEqual([0, 0]);
    expect(body.probabilities.class_1).toEqual(body.success_probability);
    body.probabilities.class_0.forEach((p, i) => close(p, 1 - (body.probabilities.class_1[i] as number)));

    const batch = await app.inject({ method: 'POST', url: '/predict/batch', payload: { requests: [{ model_name: 'opportunity-scorer', features: named(rows.slice(0, 1)), correlation_id: 'a' }, { features: named(rows.slice(1)), correlation_id: 'b' }], batch_size: 10 } });
    expect(batch.statusCode, batch.body).toBe(200);
    const answers = batch.json<Array<{ correlation_id: string; probabilities: { class_1: number[] } }>>();
    expect(answers.map((a) => a.correlation_id)).toEqual(['a', 'b']);
    expect([answers[0]?.probabilities.class_1[0], answers[1]?.probabilities.class_1[0]]).toEqual(body.probabilities.class_1);

    const { carry_8h_bp: _dropped, ...partial } = named(rows);
    const bad = await app.inject({ method: 'POST', url: '/predict', payload: { features: { ...partial, feature1: [1, 2] } } });
    expect(bad.statusCode).toBe(422);
    const msgs = bad.json<{ detail: Array<{ loc: unknown[]; msg: string }> }>().detail.map((d) => d.msg);
    expect(msgs).toContain('unknown feature feature1');
    expect(msgs.some((m) => m.startsWith('missing features: carry_8h_bp'))).toBe(true);
  });

  it('002: one named record with model_uri, the features_list batch, and class probabilities', async () => {
    const { app } = await testHttp();
    const record = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, features()[i] ?? null]));
    const one = await app.inject({ method: 'POST', url: '/predict', payload: { model_uri: 'models:/opportunity-scorer@production', features: record, return_proba: true } });
    expect(one.statusCode, one.body).toBe(200);
    const body = one.json<{ prediction: number; probability: number; probabilities: Record<string, number>; confidence: string }>();
    expect(body.prediction).toBe(0);
    expect(body.probabilities['1']).toBe(body.probability);
    expect(['high', 'medium', 'low']).toContain(body.confidence);
    const list = await app.inject({ method: 'POST', url: '/predict/batch', payload: { model_uri: 'models:/opportunity-scorer/2.0.0', features_list: [record, record], return_proba: false } });
    expect(list.json()).toMatchObject({ predictions: [0, 0], probabilities: null, count: 2, model_version: 'opportunity-scorer@2.0.0' });
  });

  it('a model choice selects among the loaded bundles only, and answers 404 naming them', async () => {
    const { app } = await testHttp();
    for (const [key, value] of [['model_version', '9.9.9'], ['model_name', 'your_model'], ['model_uri', 'runs:/abc123def456/model']] as const) {
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { features: features(), [key]: value } });
      expect(res.statusCode).toBe(404);
      const detail = res.json<{ detail: Array<{ loc: unknown[]; msg: string }> }>().detail[0];
      expect(detail?.loc).toEqual(['body', key]);
      expect(detail?.msg).toContain('loaded: opportunity-scorer@2.0.0 (primary, production)');
    }
    // On the Flask body too.
    expect((await app.inject({ method: 'POST', url: '/predict', payload: { ...reference, model_version: 'production' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/predict', payload: { ...reference, model_version: 'staging' } })).statusCode).toBe(404);
  });

  it('001 health and models, and 002 model listing by experiment and limit', async () => {
    const { app } = await testHttp();
    expect((await app.inject({ url: '/api/ml/health' })).json()).toMatchObject({ status: 'healthy', models_loaded: 1 });
    expect((await app.inject({ url: '/api/ml/models' })).json()).toMatchObject({ count: 1, models: [{ name: 'opportunity-scorer', version: '2.0.0' }] });
    expect((await app.inject({ url: '/models?experiment_name=opportunity-scorer&limit=100' })).json()).toMatchObject({ count: 1 });
    expect((await app.inject({ url: '/models?experiment_name=financial_ml' })).json()).toMatchObject({ count: 0, models: [] });
    expect((await app.inject({ url: '/models?limit=0' })).json()).toMatchObject({ count: 0 });
  });

  it('the OpenAPI document lists every route of every protocol', async () => {
    const { app } = await testHttp();
    const paths = Object.keys((await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>().paths);
    for (const path of ['/predict', '/predict/batch', '/api/ml/health', '/api/ml/predict', '/api/ml/predict/batch', '/api/ml/models', '/models', '/v2', '/v2/health/live', '/v2/health/ready', '/v2/models/{name}', '/v2/models/{name}/versions/{version}/infer']) {
      expect(paths, path).toContain(path);
    }
  });

  it('/redoc serves the same document as /openapi.json, rendered by the build (dist/redoc.html)', async () => {
    const { app } = await testHttp();
    const page = await app.inject({ url: '/redoc' });
    expect(page.statusCode, 'dist/redoc.html is made by `npm run build`').toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    for (const path of ['/v2/models/{name}/infer', '/api/ml/predict', '/predict/batch']) expect(page.body).toContain(`"${path}"`);
  });
});
