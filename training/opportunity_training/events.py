"""Historical opportunities: the events a live detector would have published, using only what was known then.

For every base asset, every pair of venues and every decision time (a settlement on either venue, plus the
publication delay), the detector sees the last settled rate of each venue, the funding interval measured from the
last two settlements it has seen, the next funding time that interval implies, and, where candles exist, the last
completed hourly bar of each venue. It goes long on the venue with the lower hourly rate and short on the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .config import BASES, HOUR_MS, SimulationConfig
from .data import CandleSeries, FundingSeries

SNAP_INTERVALS = np.array([1.0, 2.0, 4.0, 8.0])
STALE_AFTER_MS = 5 * 60_000


@dataclass(frozen=True)
class PairGrid:
    """Decision times of one base and venue pair (venues `a` < `b` by name) and what was known at each."""

    base: str
    a: str
    b: str
    t: np.ndarray  # decision times (ms)
    idx_a: np.ndarray  # index of the last settlement of `a` known at t
    idx_b: np.ndarray
    hourly_a: np.ndarray  # last known rate / measured interval (fraction per hour)
    hourly_b: np.ndarray
    interval_a: np.ndarray  # hours
    interval_b: np.ndarray

    @property
    def diff(self) -> np.ndarray:
        """Carry per hour of long a / short b (negative: the other orientation earns)."""
        return self.hourly_b - self.hourly_a


def round_to_hour(ms: np.ndarray) -> np.ndarray:
    return ((ms + HOUR_MS // 2) // HOUR_MS) * HOUR_MS


def cumulative_at(series: FundingSeries, times: np.ndarray) -> np.ndarray:
    """Sum of the rates settled at or before each time (0 before the first settlement)."""
    idx = np.searchsorted(series.ts, times, side="right") - 1
    return np.where(idx >= 0, series.cumulative[np.maximum(idx, 0)], 0.0)


def measured_interval(series: FundingSeries, idx: np.ndarray) -> np.ndarray:
    """Interval (hours) from the gap between settlement idx-1 and idx, snapped to 1/2/4/8 h: past data only."""
    gap_h = (series.ts[idx] - series.ts[idx - 1]) / HOUR_MS
    choice = np.abs(np.log2(np.maximum(gap_h, 1e-6))[:, None] - np.log2(SNAP_INTERVALS)[None, :]).argmin(axis=1)
    return SNAP_INTERVALS[choice]


def pair_grid(base: str, a: str, b: str, sa: FundingSeries, sb: FundingSeries, sim: SimulationConfig) -> PairGrid:
    # One decision per settlement minute of either venue (two venues settling together make one decision).
    minutes = np.unique(np.concatenate([sa.ts, sb.ts]) // 60_000 * 60_000)
    t = minutes + sim.publish_delay_ms
    idx_a = np.searchsorted(sa.ts, t, side="right") - 1
    idx_b = np.searchsorted(sb.ts, t, side="right") - 1
    keep = (idx_a >= 1) & (idx_b >= 1)  # an interval needs two past settlements
    t, idx_a, idx_b = t[keep], idx_a[keep], idx_b[keep]
    interval_a = measured_interval(sa, idx_a)
    interval_b = measured_interval(sb, idx_b)
    return PairGrid(
        base=base,
        a=a,
        b=b,
        t=t,
        idx_a=idx_a,
        idx_b=idx_b,
        hourly_a=sa.rate[idx_a] / interval_a,
        hourly_b=sb.rate[idx_b] / interval_b,
        interval_a=interval_a,
        interval_b=interval_b,
    )


@dataclass(frozen=True)
class PriceView:
    """What the detector knows of prices at each decision time, for long a / short b (NaN where unknown)."""

    spread_pct: np.ndarray
    spread_24h_pct: np.ndarray
    spread_3d_pct: np.ndarray
    volume24h_usd: np.ndarray


def price_view(t: np.ndarray, ca: CandleSeries | None, cb: CandleSeries | None) -> PriceView:
    nan = np.full(t.shape, np.nan)
    if ca is None or cb is None:
        return PriceView(nan, nan, nan, nan.copy())
    hours, ia, ib = np.intersect1d(ca.open_ms, cb.open_ms, return_indices=True)
    pa, pb = ca.close[ia], cb.close[ib]
    spread = (pb - pa) / ((pa + pb) / 2) * 100  # short (b) priced above long (a) is positive
    # The last bar that has closed by t: open <= t - 1 h; it must be the bar just before t (no stale prices).
    k = np.searchsorted(hours, t - HOUR_MS, side="right") - 1
    fresh = (k >= 0) & (hours[np.maximum(k, 0)] >= (t // HOUR_MS) * HOUR_MS - HOUR_MS)

    def trailing(values: np.ndarray, n: int, how: str) -> np.ndarray:
        csum = np.concatenate([[0.0], np.cumsum(values)])
        kk = np.maximum(k, 0)
        start = kk - n + 1
        # Only windows of n consecutive hours count.
        ok = fresh & (start >= 0) & (hours[kk] - hours[np.maximum(start, 0)] == (n - 1) * HOUR_MS)
        total = csum[kk + 1] - csum[np.maximum(start, 0)]
        out = total / n if how == "mean" else total
        return np.where(ok, out, np.nan)

    vol = np.minimum(trailing(ca.notional_usd[ia], 24, "sum"), trailing(cb.notional_usd[ib], 24, "sum"))
    return PriceView(
        spread_pct=np.where(fresh, spread[np.maximum(k, 0)], np.nan),
        spread_24h_pct=trailing(spread, 24, "mean"),
        spread_3d_pct=trailing(spread, 72, "mean"),
        volume24h_usd=vol,
    )


def trailing_hourly_mean(series: FundingSeries, t: np.ndarray, hours: float) -> np.ndarray:
    """Mean realised funding per hour over (t - hours, t]; NaN where the history is shorter than the window."""
    start = t - int(hours * HOUR_MS)
    mean = (cumulative_at(series, t) - cumulative_at(series, start)) / hours
    return np.where(series.ts[0] <= start, mean, np.nan)


def pairs(funding: dict[tuple[str, str], FundingSeries]):
    """(base, a, b) for every base and pair of venues that both list it, a < b."""
    for base in BASES:
        venues = sorted(v for (v, b) in funding if b == base)
        for a, b in combinations(venues, 2):
            yield base, a, b


def opportunity_events(
    grid: PairGrid,
    sa: FundingSeries,
    sb: FundingSeries,
    prices: PriceView,
    sim: SimulationConfig,
) -> tuple[np.ndarray, list[dict]]:
    """The events of one pair, as opportunity.avsc JSON dicts, and the grid positions they came from.
    Decisions whose carry is below the publication threshold publish nothing, and neither do decisions on stale state: when a
    venue's next settlement is overdue by more than STALE_AFTER_MS, a settlement is missing from what the detector
    has seen (a data gap, a delisting), and a live detector would not trust its rates."""
    d = grid.diff
    next_a = round_to_hour(sa.ts[grid.idx_a]) + (grid.interval_a * HOUR_MS).astype(np.int64)
    next_b = round_to_hour(sb.ts[grid.idx_b]) + (grid.interval_b * HOUR_MS).astype(np.int64)
    fresh = (next_a >= grid.t - STALE_AFTER_MS) & (next_b >= grid.t - STALE_AFTER_MS)
    worth = np.abs(d) * 8760 * 100 >= sim.publish_min_apr_percent
    positions = np.nonzero((d != 0) & fresh & worth)[0]
    proj_a = trailing_hourly_mean(sa, grid.t, 24)
    proj_b = trailing_hourly_mean(sb, grid.t, 24)
    events: list[dict] = []
    for k in positions:
        s = 1 if d[k] > 0 else -1  # +1: long a, short b
        long_v, short_v = (grid.a, grid.b) if s > 0 else (grid.b, grid.a)
        rate_a, rate_b = float(sa.rate[grid.idx_a[k]]), float(sb.rate[grid.idx_b[k]])
        fund8h = abs(float(d[k])) * 8 * 100
        proj = s * (proj_b[k] - proj_a[k]) * 8 * 100
        t = int(grid.t[k])
        ev = {
            "id": f"{grid.base}-{long_v}-{short_v}-{t}",
            "symbol": f"{grid.base}USDT",
            "longExchange": long_v,
            "shortExchange": short_v,
            "longFundingRate": rate_a if s > 0 else rate_b,
            "shortFundingRate": rate_b if s > 0 else rate_a,
            "longFundingIntervalHours": float(grid.interval_a[k] if s > 0 else grid.interval_b[k]),
            "shortFundingIntervalHours": float(grid.interval_b[k] if s > 0 else grid.interval_a[k]),
            "longNextFundingTime": int(next_a[k] if s > 0 else next_b[k]),
            "shortNextFundingTime": int(next_b[k] if s > 0 else next_a[k]),
            "detectedAt": t,
            "fundProfit8h": fund8h,
            "fundApr": fund8h * 3 * 365,
            "volume24h": _opt(prices.volume24h_usd[k]),
            "currentPriceSpreadPercent": _opt(s * prices.spread_pct[k]),
            "fundProfit8h24hProj": _opt(proj),
            "fundApr24hProj": _opt(proj * 3 * 365),
            "priceSpread24hAvg": _opt(s * prices.spread_24h_pct[k]),
            "priceSpread3dAvg": _opt(s * prices.spread_3d_pct[k]),
        }
        events.append(ev)
    return positions, events


def _opt(x: float) -> float | None:
    return None if np.isnan(x) else float(x)
