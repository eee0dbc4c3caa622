"""Labels by simulation: what entering each opportunity at detectedAt actually earned.

The trade: long the lower-rate venue, short the higher-rate venue, equal notional N, entered at detectedAt.
It accrues the settled funding of both legs (the long leg pays its rate, the short leg receives its rate at each
of its settlements), pays taker fees on entry and exit of both legs, and, where hourly candles exist for both
venues, gains or loses the price moves of the two legs (filled at the close of the hourly bar containing the entry
and the exit time; elsewhere the price PnL is taken as 0 and `labelPricesKnown` is 0).

Exit rule (decided with no hindsight): at every later decision time of the pair (each settlement on either venue,
plus the publication delay) the trader looks at the then-known carry of the position; the first time it is below
`exit_carry_bp_per_hour` the position is closed, and in any case when it has been held `max_hold_hours`.

Labels, all in one place:
  labelProfitPercent  = 100 x (funding received - funding paid) / N + price PnL % - round-trip fees %
  labelSuccess        = 1 if labelProfitPercent > 0 else 0
  labelDurationHours  = hours from entry to that exit
Events whose exit lies beyond the end of either venue's history are censored (dropped).
"""
from __future__ import annotations

import numpy as np

from .config import HOUR_MS, SimulationConfig
from .data import CandleSeries, FundingSeries
from .events import PairGrid, cumulative_at


def next_true(mask: np.ndarray) -> np.ndarray:
    """For each i, the smallest j > i with mask[j], or len(mask) when there is none."""
    hits = np.nonzero(mask)[0]
    if len(hits) == 0:
        return np.full(len(mask), len(mask))
    pos = np.searchsorted(hits, np.arange(len(mask)), side="right")
    return np.where(pos < len(hits), hits[np.minimum(pos, len(hits) - 1)], len(mask))


def bar_close_at(c: CandleSeries, times: np.ndarray) -> np.ndarray:
    """Close of the hourly bar containing each time (NaN where there is no such bar)."""
    opens = (times // HOUR_MS) * HOUR_MS
    k = np.searchsorted(c.open_ms, opens)
    found = (k < len(c.open_ms)) & (c.open_ms[np.minimum(k, len(c.open_ms) - 1)] == opens)
    return np.where(found, c.close[np.minimum(k, len(c.open_ms) - 1)], np.nan)


def simulate(
    grid: PairGrid,
    positions: np.ndarray,
    sa: FundingSeries,
    sb: FundingSeries,
    ca: CandleSeries | None,
    cb: CandleSeries | None,
    sim: SimulationConfig,
) -> dict[str, np.ndarray]:
    """Labels for the events at `positions` of `grid`; `valid` marks the uncensored ones."""
    d = grid.diff
    threshold = sim.exit_carry_bp_per_hour / 1e4
    max_hold_ms = int(sim.max_hold_hours * HOUR_MS)
    # Carry of long a/short b below the threshold, and of long b/short a (= -d) below it.
    exit_if_long_a = next_true(d < threshold)
    exit_if_long_b = next_true(-d < threshold)

    t0 = grid.t[positions]
    s = np.where(d[positions] > 0, 1, -1)
    j = np.where(s > 0, exit_if_long_a[positions], exit_if_long_b[positions])
    rule_exit = np.where(j < len(grid.t), grid.t[np.minimum(j, len(grid.t) - 1)], np.iinfo(np.int64).max)
    exit_t = np.minimum(rule_exit, t0 + max_hold_ms)

    data_end = min(sa.ts[-1], sb.ts[-1])
    valid = exit_t <= data_end

    funding = s * ((cumulative_at(sb, exit_t) - cumulative_at(sb, t0)) - (cumulative_at(sa, exit_t) - cumulative_at(sa, t0)))
    price_pct = np.zeros(len(positions))
    prices_known = np.zeros(len(positions), dtype=np.int8)
    if ca is not None and cb is not None:
        a0, a1 = bar_close_at(ca, t0), bar_close_at(ca, exit_t)
        b0, b1 = bar_close_at(cb, t0), bar_close_at(cb, exit_t)
        # Long a / short b: (a1 - a0) / a0 + (b0 - b1) / b0; the other orientation mirrors it.
        pnl_long_a = (a1 - a0) / a0 + (b0 - b1) / b0
        pnl_long_b = (b1 - b0) / b0 + (a0 - a1) / a0
        pnl = np.where(s > 0, pnl_long_a, pnl_long_b) * 100
        known = ~np.isnan(pnl)
        price_pct = np.where(known, pnl, 0.0)
        prices_known = known.astype(np.int8)

    profit = funding * 100 + price_pct - sim.round_trip_fee_percent
    return {
        "valid": valid,
        "labelProfitPercent": profit,
        "labelSuccess": (profit > 0).astype(np.int8),
        "labelDurationHours": (exit_t - t0) / HOUR_MS,
        "labelPricesKnown": prices_known,
    }
