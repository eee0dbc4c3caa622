import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../../src/features/index.js';
import { testHttp } from '../../helpers/http.js';
import { referenceRequest } from '../../fixtures/reference-request.js';

const valid = referenceRequest;
const fields = Object.keys(valid);

/** Bodies that are wrong in every way a client or an attacker might send them. */
const malformed: fc.Arbitrary<{ body: string; url: string }> = fc.oneof(
  // any JSON value at all
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  // a valid request with fields removed, replaced by anything, or joined by hostile keys
  fc
    .record({
      drop: fc.subarray(fields),
      replace: fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 })),
      extra: fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'x'), fc.jsonValue({ maxDepth: 2 })),
    })
    .map(({ drop, replace, extra }) => {
      const o: Record<string, unknown> = { ...valid, ...replace };
      for (const f of drop) delete o[f];
      const text = JSON.stringify(o);
      const hostile = Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
      return hostile === '' ? text : `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${hostile}}`;
    }),
  // broken text: truncated JSON, random characters, deep nesting
  fc.string({ maxLength: 200 }),
  fc.nat({ max: 300 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.nat({ max: 400 }).map((n) => JSON.stringify(valid).slice(0, n)),
).chain((body) => fc.constantFrom('/predict', '/predict/batch').map((url) => ({ body, url })));

describe('malformed HTTP bodies', () => {
  it('10,000 generated bodies: never a 5xx, never a crash, no prototype pollution, bounded memory', async () => {
    const { app } = await testHttp();
    const heapBefore = process.memoryUsage().heapUsed;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(malformed, async ({ body, url }) => {
        const res = await app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json' } });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, `${url} ${body.slice(0, 200)} -> ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode !== 200) expect(Array.isArray(res.json<{ detail: unknown }>().detail)).toBe(true);
      }),
      { numRuns: 10_000, seed: 1122 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('x');
    // Generous: the point is "bounded", not a leak of the bodies seen.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
    expect([...statuses.keys()].every((s) => [200, 400, 413, 422].includes(s))).toBe(true);
    // 10,000 requests take 5-10 s on a 2-core machine: a correctness test, so it gets room, not a speed limit.
  }, 120_000);
});

/** Inference requests of the Open Inference Protocol, wrong in every part: tensors, shapes, datatypes, data, binary sizes. */
const validTensor = { name: 'input', datatype: 'FP32', shape: [1, 57], data: new Array<number>(57).fill(0.5) };
const malformedInfer: fc.Arbitrary<{ body: Buffer; headers: Record<string, string> }> = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((v) => ({ body: Buffer.from(JSON.stringify(v)), headers: {} })),
  fc
    .record({
      name: fc.oneof(fc.constant('input'), fc.constantFrom('symbol', 'fundApr', 'detectedAt', 'id'), fc.string({ maxLength: 10 })),
      datatype: fc.oneof(fc.constantFrom('FP32', 'FP64', 'INT64', 'BYTES', 'BOOL', 'FP16', 'UINT8'), fc.jsonValue({ maxDepth: 1 })),
      shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 120 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
      data: fc.oneof(fc.array(fc.oneof(fc.double(), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null)), { maxLength: 120 }), fc.jsonValue({ maxDepth: 3 })),
      outputs: fc.option(fc.array(fc.record({ name: fc.oneof(fc.constant('take'), fc.string({ maxLength: 8 })) }), { maxLength: 3 }), { nil: undefined }),
    })
    .map((t) => ({ body: Buffer.from(JSON.stringify({ inputs: [t], ...(t.outputs === undefined ? {} : { outputs: t.outputs }) })), headers: {} })),
  fc
    .record({ declared: fc.integer({ min: -10, max: 600 }), sent: fc.uint8Array({ maxLength: 400 }), headerLength: fc.integer({ min: -5, max: 2000 }) })
    .map(({ declared, sent, headerLength }) => {
      const head = Buffer.from(JSON.stringify({ inputs: [{ ...validTensor, data: undefined, parameters: { binary_data_size: declared } }] }));
      return { body: Buffer.concat([head, Buffer.from(sent)]), headers: { 'inference-header-content-length': String(headerLength % 3 === 0 ? head.length : headerLength) } };
    }),
  fc.string({ maxLength: 200 }).map((t) => ({ body: Buffer.from(t), headers: { 'content-encoding': 'gzip' } })),
);

describe('malformed OIP v2 inference requests', () => {
  it('2,000 generated requests: never a 5xx, every error in the protocol form {"error": …}', async () => {
    const { app } = await testHttp();
    await fc.assert(
      fc.asyncProperty(malformedInfer, async ({ body, headers }) => {
        const res = await app.inject({ method: 'POST', url: '/v2/models/opportunity-scorer/infer', payload: body, headers });
        expect(res.statusCode, `${body.subarray(0, 200).toString()} -> ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode !== 200) expect(typeof res.json<{ error: unknown }>().error).toBe('string');
      }),
      { numRuns: 2_000, seed: 2211 },
    );
  }, 120_000);
});

/** The other servers' feature-vector bodies (001 arrays, 004 columns, 002 records), broken every way, on every route that takes them. */
const featureValue = fc.oneof(fc.double(), fc.constant(null), fc.string({ maxLength: 4 }), fc.boolean(), fc.jsonValue({ maxDepth: 1 }));
const malformedSeed: fc.Arbitrary<{ body: string; url: string }> = fc
  .oneof(
    fc.array(featureValue, { maxLength: 70 }).map((features) => ({ symbol: 'BTCUSDT', features, model_version: 'latest' })),
    fc
      .record({ names: fc.subarray([...FEATURE_NAMES, 'feature1', '__proto__', 'constructor']), rows: fc.nat({ max: 3 }), v: featureValue })
      .map(({ names, rows, v }) => ({ model_name: 'opportunity-scorer', features: Object.fromEntries(names.map((n) => [n, new Array(rows).fill(v)])), correlation_id: 'x' })),
    fc.record({ names: fc.subarray([...FEATURE_NAMES]), v: featureValue }).map(({ names, v }) => ({ model_uri: 'models:/opportunity-scorer/2.0.0', features: Object.fromEntries(names.map((n) => [n, v])) })),
    fc.record({ key: fc.constantFrom('model_version', 'model_name', 'model_uri'), value: fc.jsonValue({ maxDepth: 2 }) }).map(({ key, value }) => ({ features: new Array(57).fill(0), [key]: value })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ requests: [v], batch_size: 10 })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ features_list: [v], model_uri: 'models:/opportunity-scorer@production' })),
  )
  .chain((b) => fc.constantFrom('/predict', '/predict/batch', '/api/ml/predict', '/api/ml/predict/batch').map((url) => ({ body: JSON.stringify(b), url })));

describe('malformed feature-vector bodies of the replaced servers', () => {
  it('3,000 generated bodies: never a 5xx, every error a detail list', async () => {
    const { app } = await testHttp();
    await fc.assert(
      fc.asyncProperty(malformedSeed, async ({ body, url }) => {
        const res = await app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json' } });
        expect(res.statusCode, `${url} ${body.slice(0, 200)} -> ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode !== 200) expect(Array.isArray(res.json<{ detail: unknown }>().detail)).toBe(true);
      }),
      { numRuns: 3_000, seed: 3311 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);
});
