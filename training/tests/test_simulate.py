"""Hand-computed labels on a tiny synthetic history."""
import numpy as np
import pytest

from opportunity_training.config import HOUR_MS, SimulationConfig
from opportunity_training.data import CandleSeries, FundingSeries
from opportunity_training.events import opportunity_events, pair_grid, price_view
from opportunity_training.simulate import next_true, simulate

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def series(hours, rates):
    ts = np.array([T0 + int(h * HOUR_MS) for h in hours], dtype=np.int64)
    rate = np.array(rates, dtype=np.float64)
    return FundingSeries(ts=ts, rate=rate, cumulative=np.cumsum(rate))


SIM = SimulationConfig(publish_min_apr_percent=0.0, exit_carry_bp_per_hour=0.0, max_hold_hours=24)


def run(sa, sb, ca=None, cb=None, sim=SIM):
    grid = pair_grid("BTC", "a", "b", sa, sb, sim)
    positions, events = opportunity_events(grid, sa, sb, price_view(grid.t, ca, cb), sim)
    return grid, positions, events, simulate(grid, positions, sa, sb, ca, cb, sim)


def test_next_true():
    assert next_true(np.array([False, True, False, True])).tolist() == [1, 3, 3, 4]
    assert next_true(np.array([False, False])).tolist() == [2, 2]


def test_funding_and_fees_on_a_flat_carry_held_to_the_cap():
    # Venue a: 8 h interval, pays -1 bp (longs receive); venue b: 8 h, +3 bp. Long a / short b earns 4 bp per 8 h.
    sa = series(range(0, 80, 8), [-0.0001] * 10)
    sb = series(range(0, 80, 8), [0.0003] * 10)
    grid, positions, events, labels = run(sa, sb)
    first = events[0]
    assert (first["longExchange"], first["shortExchange"]) == ("a", "b")
    assert first["detectedAt"] == T0 + 8 * HOUR_MS + 60_000  # second settlement: the first with a measured interval
    assert first["fundProfit8h"] == pytest.approx(0.04)
    # Held 24 h (the cap): settlements at +16 h, +24 h, +32 h after T0 fall in (entry, entry + 24 h].
    # Funding: 3 x (0.0003 + 0.0001) = 0.0012 -> 0.12 %; fees 4 x 0.05 % = 0.2 %; no prices -> -0.08 %.
    assert labels["labelProfitPercent"][0] == pytest.approx(0.12 - 0.2)
    assert labels["labelDurationHours"][0] == pytest.approx(24)
    assert labels["labelSuccess"][0] == 0
    assert labels["labelPricesKnown"][0] == 0


def test_the_exit_rule_leaves_when_the_known_carry_turns():
    # b's rate flips sign at the +32 h settlement. Entry after the +8 h settlement; the decision after +32 h is
    # the first to see the flipped carry and exits there, having collected the +16 h, +24 h and +32 h settlements.
    sa = series(range(0, 80, 8), [0.0] * 10)
    sb = series(range(0, 80, 8), [0.001, 0.001, 0.001, 0.001, -0.001, -0.001, -0.001, -0.001, -0.001, -0.001])
    sim = SimulationConfig(publish_min_apr_percent=0.0, exit_carry_bp_per_hour=0.0, max_hold_hours=168)
    _, _, events, labels = run(sa, sb, sim=sim)
    assert events[0]["detectedAt"] == T0 + 8 * HOUR_MS + 60_000
    assert labels["labelDurationHours"][0] == pytest.approx(24 - 8 + 8)  # exits at the +32 h decision (first flipped rate)
    # Collected: +16 h, +24 h at +0.1 %; +32 h at -0.1 % (known only once paid) -> 0.1 %; minus 0.2 % fees.
    assert labels["labelProfitPercent"][0] == pytest.approx(0.1 - 0.2)


def test_price_pnl_of_both_legs_where_candles_exist():
    sa = series(range(0, 80, 8), [-0.0001] * 10)
    sb = series(range(0, 80, 8), [0.0003] * 10)
    hours = np.arange(-24, 80)
    opens = T0 + hours * HOUR_MS
    # a (long) rises 1 % over the hold; b (short) rises 0.5 %: long gains 1 %, short loses 0.5 %.
    close_a = np.where(hours < 32, 100.0, 101.0)
    close_b = np.where(hours < 32, 100.0, 100.5)
    ca = CandleSeries(open_ms=opens, close=close_a, notional_usd=np.full(len(hours), 1e6))
    cb = CandleSeries(open_ms=opens, close=close_b, notional_usd=np.full(len(hours), 2e6))
    _, _, events, labels = run(sa, sb, ca, cb)
    assert labels["labelPricesKnown"][0] == 1
    assert labels["labelProfitPercent"][0] == pytest.approx(0.12 + 1.0 - 0.5 - 0.2)
    # The detector saw prices: spread 0, 24 h of volume on the thinner venue.
    assert events[0]["currentPriceSpreadPercent"] == pytest.approx(0.0)
    assert events[0]["volume24h"] == pytest.approx(24e6)


def test_censored_events_are_dropped():
    sa = series(range(0, 40, 8), [-0.0001] * 5)
    sb = series(range(0, 40, 8), [0.0003] * 5)
    _, _, events, labels = run(sa, sb)
    ends = [e["detectedAt"] + 24 * HOUR_MS for e in events]
    assert labels["valid"].tolist() == [end <= sa.ts[-1] for end in ends]
