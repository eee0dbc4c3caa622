import { createHash } from 'node:crypto';

/**
 * The feature spec: the only definition of the model inputs in the project. Training calls it through
 * `opportunity-scorer features`, serving calls `writeFeatures`; both read this list.
 *
 * Notation: L, S = long/short funding rate (fraction per own interval); Li, Si = long/short interval (hours);
 * hL, hS = hours from detectedAt to the long/short next funding time; bp = 1e-4 of notional.
 * "NaN" marks features that are missing (XGBoost's missing value) when an optional input is null.
 */
export interface FeatureDef {
  readonly name: string;
  readonly unit: string;
  readonly formula: string;
}

/** Bumped whenever a feature is added, removed, reordered or its formula changes. */
export const FEATURE_SPEC_VERSION = 1;

/** Round-trip taker fees assumed by the cost features: 0.05 % per leg per side, 2 legs, entry and exit. */
export const ROUND_TRIP_FEES_PERCENT = 0.2;
/** Break-even horizons are capped here (hours): a carry that never pays back reads as "very long". */
export const BREAK_EVEN_CAP_HOURS = 10_000;
/** Exchanges with an identity feature; every other venue is "other". */
export const EXCHANGE_VOCABULARY = ['binance', 'bybit', 'hyperliquid', 'okx'] as const;

const exchangeFeatures = (leg: 'long' | 'short'): FeatureDef[] => [
  ...EXCHANGE_VOCABULARY.map((venue) => ({
    name: `${leg}_exchange_${venue}`,
    unit: '0/1',
    formula: `1 if ${leg}Exchange (case-insensitive) is ${venue}`,
  })),
  { name: `${leg}_exchange_other`, unit: '0/1', formula: `1 if ${leg}Exchange is none of ${EXCHANGE_VOCABULARY.join(', ')}` },
];

export const FEATURES: readonly FeatureDef[] = [
  { name: 'long_rate_bp', unit: 'bp per long interval', formula: 'L × 1e4' },
  { name: 'short_rate_bp', unit: 'bp per short interval', formula: 'S × 1e4' },
  { name: 'long_rate_hourly_bp', unit: 'bp/h', formula: 'L / Li × 1e4' },
  { name: 'short_rate_hourly_bp', unit: 'bp/h', formula: 'S / Si × 1e4' },
  { name: 'long_rate_8h_bp', unit: 'bp/8h', formula: 'L / Li × 8 × 1e4' },
  { name: 'short_rate_8h_bp', unit: 'bp/8h', formula: 'S / Si × 8 × 1e4' },
  { name: 'carry_hourly_bp', unit: 'bp/h', formula: '(S / Si − L / Li) × 1e4: what the hedged position earns per hour' },
  { name: 'carry_8h_bp', unit: 'bp/8h', formula: 'carry_hourly_bp × 8' },
  { name: 'carry_apr_pct', unit: '%/year', formula: '(S / Si − L / Li) × 8760 × 100' },
  { name: 'carry_abs_8h_bp', unit: 'bp/8h', formula: '|carry_8h_bp|' },
  { name: 'long_rate_sign', unit: '−1/0/1', formula: 'sign(L)' },
  { name: 'short_rate_sign', unit: '−1/0/1', formula: 'sign(S)' },
  { name: 'both_legs_earn', unit: '0/1', formula: '1 if L < 0 and S > 0 (both legs receive funding)' },
  {
    name: 'short_leg_carry_share',
    unit: 'fraction',
    formula: '(S / Si) / (|S / Si| + |L / Li|); 0.5 when both rates are 0',
  },
  { name: 'long_interval_h', unit: 'h', formula: 'Li' },
  { name: 'short_interval_h', unit: 'h', formula: 'Si' },
  { name: 'interval_ratio_log2', unit: 'log2', formula: 'log2(Si / Li)' },
  { name: 'interval_mismatch', unit: '0/1', formula: '1 if Li ≠ Si' },
  { name: 'hours_to_long_funding', unit: 'h', formula: 'hL = (longNextFundingTime − detectedAt) / 3.6e6' },
  { name: 'hours_to_short_funding', unit: 'h', formula: 'hS = (shortNextFundingTime − detectedAt) / 3.6e6' },
  { name: 'hours_to_next_payment', unit: 'h', formula: 'min(hL, hS)' },
  { name: 'funding_time_gap_h', unit: 'h', formula: 'hS − hL' },
  { name: 'long_funding_phase', unit: 'fraction', formula: 'hL / Li (share of the long interval still to run)' },
  { name: 'short_funding_phase', unit: 'fraction', formula: 'hS / Si' },
  {
    name: 'first_payment_bp',
    unit: 'bp',
    formula: 'cash flow at the next settlement: S × 1e4 if the short venue settles first, −L × 1e4 if the long one does, (S − L) × 1e4 if both settle within a minute',
  },
  {
    name: 'carry_next_8h_bp',
    unit: 'bp',
    formula: 'nS × S − nL × L (× 1e4), nX = settlements of venue X in [detectedAt, detectedAt + 8 h) at hX + k·Xi, current rates held',
  },
  { name: 'carry_next_24h_bp', unit: 'bp', formula: 'as carry_next_8h_bp over [detectedAt, detectedAt + 24 h)' },
  { name: 'hour_of_day_sin', unit: '−1…1', formula: 'sin(2π × UTC hour-of-day of detectedAt (fractional) / 24)' },
  { name: 'hour_of_day_cos', unit: '−1…1', formula: 'cos(2π × UTC hour-of-day / 24)' },
  { name: 'day_of_week_sin', unit: '−1…1', formula: 'sin(2π × UTC weekday (Monday = 0) / 7)' },
  { name: 'day_of_week_cos', unit: '−1…1', formula: 'cos(2π × UTC weekday / 7)' },
  { name: 'log10_volume24h_usd', unit: 'log10 USD', formula: 'log10(1 + volume24h); NaN if volume24h is null' },
  { name: 'price_spread_pct', unit: '%', formula: 'currentPriceSpreadPercent; NaN if null' },
  { name: 'price_spread_24h_avg_pct', unit: '%', formula: 'priceSpread24hAvg; NaN if null' },
  { name: 'price_spread_3d_avg_pct', unit: '%', formula: 'priceSpread3dAvg; NaN if null' },
  { name: 'spread_minus_24h_avg_pct', unit: '%', formula: 'currentPriceSpreadPercent − priceSpread24hAvg; NaN if either is null' },
  { name: 'spread_minus_3d_avg_pct', unit: '%', formula: 'currentPriceSpreadPercent − priceSpread3dAvg; NaN if either is null' },
  {
    name: 'break_even_hours_fees',
    unit: 'h',
    formula: `${ROUND_TRIP_FEES_PERCENT} % round-trip fees / (carry_hourly_bp / 100), in [0, ${BREAK_EVEN_CAP_HOURS}]; the cap when the carry is ≤ 0`,
  },
  {
    name: 'break_even_hours_total',
    unit: 'h',
    formula: `(${ROUND_TRIP_FEES_PERCENT} − currentPriceSpreadPercent) / (carry_hourly_bp / 100), in [0, ${BREAK_EVEN_CAP_HOURS}]: a positive spread (short leg priced above long) is gained at convergence; NaN if the spread is null`,
  },
  { name: 'fund_profit_8h_pct', unit: '%/8h', formula: 'fundProfit8h' },
  { name: 'fund_apr_pct', unit: '%/year', formula: 'fundApr' },
  { name: 'fund_profit_8h_24h_proj_pct', unit: '%/8h', formula: 'fundProfit8h24hProj; NaN if null' },
  { name: 'fund_apr_24h_proj_pct', unit: '%/year', formula: 'fundApr24hProj; NaN if null' },
  { name: 'proj_minus_current_8h_pct', unit: '%/8h', formula: 'fundProfit8h24hProj − fundProfit8h; NaN if the projection is null' },
  {
    name: 'proj_to_current_ratio',
    unit: 'ratio',
    formula: 'fundProfit8h24hProj / (|fundProfit8h| + 0.001), clamped to [−10, 10]; NaN if the projection is null',
  },
  {
    name: 'fund_profit_consistency_pct',
    unit: '%/8h',
    formula: 'fundProfit8h − carry_8h_bp / 100 (0 when the producer computes fundProfit8h as documented)',
  },
  ...exchangeFeatures('long'),
  ...exchangeFeatures('short'),
  { name: 'base_is_btc_eth', unit: '0/1', formula: '1 if the base asset of symbol (quote suffix USDT/USDC/USD and -PERP removed) is BTC or ETH' },
];

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);
export const FEATURE_COUNT = FEATURES.length;

/** sha256 over the spec version and the ordered names: models record it, the engine refuses a mismatch. */
export const FEATURE_HASH: string = createHash('sha256')
  .update(`opportunity-features/v${FEATURE_SPEC_VERSION}\n${FEATURE_NAMES.join('\n')}`)
  .digest('hex');

/** Index of every feature by name, for code that writes or reads a row. */
export const FEATURE_INDEX: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])));

/** The names of features that may legitimately be NaN (they derive from optional inputs). */
export const OPTIONAL_INPUT_FEATURES: ReadonlySet<string> = new Set([
  'log10_volume24h_usd',
  'price_spread_pct',
  'price_spread_24h_avg_pct',
  'price_spread_3d_avg_pct',
  'spread_minus_24h_avg_pct',
  'spread_minus_3d_avg_pct',
  'break_even_hours_total',
  'fund_profit_8h_24h_proj_pct',
  'fund_apr_24h_proj_pct',
  'proj_minus_current_8h_pct',
  'proj_to_current_ratio',
]);

/** Renders docs/features.md from the spec (a test keeps the committed file in step). */
export function renderFeatureDoc(): string {
  const rows = FEATURES.map((f, i) => `| ${i} | \`${f.name}\` | ${f.unit} | ${f.formula.replace(/\|/g, '\\|')} |`);
  return [
    '# Features',
    '',
    `Generated from \`src/features/spec.ts\` (\`npm run docs:features\`). Spec version ${FEATURE_SPEC_VERSION}, ${FEATURE_COUNT} features,`,
    `hash \`${FEATURE_HASH}\` (sha256 of the version and the ordered names; a model bundle records it and the engine refuses a mismatch).`,
    '',
    'Notation: L, S = long/short funding rate (fraction per own interval); Li, Si = long/short funding interval (hours);',
    'hL, hS = hours from detectedAt to the long/short next funding time; bp = 1e-4 of notional. Every feature is float32.',
    'Missing optional inputs give NaN (XGBoost\'s missing value), never 0; features of required inputs are never NaN.',
    '',
    '| # | name | unit | formula |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
