import { describe, expect, it } from 'vitest';
import { type Problem, deriveEventId, validateOpportunity } from '../../../src/contract/index.js';
import { referenceRequest } from '../../fixtures/reference-request.js';


function problems(input: unknown): Problem[] {
  const result = validateOpportunity(input);
  if (result.ok) throw new Error('expected problems');
  return [...result.problems];
}

const byField = (ps: Problem[]): Record<string, string> => Object.fromEntries(ps.map((p) => [p.path.join('.'), p.code]));

describe('validateOpportunity', () => {
  it('accepts the reference request, parsing ISO timestamps and defaulting optionals to null', () => {
    const result = validateOpportunity(referenceRequest);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      id: null,
      detectedAt: Date.parse('2025-10-26T15:00:00Z'),
      longNextFundingTime: Date.parse('2025-10-26T16:00:00Z'),
      fundProfit8h24hProj: null,
      priceSpread3dAvg: null,
    });
  });

  it('accepts epoch milliseconds, null volume and spread, and ignores unknown fields', () => {
    const result = validateOpportunity({
      ...referenceRequest,
      detectedAt: 1761490800000,
      volume24h: null,
      currentPriceSpreadPercent: undefined,
      somethingElse: { nested: true },
    });
    expect(result.ok && result.value.volume24h === null && result.value.detectedAt === 1761490800000).toBe(true);
  });

  it('lists every missing required field (the reference server crashed on these)', () => {
    const ps = problems({ symbol: 'BTCUSDT' });
    expect(Object.keys(byField(ps)).sort()).toEqual(
      [
        'detectedAt',
        'fundApr',
        'fundProfit8h',
        'longExchange',
        'longFundingIntervalHours',
        'longFundingRate',
        'longNextFundingTime',
        'shortExchange',
        'shortFundingIntervalHours',
        'shortFundingRate',
        'shortNextFundingTime',
      ].sort(),
    );
    expect(ps.every((p) => p.code === 'missing' && p.message === 'field required')).toBe(true);
  });

  it('names the field and the kind of every problem at once', () => {
    const ps = problems({
      ...referenceRequest,
      symbol: 42,
      longFundingRate: Number.NaN,
      shortFundingRate: Number.POSITIVE_INFINITY,
      longFundingIntervalHours: 0,
      shortFundingIntervalHours: 25,
      volume24h: -1,
      detectedAt: 'yesterday',
      fundApr: '1095',
      id: 'x'.repeat(300),
    });
    expect(byField(ps)).toEqual({
      symbol: 'wrong_type',
      longFundingRate: 'not_finite',
      shortFundingRate: 'not_finite',
      longFundingIntervalHours: 'out_of_range',
      shortFundingIntervalHours: 'out_of_range',
      volume24h: 'out_of_range',
      detectedAt: 'invalid_timestamp',
      fundApr: 'wrong_type',
      id: 'too_long',
    });
  });

  it('rejects a next funding time more than one interval before detectedAt', () => {
    const detectedAt = Date.parse('2026-01-01T12:00:00Z');
    const event = { ...referenceRequest, detectedAt, shortNextFundingTime: detectedAt + 3_600_000 };
    const ok = validateOpportunity({ ...event, longNextFundingTime: detectedAt - 8 * 3_600_000 });
    expect(ok.ok).toBe(true);
    expect(byField(problems({ ...event, longNextFundingTime: detectedAt - 8 * 3_600_000 - 1 }))).toEqual({
      longNextFundingTime: 'out_of_range',
    });
  });

  it('rejects timestamps in year 9999 or in seconds instead of milliseconds', () => {
    expect(byField(problems({ ...referenceRequest, detectedAt: '9999-12-31T00:00:00Z' }))).toEqual({ detectedAt: 'out_of_range' });
    expect(byField(problems({ ...referenceRequest, detectedAt: 1761490800 }))).toEqual({ detectedAt: 'out_of_range' });
    expect(byField(problems({ ...referenceRequest, detectedAt: 8.7e15 }))).toEqual({ detectedAt: 'out_of_range' });
  });

  it('rejects symbols and venues that are not names', () => {
    expect(byField(problems({ ...referenceRequest, symbol: '{BTC', longExchange: ' bybit', shortExchange: 'bin\nance' }))).toEqual({
      symbol: 'out_of_range',
      longExchange: 'out_of_range',
      shortExchange: 'out_of_range',
    });
  });

  it('rejects rates that cannot be fractions and identical venues', () => {
    expect(byField(problems({ ...referenceRequest, longFundingRate: 5, shortExchange: 'bybit' }))).toEqual({
      longFundingRate: 'out_of_range',
      shortExchange: 'out_of_range',
    });
  });

  it('rejects anything that is not an object', () => {
    for (const input of [null, [], 'text', 3]) expect(problems(input)[0]?.path).toEqual([]);
  });

  it('cannot be polluted through __proto__ keys', () => {
    const input = JSON.parse(`{"__proto__": {"symbol": "X"}, "constructor": {"prototype": {"y": 1}}}`) as unknown;
    expect(byField(problems(input)).symbol).toBe('missing');
    expect(({} as Record<string, unknown>).symbol).toBeUndefined();
  });
});

describe('deriveEventId', () => {
  it('is topic-partition-offset', () => {
    expect(deriveEventId('opportunities', 3, '1200')).toBe('opportunities-3-1200');
  });
});
