import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { testHttp } from '../../helpers/http.js';
import { referenceRequest } from '../../fixtures/reference-request.js';

const reference = referenceRequest;
// The seed-000 response fields, unchanged, plus what this service adds (the version stamp, latency, the decision).
const SEED_KEYS = ['composite_score', 'predicted_duration_hours', 'predicted_profit_percent', 'success_probability'];
const ADDED_KEYS = ['latency_ms', 'model_version', 'rank_score', 'take'];
const PREDICTION_KEYS = [...SEED_KEYS, ...ADDED_KEYS].sort();

interface Case {
  readonly name: string;
  readonly url: string;
  readonly payload?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly locs?: Array<Array<string | number>>;
}

const json = (v: unknown): string => JSON.stringify(v);
const cases: Case[] = [
  { name: 'the reference request', url: '/predict', payload: json(reference), status: 200 },
  { name: 'epoch-millisecond timestamps and nulls', url: '/predict', payload: json({ ...reference, detectedAt: 1761490800000, volume24h: null, currentPriceSpreadPercent: null }), status: 200 },
  { name: 'a batch of two', url: '/predict/batch', payload: json([reference, { ...reference, symbol: 'ETHUSDT' }]), status: 200 },
  { name: 'an empty batch', url: '/predict/batch', payload: '[]', status: 200 },
  { name: 'a missing field (the reference crashed with "bad operand type for abs()")', url: '/predict', payload: json({ ...reference, fundProfit8h: undefined }), status: 422, locs: [['body', 'fundProfit8h']] },
  {
    name: 'every bad field at once',
    url: '/predict',
    payload: json({ ...reference, symbol: 1, longFundingIntervalHours: 0, detectedAt: 'soon' }),
    status: 422,
    locs: [['body', 'symbol'], ['body', 'longFundingIntervalHours'], ['body', 'detectedAt']],
  },
  { name: 'an item of a batch, by index', url: '/predict/batch', payload: json([reference, { ...reference, fundApr: 'x' }]), status: 422, locs: [['body', 1, 'fundApr']] },
  { name: 'a batch that is not an array', url: '/predict/batch', payload: json(reference), status: 422, locs: [['body']] },
  { name: 'a single predict with an array', url: '/predict', payload: '[]', status: 422, locs: [['body']] },
  { name: 'malformed JSON', url: '/predict', payload: '{"symbol": ', status: 400, locs: [['body']] },
  { name: 'JSON nested too deep', url: '/predict', payload: `${'['.repeat(40)}${']'.repeat(40)}`, status: 400 },
  { name: 'too many batch items', url: '/predict/batch', payload: json(Array(101).fill(reference)), status: 413 },
  { name: 'a body over the limit', url: '/predict', payload: json({ ...reference, symbol: 'x'.repeat(1 << 20) }), status: 413 },
  { name: 'a wrong content type', url: '/predict', payload: 'symbol=BTCUSDT', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  { name: '__proto__ keys', url: '/predict', payload: '{"__proto__": {"polluted": true}, "symbol": "BTCUSDT"}', status: 422 },
];

describe('POST /predict and /predict/batch', () => {
  it.each(cases)('$name → $status', async (c) => {
    const { app } = await testHttp();
    const res = await app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: { 'content-type': 'application/json', ...c.headers } });
    expect(res.statusCode, res.body).toBe(c.status);
    const body = res.json<unknown>();
    if (c.status === 200) {
      const items = Array.isArray(body) ? body : [body];
      for (const item of items) expect(Object.keys(item as object).sort()).toEqual(PREDICTION_KEYS);
    } else {
      const detail = (body as { detail: Array<{ loc: unknown[]; msg: string; type: string }> }).detail;
      expect(detail.length).toBeGreaterThan(0);
      for (const loc of c.locs ?? []) expect(detail.map((d) => d.loc)).toContainEqual(loc);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers exactly the reference fields plus model_version, latency_ms, rank_score and take, with a probability and a bundle', async () => {
    const { app } = await testHttp();
    const res = await app.inject({ method: 'POST', url: '/predict', payload: reference });
    const body = res.json<Record<string, number | string | boolean>>();
    expect(Object.keys(body).sort()).toEqual(PREDICTION_KEYS);
    for (const key of SEED_KEYS) expect(typeof body[key], key).toBe('number');
    expect(body.success_probability).toBeGreaterThanOrEqual(0);
    expect(body.success_probability).toBeLessThanOrEqual(1);
    expect(body.composite_score).toBeCloseTo((body.success_probability as number) * (body.predicted_profit_percent as number), 6);
    expect(body.model_version).toBe('opportunity-scorer@2.0.0');
    // 2.0.0 ranks by its calibrated success probability and carries no threshold that made money: never take.
    expect(body.rank_score).toBe(body.success_probability);
    expect(body.take).toBe(false);
  });

  it('gives batch results in input order, equal to single results', async () => {
    const { app } = await testHttp();
    const items = [reference, { ...reference, longFundingRate: 0.0001, shortFundingRate: 0.0009 }, { ...reference, volume24h: null }];
    const batch = (await app.inject({ method: 'POST', url: '/predict/batch', payload: items })).json<Array<Record<string, number>>>();
    for (const [i, item] of items.entries()) {
      const single = (await app.inject({ method: 'POST', url: '/predict', payload: item })).json<Record<string, number>>();
      expect(batch[i]?.predicted_profit_percent).toBe(single.predicted_profit_percent);
      expect(batch[i]?.success_probability).toBe(single.success_probability);
    }
  });

  it('echoes the correlation id from the header or the body, and returns x-request-id', async () => {
    const { app } = await testHttp();
    const byHeader = await app.inject({ method: 'POST', url: '/predict', payload: reference, headers: { 'x-correlation-id': 'c-1', 'x-request-id': 'r-1' } });
    expect(byHeader.json<{ correlation_id: string }>().correlation_id).toBe('c-1');
    expect(byHeader.headers['x-request-id']).toBe('r-1');
    const byBody = await app.inject({ method: 'POST', url: '/predict', payload: { ...reference, correlationId: 'c-2' } });
    expect(byBody.json<{ correlation_id: string }>().correlation_id).toBe('c-2');
    expect(byBody.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('coalesces 50 concurrent requests into fewer model runs', async () => {
    const http = await testHttp({}, { maxSize: 256, maxDelayMs: 20, queueMax: 8192 });
    const { app } = http;
    const modelRuns = (): number => http.modelRuns();
    const before = modelRuns();
    const responses = await Promise.all(Array.from({ length: 50 }, () => app.inject({ method: 'POST', url: '/predict', payload: reference })));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(modelRuns() - before).toBeLessThan(50);
  });

  it('answers 503 with Retry-After while draining or overloaded', async () => {
    const draining = await testHttp();
    draining.setDraining(true);
    const res = await draining.app.inject({ method: 'POST', url: '/predict', payload: reference });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect((await draining.app.inject({ url: '/ready' })).statusCode).toBe(503);

    const tiny = await testHttp({}, { maxSize: 1, maxDelayMs: 50, queueMax: 1 });
    const burst = await Promise.all(Array.from({ length: 20 }, () => tiny.app.inject({ method: 'POST', url: '/predict', payload: reference })));
    const codes = new Set(burst.map((r) => r.statusCode));
    expect(codes.has(503)).toBe(true);
    expect([...codes].every((c) => c === 200 || c === 503)).toBe(true);
  });
});

describe('health, models and the OpenAPI document', () => {
  it('serves /health and /models', async () => {
    const { app } = await testHttp();
    expect((await app.inject({ url: '/health' })).json()).toMatchObject({ status: 'healthy', service: 'opportunity-scorer', version: 'test', models_loaded: 1 });
    const models = (await app.inject({ url: '/models' })).json<{ models: unknown[]; shadow: unknown }>();
    expect(models).toMatchObject({ models: [{ name: 'opportunity-scorer', version: '2.0.0', alias: 'production', role: 'primary', share_percent: 100, feature_count: 57 }], shadow: { enabled: false } });
    const one = (await app.inject({ url: '/models/opportunity-scorer' })).json<{ feature_names: string[]; metrics: unknown }>();
    expect(one.feature_names).toHaveLength(57);
    expect(one.metrics).toEqual({ success: { model: { roc_auc: 0.7 } } });
    expect((await app.inject({ url: '/models/nope' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/docs/' })).statusCode).toBe(200);
  });

  it('every response of the table validates against the served OpenAPI document', async () => {
    const { app } = await testHttp();
    const doc = (await app.inject({ url: '/openapi.json' })).json<{
      components: { schemas: Record<string, object> };
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
    }>();
    const ajv = new Ajv({ strict: false, allErrors: true });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);
    let checked = 0;
    for (const c of cases) {
      const res = await app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: { 'content-type': 'application/json', ...c.headers } });
      const schema = doc.paths[c.url]?.post?.responses[String(res.statusCode)]?.content?.['application/json']?.schema;
      expect(schema, `${c.url} ${res.statusCode} is documented`).toBeDefined();
      const validate = ajv.compile({ ...schema, components: doc.components });
      expect(validate(res.json()), `${c.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked++;
    }
    expect(checked).toBe(cases.length);
  });
});

describe('CORS', () => {
  it('is off by default and answers configured origins only', async () => {
    const off = await testHttp();
    const plain = await off.app.inject({ method: 'OPTIONS', url: '/predict', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    const on = await testHttp({ corsOrigins: ['https://app.example'] });
    const allowed = await on.app.inject({ method: 'OPTIONS', url: '/predict', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await on.app.inject({ method: 'OPTIONS', url: '/predict', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
