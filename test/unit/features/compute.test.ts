import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Opportunity } from '../../../src/contract/index.js';
import { FEATURE_COUNT, FEATURE_INDEX, FEATURE_NAMES, OPTIONAL_INPUT_FEATURES, writeFeatures } from '../../../src/features/index.js';
import * as fixtures from '../../fixtures/opportunities.js';

function features(op: Opportunity): Record<string, number> {
  const row = new Float32Array(FEATURE_COUNT);
  writeFeatures(op, row);
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, row[i] ?? Number.NaN]));
}

/** Compares hand-computed values (float32 precision) and NaN-ness by feature name. */
function expectFeatures(op: Opportunity, expected: Record<string, number>): void {
  const actual = features(op);
  for (const [name, value] of Object.entries(expected)) {
    expect(FEATURE_INDEX[name], `unknown feature ${name}`).toBeDefined();
    if (Number.isNaN(value)) expect(actual[name], name).toBeNaN();
    else expect(actual[name], name).toBeCloseTo(value, Math.abs(value) >= 100 ? 2 : 4);
  }
}

const exchanges = (prefix: 'long' | 'short', hot: string): Record<string, number> =>
  Object.fromEntries(['binance', 'bybit', 'hyperliquid', 'okx', 'other'].map((v) => [`${prefix}_exchange_${v}`, v === hot ? 1 : 0]));

describe('writeFeatures (hand-computed values)', () => {
  it('reference example: 8 h / 8 h, both legs earn, settle together', () => {
    expectFeatures(fixtures.referenceExample, {
      long_rate_bp: -10,
      short_rate_bp: 20,
      long_rate_hourly_bp: -1.25,
      short_rate_hourly_bp: 2.5,
      long_rate_8h_bp: -10,
      short_rate_8h_bp: 20,
      carry_hourly_bp: 3.75,
      carry_8h_bp: 30,
      carry_apr_pct: 328.5,
      carry_abs_8h_bp: 30,
      long_rate_sign: -1,
      short_rate_sign: 1,
      both_legs_earn: 1,
      short_leg_carry_share: 2 / 3,
      long_interval_h: 8,
      short_interval_h: 8,
      interval_ratio_log2: 0,
      interval_mismatch: 0,
      hours_to_long_funding: 1,
      hours_to_short_funding: 1,
      hours_to_next_payment: 1,
      funding_time_gap_h: 0,
      long_funding_phase: 0.125,
      short_funding_phase: 0.125,
      first_payment_bp: 30,
      carry_next_8h_bp: 30,
      carry_next_24h_bp: 90,
      hour_of_day_sin: -Math.SQRT1_2,
      hour_of_day_cos: -Math.SQRT1_2,
      day_of_week_sin: Math.sin((2 * Math.PI * 6) / 7), // Sunday
      day_of_week_cos: Math.cos((2 * Math.PI * 6) / 7),
      log10_volume24h_usd: 6,
      price_spread_pct: 0.05,
      price_spread_24h_avg_pct: Number.NaN,
      spread_minus_24h_avg_pct: Number.NaN,
      break_even_hours_fees: 0.2 / 0.0375,
      break_even_hours_total: 0.15 / 0.0375,
      fund_profit_8h_pct: 0.3,
      fund_apr_pct: 328.5,
      fund_profit_8h_24h_proj_pct: Number.NaN,
      proj_to_current_ratio: Number.NaN,
      fund_profit_consistency_pct: 0,
      ...exchanges('long', 'bybit'),
      ...exchanges('short', 'binance'),
      base_is_btc_eth: 1,
    });
  });

  it('1 h vs 8 h intervals with every optional input missing: the long venue settles first', () => {
    expectFeatures(fixtures.hourlyVsEightHour, {
      long_rate_hourly_bp: 0.125,
      short_rate_hourly_bp: 0.375,
      carry_hourly_bp: 0.25,
      carry_8h_bp: 2,
      carry_apr_pct: 21.9,
      long_rate_sign: 1,
      short_rate_sign: 1,
      both_legs_earn: 0,
      short_leg_carry_share: 0.75,
      interval_ratio_log2: 3,
      interval_mismatch: 1,
      hours_to_long_funding: 2 / 3,
      hours_to_short_funding: 14 / 3,
      hours_to_next_payment: 2 / 3,
      funding_time_gap_h: 4,
      long_funding_phase: 2 / 3,
      short_funding_phase: 14 / 24,
      first_payment_bp: -0.125,
      carry_next_8h_bp: 2, // 1 short settlement, 8 long ones
      carry_next_24h_bp: 6, // 3 short, 24 long
      hour_of_day_sin: Math.sin((2 * Math.PI * (10 / 3)) / 24),
      hour_of_day_cos: Math.cos((2 * Math.PI * (10 / 3)) / 24),
      day_of_week_sin: 0, // Monday
      day_of_week_cos: 1,
      log10_volume24h_usd: Number.NaN,
      price_spread_pct: Number.NaN,
      price_spread_3d_avg_pct: Number.NaN,
      spread_minus_3d_avg_pct: Number.NaN,
      break_even_hours_fees: 80,
      break_even_hours_total: Number.NaN,
      fund_apr_24h_proj_pct: Number.NaN,
      proj_minus_current_8h_pct: Number.NaN,
      fund_profit_consistency_pct: 0,
      ...exchanges('long', 'hyperliquid'),
      ...exchanges('short', 'binance'),
      base_is_btc_eth: 1,
    });
  });

  it('a losing carry: break-even capped, spreads and projections present', () => {
    expectFeatures(fixtures.negativeCarry, {
      long_rate_bp: 5,
      short_rate_bp: -2,
      carry_hourly_bp: -0.875,
      carry_8h_bp: -7,
      carry_abs_8h_bp: 7,
      long_rate_sign: 1,
      short_rate_sign: -1,
      both_legs_earn: 0,
      short_leg_carry_share: -0.25 / 0.875,
      hours_to_next_payment: 30 / 3600,
      first_payment_bp: -7,
      carry_next_8h_bp: -7,
      log10_volume24h_usd: 0,
      price_spread_pct: -0.1,
      spread_minus_24h_avg_pct: -0.05,
      spread_minus_3d_avg_pct: -0.12,
      break_even_hours_fees: 10_000,
      break_even_hours_total: 10_000,
      fund_profit_8h_24h_proj_pct: 0.01,
      fund_apr_24h_proj_pct: 10.95,
      proj_minus_current_8h_pct: 0.08,
      proj_to_current_ratio: 0.01 / 0.071,
      fund_profit_consistency_pct: 0,
      ...exchanges('long', 'binance'),
      ...exchanges('short', 'bybit'),
      base_is_btc_eth: 0,
    });
  });

  it('a next funding time before detectedAt counts its next settlements; unknown venues are "other"', () => {
    expectFeatures(fixtures.nextFundingInThePast, {
      hours_to_long_funding: -1,
      hours_to_short_funding: 7,
      hours_to_next_payment: -1,
      funding_time_gap_h: 8,
      long_funding_phase: -0.25,
      first_payment_bp: 1, // the long leg (rate −1 bp) receives first
      carry_next_8h_bp: 3, // long settles at +3 h and +7 h, short at +7 h
      carry_next_24h_bp: 9,
      interval_ratio_log2: 1,
      carry_hourly_bp: 0.375,
      break_even_hours_fees: 0.2 / 0.00375,
      ...exchanges('long', 'okx'),
      ...exchanges('short', 'other'),
      base_is_btc_eth: 0,
    });
  });

  it('zero rates at midnight on a Thursday: neutral share, no carry, a spread that pays the fees', () => {
    expectFeatures(fixtures.zeroRatesAtMidnight, {
      long_rate_sign: 0,
      short_rate_sign: 0,
      short_leg_carry_share: 0.5,
      carry_hourly_bp: 0,
      first_payment_bp: 0,
      carry_next_8h_bp: 0, // next settlements exactly at +8 h: outside [0, 8)
      hours_to_next_payment: 8,
      hour_of_day_sin: 0,
      hour_of_day_cos: 1,
      day_of_week_sin: Math.sin((2 * Math.PI * 3) / 7),
      day_of_week_cos: Math.cos((2 * Math.PI * 3) / 7),
      break_even_hours_fees: 10_000,
      break_even_hours_total: 0,
      fund_profit_consistency_pct: 0,
    });
  });

  it('the short venue settles first; an APR projection without the 8 h one', () => {
    expectFeatures(fixtures.shortSettlesFirst, {
      carry_hourly_bp: 0.875,
      carry_8h_bp: 7,
      first_payment_bp: 4,
      hours_to_next_payment: 1,
      funding_time_gap_h: -4,
      interval_ratio_log2: -1,
      carry_next_8h_bp: 7, // short at +1 h and +5 h, long at +5 h
      carry_next_24h_bp: 21,
      hour_of_day_sin: Math.sin((2 * Math.PI * 23.5) / 24),
      hour_of_day_cos: Math.cos((2 * Math.PI * 23.5) / 24),
      day_of_week_sin: Math.sin((2 * Math.PI * 2) / 7), // Wednesday
      fund_apr_24h_proj_pct: 50,
      fund_profit_8h_24h_proj_pct: Number.NaN,
      proj_minus_current_8h_pct: Number.NaN,
      base_is_btc_eth: 0,
    });
  });
});

describe('writeFeatures (properties)', () => {
  const rate = fc.double({ min: -0.01, max: 0.01, noNaN: true, noDefaultInfinity: true });
  const interval = fc.constantFrom(1, 2, 4, 8, 0.5, 24, 6);
  const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null });
  const pct = fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true });
  const opportunity: fc.Arbitrary<Opportunity> = fc
    .record({
      detectedAt: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
      longInterval: interval,
      shortInterval: interval,
      longOffsetFrac: fc.double({ min: -1, max: 1, noNaN: true }),
      shortOffsetFrac: fc.double({ min: -1, max: 1, noNaN: true }),
      L: rate,
      S: rate,
      volume: maybe(fc.double({ min: 0, max: 1e12, noNaN: true })),
      spread: maybe(pct),
      spread24: maybe(pct),
      spread3d: maybe(pct),
      proj: maybe(pct),
      projApr: maybe(pct),
      longExchange: fc.constantFrom('binance', 'Bybit', 'hyperliquid', 'okx', 'kraken', 'x'),
      shortExchange: fc.constantFrom('binance', 'bybit', 'HYPERLIQUID', 'gate', 'y'),
      symbol: fc.constantFrom('BTCUSDT', 'ETH-USDC-PERP', 'SOL', 'A'),
      fundProfit8h: pct,
    })
    .map((r) => ({
      id: null,
      symbol: r.symbol,
      longExchange: r.longExchange,
      shortExchange: r.shortExchange,
      longFundingRate: r.L,
      shortFundingRate: r.S,
      longFundingIntervalHours: r.longInterval,
      shortFundingIntervalHours: r.shortInterval,
      detectedAt: r.detectedAt,
      longNextFundingTime: r.detectedAt + Math.round(r.longOffsetFrac * r.longInterval * 3_600_000),
      shortNextFundingTime: r.detectedAt + Math.round(r.shortOffsetFrac * r.shortInterval * 3_600_000),
      fundProfit8h: r.fundProfit8h,
      fundApr: r.fundProfit8h * 1095,
      volume24h: r.volume,
      currentPriceSpreadPercent: r.spread,
      priceSpread24hAvg: r.spread24,
      priceSpread3dAvg: r.spread3d,
      fundProfit8h24hProj: r.proj,
      fundApr24hProj: r.projApr,
    }));

  it('never yields NaN or ±Infinity in a feature of required inputs', () => {
    fc.assert(
      fc.property(opportunity, (op) => {
        const row = new Float32Array(FEATURE_COUNT);
        writeFeatures(op, row);
        FEATURE_NAMES.forEach((name, i) => {
          const v = row[i] ?? Number.NaN;
          if (!OPTIONAL_INPUT_FEATURES.has(name)) expect(Number.isFinite(v), `${name}=${v}`).toBe(true);
          else expect(v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY, `${name}=${v}`).toBe(false);
        });
      }),
      { numRuns: 2000, seed: 20261122 },
    );
  });

  it('makes a feature NaN only when its optional input is missing', () => {
    fc.assert(
      fc.property(opportunity, (op) => {
        const f = features(op);
        expect(Number.isNaN(f.log10_volume24h_usd)).toBe(op.volume24h === null);
        expect(Number.isNaN(f.price_spread_pct)).toBe(op.currentPriceSpreadPercent === null);
        expect(Number.isNaN(f.fund_profit_8h_24h_proj_pct)).toBe(op.fundProfit8h24hProj === null);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('is deterministic and writes only its own slots', () => {
    fc.assert(
      fc.property(opportunity, (op) => {
        const row = new Float32Array(FEATURE_COUNT * 3).fill(42);
        writeFeatures(op, row, FEATURE_COUNT);
        const again = new Float32Array(FEATURE_COUNT);
        writeFeatures(op, again);
        expect(row.subarray(0, FEATURE_COUNT).every((v) => v === 42)).toBe(true);
        expect(row.subarray(2 * FEATURE_COUNT).every((v) => v === 42)).toBe(true);
        expect(Buffer.from(row.buffer, FEATURE_COUNT * 4, FEATURE_COUNT * 4).equals(Buffer.from(again.buffer))).toBe(true);
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('refuses to write past the end of the buffer', () => {
    expect(() => writeFeatures(fixtures.referenceExample, new Float32Array(FEATURE_COUNT), 1)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
