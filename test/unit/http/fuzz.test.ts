import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
