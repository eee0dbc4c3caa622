"""No event field may depend on anything after its detectedAt: cutting the history there changes nothing."""
import numpy as np

from opportunity_training.config import HOUR_MS, SimulationConfig
from opportunity_training.data import CandleSeries, FundingSeries
from opportunity_training.events import opportunity_events, pair_grid, price_view

RNG = np.random.default_rng(1)
T0 = 1_767_225_600_000
SIM = SimulationConfig(publish_min_apr_percent=0.0)


def random_series(step_hours: float, n: int) -> FundingSeries:
    ts = T0 + (np.arange(n) * step_hours * HOUR_MS).astype(np.int64) + RNG.integers(0, 50, n)
    rate = RNG.normal(0, 2e-4, n)
    return FundingSeries(ts=ts, rate=rate, cumulative=np.cumsum(rate))


def random_candles(n_hours: int) -> CandleSeries:
    opens = T0 - 72 * HOUR_MS + np.arange(n_hours) * HOUR_MS
    close = 100 * np.exp(np.cumsum(RNG.normal(0, 1e-3, n_hours)))
    return CandleSeries(open_ms=opens, close=close, notional_usd=RNG.uniform(1e5, 1e7, n_hours))


def cut(s: FundingSeries, t: int) -> FundingSeries:
    keep = s.ts <= t
    return FundingSeries(ts=s.ts[keep], rate=s.rate[keep], cumulative=s.cumulative[keep])


def cut_candles(c: CandleSeries, t: int) -> CandleSeries:
    keep = c.open_ms + HOUR_MS <= t  # bars that have closed by t
    return CandleSeries(open_ms=c.open_ms[keep], close=c.close[keep], notional_usd=c.notional_usd[keep])


def events_of(sa, sb, ca, cb):
    grid = pair_grid("ETH", "a", "b", sa, sb, SIM)
    _, events = opportunity_events(grid, sa, sb, price_view(grid.t, ca, cb), SIM)
    return {e["id"]: e for e in events}


def test_events_do_not_change_when_the_future_is_removed():
    sa, sb = random_series(1, 24 * 12), random_series(8, 3 * 12)
    ca, cb = random_candles(24 * 15), random_candles(24 * 15)
    full = events_of(sa, sb, ca, cb)
    assert len(full) > 100
    for e in list(full.values())[::37]:
        t = e["detectedAt"]
        past_only = events_of(cut(sa, t), cut(sb, t), cut_candles(ca, t), cut_candles(cb, t))
        assert past_only[e["id"]] == e
