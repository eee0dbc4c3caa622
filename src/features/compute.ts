import type { Opportunity } from '../contract/index.js';
import { BREAK_EVEN_CAP_HOURS, EXCHANGE_VOCABULARY, FEATURE_COUNT, FEATURE_INDEX, ROUND_TRIP_FEES_PERCENT } from './spec.js';
import { ScorerError } from '../errors.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const BP = 1e4;
const TWO_PI = 2 * Math.PI;
/** Settlements less than a minute apart count as simultaneous. */
const SAME_TIME_HOURS = 1 / 60;

function at(name: string): number {
  const i = FEATURE_INDEX[name];
  if (i === undefined) throw new ScorerError('INTERNAL', `feature ${name} is not in the spec`);
  return i;
}

// Resolved once: the hot path writes by fixed index.
const F = {
  longRateBp: at('long_rate_bp'),
  shortRateBp: at('short_rate_bp'),
  longHourlyBp: at('long_rate_hourly_bp'),
  shortHourlyBp: at('short_rate_hourly_bp'),
  long8hBp: at('long_rate_8h_bp'),
  short8hBp: at('short_rate_8h_bp'),
  carryHourlyBp: at('carry_hourly_bp'),
  carry8hBp: at('carry_8h_bp'),
  carryAprPct: at('carry_apr_pct'),
  carryAbs8hBp: at('carry_abs_8h_bp'),
  longSign: at('long_rate_sign'),
  shortSign: at('short_rate_sign'),
  bothEarn: at('both_legs_earn'),
  shortShare: at('short_leg_carry_share'),
  longInterval: at('long_interval_h'),
  shortInterval: at('short_interval_h'),
  intervalRatio: at('interval_ratio_log2'),
  intervalMismatch: at('interval_mismatch'),
  hoursLong: at('hours_to_long_funding'),
  hoursShort: at('hours_to_short_funding'),
  hoursNext: at('hours_to_next_payment'),
  timeGap: at('funding_time_gap_h'),
  longPhase: at('long_funding_phase'),
  shortPhase: at('short_funding_phase'),
  firstPaymentBp: at('first_payment_bp'),
  carryNext8hBp: at('carry_next_8h_bp'),
  carryNext24hBp: at('carry_next_24h_bp'),
  hourSin: at('hour_of_day_sin'),
  hourCos: at('hour_of_day_cos'),
  daySin: at('day_of_week_sin'),
  dayCos: at('day_of_week_cos'),
  logVolume: at('log10_volume24h_usd'),
  spread: at('price_spread_pct'),
  spread24h: at('price_spread_24h_avg_pct'),
  spread3d: at('price_spread_3d_avg_pct'),
  spreadVs24h: at('spread_minus_24h_avg_pct'),
  spreadVs3d: at('spread_minus_3d_avg_pct'),
  breakEvenFees: at('break_even_hours_fees'),
  breakEvenTotal: at('break_even_hours_total'),
  fundProfit8h: at('fund_profit_8h_pct'),
  fundApr: at('fund_apr_pct'),
  proj8h: at('fund_profit_8h_24h_proj_pct'),
  projApr: at('fund_apr_24h_proj_pct'),
  projMinusCurrent: at('proj_minus_current_8h_pct'),
  projRatio: at('proj_to_current_ratio'),
  consistency: at('fund_profit_consistency_pct'),
  longExchange: at(`long_exchange_${EXCHANGE_VOCABULARY[0]}`),
  shortExchange: at(`short_exchange_${EXCHANGE_VOCABULARY[0]}`),
  btcEth: at('base_is_btc_eth'),
} as const;

/**
 * Writes the feature row of `op` into `out` at `offset` (FEATURE_COUNT float32 slots). Pure, deterministic, and
 * allocation-free: the caller owns and reuses the buffer.
 */
export function writeFeatures(op: Opportunity, out: Float32Array, offset = 0): void {
  if (offset < 0 || offset + FEATURE_COUNT > out.length) throw new ScorerError('INTERNAL', `no room for ${FEATURE_COUNT} features at offset ${offset}`);
  const o = offset;
  const L = op.longFundingRate;
  const S = op.shortFundingRate;
  const Li = op.longFundingIntervalHours;
  const Si = op.shortFundingIntervalHours;
  const lh = L / Li;
  const sh = S / Si;
  const carryHourly = sh - lh;

  out[o + F.longRateBp] = L * BP;
  out[o + F.shortRateBp] = S * BP;
  out[o + F.longHourlyBp] = lh * BP;
  out[o + F.shortHourlyBp] = sh * BP;
  out[o + F.long8hBp] = lh * 8 * BP;
  out[o + F.short8hBp] = sh * 8 * BP;
  out[o + F.carryHourlyBp] = carryHourly * BP;
  out[o + F.carry8hBp] = carryHourly * 8 * BP;
  out[o + F.carryAprPct] = carryHourly * 8760 * 100;
  out[o + F.carryAbs8hBp] = Math.abs(carryHourly * 8 * BP);
  out[o + F.longSign] = Math.sign(L);
  out[o + F.shortSign] = Math.sign(S);
  out[o + F.bothEarn] = L < 0 && S > 0 ? 1 : 0;
  const magnitude = Math.abs(sh) + Math.abs(lh);
  out[o + F.shortShare] = magnitude === 0 ? 0.5 : sh / magnitude;

  out[o + F.longInterval] = Li;
  out[o + F.shortInterval] = Si;
  out[o + F.intervalRatio] = Math.log2(Si / Li);
  out[o + F.intervalMismatch] = Li === Si ? 0 : 1;

  const hL = (op.longNextFundingTime - op.detectedAt) / HOUR_MS;
  const hS = (op.shortNextFundingTime - op.detectedAt) / HOUR_MS;
  out[o + F.hoursLong] = hL;
  out[o + F.hoursShort] = hS;
  out[o + F.hoursNext] = Math.min(hL, hS);
  out[o + F.timeGap] = hS - hL;
  out[o + F.longPhase] = hL / Li;
  out[o + F.shortPhase] = hS / Si;
  out[o + F.firstPaymentBp] = firstPayment(L, S, hL, hS) * BP;
  out[o + F.carryNext8hBp] = (settlements(hS, Si, 8) * S - settlements(hL, Li, 8) * L) * BP;
  out[o + F.carryNext24hBp] = (settlements(hS, Si, 24) * S - settlements(hL, Li, 24) * L) * BP;

  const hourOfDay = (((op.detectedAt % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  // 1970-01-01 was a Thursday: (days + 3) mod 7 puts Monday at 0.
  const weekday = (((Math.floor(op.detectedAt / DAY_MS) + 3) % 7) + 7) % 7;
  out[o + F.hourSin] = Math.sin((TWO_PI * hourOfDay) / 24);
  out[o + F.hourCos] = Math.cos((TWO_PI * hourOfDay) / 24);
  out[o + F.daySin] = Math.sin((TWO_PI * weekday) / 7);
  out[o + F.dayCos] = Math.cos((TWO_PI * weekday) / 7);

  const spread = op.currentPriceSpreadPercent ?? Number.NaN;
  const spread24h = op.priceSpread24hAvg ?? Number.NaN;
  const spread3d = op.priceSpread3dAvg ?? Number.NaN;
  out[o + F.logVolume] = op.volume24h === null ? Number.NaN : Math.log10(1 + op.volume24h);
  out[o + F.spread] = spread;
  out[o + F.spread24h] = spread24h;
  out[o + F.spread3d] = spread3d;
  out[o + F.spreadVs24h] = spread - spread24h;
  out[o + F.spreadVs3d] = spread - spread3d;

  const carryHourlyPct = carryHourly * 100;
  out[o + F.breakEvenFees] = breakEvenHours(ROUND_TRIP_FEES_PERCENT, carryHourlyPct);
  out[o + F.breakEvenTotal] = Number.isNaN(spread) ? Number.NaN : breakEvenHours(ROUND_TRIP_FEES_PERCENT - spread, carryHourlyPct);

  const proj = op.fundProfit8h24hProj ?? Number.NaN;
  out[o + F.fundProfit8h] = op.fundProfit8h;
  out[o + F.fundApr] = op.fundApr;
  out[o + F.proj8h] = proj;
  out[o + F.projApr] = op.fundApr24hProj ?? Number.NaN;
  out[o + F.projMinusCurrent] = proj - op.fundProfit8h;
  out[o + F.projRatio] = clamp(proj / (Math.abs(op.fundProfit8h) + 0.001), -10, 10);
  out[o + F.consistency] = op.fundProfit8h - carryHourly * 8 * 100;

  writeExchange(out, o + F.longExchange, op.longExchange);
  writeExchange(out, o + F.shortExchange, op.shortExchange);
  out[o + F.btcEth] = isBtcOrEth(op.symbol) ? 1 : 0;
}

function firstPayment(L: number, S: number, hL: number, hS: number): number {
  if (Math.abs(hS - hL) < SAME_TIME_HOURS) return S - L;
  return hS < hL ? S : -L;
}

/** Settlements at h + k·interval (k ≥ 0) that fall in [0, window) hours; h may be slightly negative. */
function settlements(h: number, interval: number, window: number): number {
  const first = h >= 0 ? h : h + Math.ceil(-h / interval) * interval;
  if (first >= window) return 0;
  return Math.floor((window - first) / interval - 1e-9) + 1;
}

function breakEvenHours(costPercent: number, carryHourlyPercent: number): number {
  if (costPercent <= 0) return 0;
  if (carryHourlyPercent <= 0) return BREAK_EVEN_CAP_HOURS;
  return Math.min(costPercent / carryHourlyPercent, BREAK_EVEN_CAP_HOURS);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v; // NaN passes through
}

function writeExchange(out: Float32Array, start: number, exchange: string): void {
  const venue = exchange.trim().toLowerCase();
  let matched = false;
  for (let i = 0; i < EXCHANGE_VOCABULARY.length; i++) {
    const hit = EXCHANGE_VOCABULARY[i] === venue;
    out[start + i] = hit ? 1 : 0;
    matched ||= hit;
  }
  out[start + EXCHANGE_VOCABULARY.length] = matched ? 0 : 1;
}

const QUOTE_SUFFIX = /[-_/]?(USDT|USDC|USD)?([-_]?PERP)?$/;

function isBtcOrEth(symbol: string): boolean {
  const base = symbol.trim().toUpperCase().replace(QUOTE_SUFFIX, '');
  return base === 'BTC' || base === 'ETH' || base === 'XBT';
}
